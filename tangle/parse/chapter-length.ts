// A chapter is read, not scrolled: no chapter file is longer than MAX_CHAPTER_LINES (chapter A.2, "Errors"). A phase
// that needs more is split into several chapter files of that phase, one of which carries its stamp.
import type { Diagnostics } from '../diag/diagnostics.js';

export const MAX_CHAPTER_LINES = 1500;

export function checkChapterLength(path: string, source: string, diag: Diagnostics): void {
  const lines = source.endsWith('\n') ? source.split('\n').length - 1 : source.split('\n').length;
  if (lines <= MAX_CHAPTER_LINES) return;
  diag.error(
    { chapter: path, line: MAX_CHAPTER_LINES + 1 },
    {
      reason: `Unexpected chapter of ${lines} lines, longer than the ${MAX_CHAPTER_LINES} a chapter may have`,
      ruleId: 'chapter-too-long',
      hint: `split it into chapter files of the same phase, each at most ${MAX_CHAPTER_LINES} lines (chapter A.2)`,
    },
  );
}
