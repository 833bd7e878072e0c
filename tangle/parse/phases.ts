// A phase may span several chapter files (W.2 is told in three): the phase's chapters are every chapter whose
// front matter names it, in book order; one of them carries the phase's closeout stamp (the first, unless another
// already holds it), and the phase's smokes are all of theirs. The stamp tool, the phase board and a chapter page's
// standing all ask here, so they agree on which file speaks for a phase.
import type { Diagnostics } from '../diag/diagnostics.js';
import type { Book, Chapter } from './model.js';

/** The chapters of `phase`, in book order. */
export function phaseChapters(book: Book, phase: string): Chapter[] {
  return book.chapters.filter((c) => c.meta.phase === phase);
}

/** The chapter that carries (or would carry) the phase's stamp: the one with a stamp, else the first. */
export function stampChapter(chapters: readonly Chapter[]): Chapter | undefined {
  return chapters.find((c) => c.meta.stamp !== undefined) ?? chapters[0];
}

/** Every smoke the phase's chapters list, in book order. */
export function phaseSmokes(chapters: readonly Chapter[]): string[] {
  return chapters.flatMap((c) => c.meta.smokes);
}

/** A phase is closed once: a second chapter of the same phase carrying a stamp is an error at its front matter. */
export function checkPhaseStamps(book: Book, diag: Diagnostics): void {
  const holder = new Map<string, Chapter>();
  for (const chapter of book.chapters) {
    if (!chapter.meta.stamp) continue;
    const first = holder.get(chapter.meta.phase);
    if (!first) {
      holder.set(chapter.meta.phase, chapter);
      continue;
    }
    diag.error(
      { chapter: chapter.path, line: stampLine(chapter.source) },
      {
        reason: `Unexpected second stamp for phase ${chapter.meta.phase}, which ${first.path} already carries`,
        ruleId: 'phase-stamped-twice',
        hint: 'keep the stamp in one chapter of the phase (the first) and remove this one',
        cause: { chapter: first.path, line: stampLine(first.source), reason: "the phase's stamp" },
      },
    );
  }
}

function stampLine(source: string): number {
  const index = source.split('\n').findIndex((line) => /^stamp\s*:/.test(line));
  return index >= 0 ? index + 1 : 1;
}
