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
        diag.error(
          { chapter: block.chapter, line: block.line },
          {
            reason: `Unexpected include of \`${block.target}\`, which does not exist or cannot be read`,
            ruleId: 'missing-include',
            hint: 'check the path; it is relative to the repository root',
          },
        );
        continue;
      }
      const region = cutRegion(text, block.region);
      if (region === undefined) {
        diag.error(
          { chapter: block.chapter, line: block.line },
          {
            reason: `Unexpected region \`${block.region}\`, which \`${block.target}\` does not mark with \`region: ${block.region}\` … \`endregion: ${block.region}\``,
            ruleId: 'missing-region',
            hint: `add the two marker comments to ${block.target} or correct the region name`,
          },
        );
        continue;
      }
      (block as Block).value = region;
    }
  }
}

export interface RegionLines {
  start: number;
  end: number;
}

/**
 * First and last line (1-based) of the region's body (the lines strictly between its markers), the whole file when
 * `region` is undefined, or undefined when either marker is missing. The site numbers include blocks with these.
 */
export function regionLines(text: string, region: string | undefined): RegionLines | undefined {
  const lines = text.replace(/\n$/, '').split('\n');
  if (region === undefined) return { start: 1, end: lines.length };
  let start: number | undefined;
  for (const [i, line] of lines.entries()) {
    const marker = MARKER.exec(line);
    if (!marker || marker[2] !== region) continue;
    if (marker[1] === 'region' && start === undefined) start = i + 2;
    else if (marker[1] === 'endregion' && start !== undefined) return { start, end: i };
  }
  return undefined;
}

/** The text of the region's body (or of the whole file), or undefined when either marker is missing. */
export function cutRegion(text: string, region: string | undefined): string | undefined {
  const at = regionLines(text, region);
  return (
    at &&
    text
      .replace(/\n$/, '')
      .split('\n')
      .slice(at.start - 1, at.end)
      .join('\n')
  );
}
