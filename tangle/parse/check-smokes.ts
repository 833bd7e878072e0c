// Book-level smoke checks: names are unique across the book, each smoke boots a manifest that a
// file block produces, and each chapter's `smokes:` front matter lists exactly its smoke blocks.
import type { Book, Chapter, SmokeBlock } from './model.js';
import type { Diagnostics } from '../diag/diagnostics.js';

export function checkSmokes(book: Book, diag: Diagnostics, metaValid: (chapter: Chapter) => boolean): void {
  const produced = new Set<string>();
  for (const chapter of book.chapters) for (const block of chapter.blocks) if (block.kind === 'file' && block.target) produced.add(block.target);

  const first = new Map<string, { chapter: string; line: number }>();
  for (const chapter of book.chapters) {
    for (const smoke of chapter.smokes) {
      const earlier = first.get(smoke.name);
      if (earlier) {
        diag.error(
          { chapter: chapter.path, line: smoke.line },
          {
            reason: `Unexpected second smoke named \`${smoke.name}\`, first defined at ${earlier.chapter}:${earlier.line}`,
            ruleId: 'duplicate-smoke',
            hint: 'give each smoke its own name',
            cause: { ...earlier, reason: 'first defined here' },
          },
        );
      } else first.set(smoke.name, { chapter: chapter.path, line: smoke.line });
      for (const [manifest, line] of [[smoke.manifest, smoke.line] as const, ...(smoke.boots ?? []).map((b) => [b.manifest, b.line] as const)]) {
        if (produced.has(manifest)) continue;
        diag.error(
          { chapter: chapter.path, line },
          {
            reason: `Unexpected manifest \`${manifest}\`, which no file block produces`,
            ruleId: 'missing-manifest',
            hint: `add a block with \`file=${manifest}\` or correct the manifest name`,
          },
        );
      }
    }
    if (!metaValid(chapter)) continue;
    const listedLine = smokesKeyLine(chapter.source);
    // Smoke blocks, not parsed specs: a malformed smoke is reported once, not also as missing.
    const blocks = chapter.blocks.filter((b): b is SmokeBlock => b.kind === 'smoke');
    const defined = new Set(blocks.map((b) => b.target));
    const listed = new Set(chapter.meta.smokes);
    for (const name of chapter.meta.smokes) {
      if (!defined.has(name))
        diag.error(
          { chapter: chapter.path, line: listedLine },
          {
            reason: `Unexpected smoke \`${name}\` in \`smokes:\`, which this chapter has no smoke block for`,
            ruleId: 'smoke-not-defined',
            hint: `add a \`smoke name=${name}\` block or remove it from \`smokes:\``,
          },
        );
    }
    for (const block of blocks) {
      const name = block.target;
      if (!listed.has(name))
        diag.error(
          { chapter: chapter.path, line: block.line },
          {
            reason: `Unexpected smoke \`${name}\` missing from the chapter's \`smokes:\` front matter`,
            ruleId: 'smoke-not-listed',
            hint: `add \`${name}\` to \`smokes:\``,
          },
        );
    }
  }
}

function smokesKeyLine(source: string): number {
  const index = source.split('\n').findIndex((line) => /^smokes\s*:/.test(line));
  return index >= 0 ? index + 1 : 1;
}
