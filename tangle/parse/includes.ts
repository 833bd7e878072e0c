// Resolve include blocks: read the hand-written file and cut out the marked region, e.g.
//   // region: dispatch        (any comment leader: //, #, ;;, --, /* */, <!-- -->)
//   ...
//   // endregion: dispatch
// The region text becomes the block's value so the site shows it; a missing file or region is
// an error in the chapter that asks for it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Block, Book } from './model.js';
import type { Diagnostics } from '../diag/diagnostics.js';

const MARKER = /^\s*(?:\/\/+|#+|;;+|--|\/\*|<!--)\s*(region|endregion):\s*(.+?)\s*(?:\*\/|-->)?\s*$/;

export async function resolveIncludes(book: Book, diag: Diagnostics): Promise<void> {
  const cache = new Map<string, Promise<string | undefined>>();
  const read = (path: string) => {
    let text = cache.get(path);
    if (!text) {
      text = readFile(join(book.root, path), 'utf8').catch(() => undefined);
      cache.set(path, text);
    }
    return text;
  };
  for (const chapter of book.chapters) {
    for (const block of chapter.blocks) {
      if (block.kind !== 'include' || block.target === undefined) continue;
      const text = await read(block.target);
      if (text === undefined) {
        diag.error({ chapter: block.chapter, line: block.line }, { reason: `Unexpected include of \`${block.target}\`, which does not exist or cannot be read`, ruleId: 'missing-include', hint: 'check the path; it is relative to the repository root' });
        continue;
      }
      const region = block.region === undefined ? text.replace(/\n$/, '') : cutRegion(text, block.region);
      if (region === undefined) {
        diag.error({ chapter: block.chapter, line: block.line }, { reason: `Unexpected region \`${block.region}\`, which \`${block.target}\` does not mark with \`region: ${block.region}\` … \`endregion: ${block.region}\``, ruleId: 'missing-region', hint: `add the two marker comments to ${block.target} or correct the region name` });
        continue;
      }
      (block as Block).value = region;
    }
  }
}

/** The lines strictly between the region's markers, or undefined when either marker is missing. */
export function cutRegion(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!);
    if (!marker || marker[2] !== name) continue;
    if (marker[1] === 'region' && start < 0) start = i;
    else if (marker[1] === 'endregion' && start >= 0) return lines.slice(start + 1, i).join('\n');
  }
  return undefined;
}
