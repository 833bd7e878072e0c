// Chapter states: the book as of one phase, the way Crafting Interpreters builds each chapter's code on its own.
// A phase's state is every chapter up to the last file of that phase, in book order, plus the foundation appendices
// (the kernel substrate, the chapter format, the manifests and their defaults) that every phase builds on. Later
// chapters extend earlier ones through chunks, so an earlier chapter's reference to a chunk that only a later chapter
// defines is an extension point: in the earlier state it expands to nothing. Every other problem is reported as in
// the full book. Chapter A.2 ("Chapter states") documents this; `npm run tangle -- --upto <phase>` writes one.
import type { Book, Chapter } from '../parse/model.js';
import { Diagnostics } from '../diag/diagnostics.js';
import { analyzeBook, type TangleAnalysis } from './tangle-book.js';
import { referencedNames } from './expand.js';

/** The appendices every state includes. */
export const FOUNDATION_PHASES: readonly string[] = ['A.1', 'A.2', 'A.3'];

/** The chapters of `phase`'s state, in book order; undefined when no chapter has that phase. */
export function stateChapters(book: Book, phase: string): Chapter[] | undefined {
  const last = book.chapters.map((c) => c.meta.phase).lastIndexOf(phase);
  if (last < 0) return undefined;
  return book.chapters.filter((c, i) => i <= last || FOUNDATION_PHASES.includes(c.meta.phase));
}

/** Tangles `phase`'s state of the (already checked) full book: chunks only later chapters define expand to nothing. */
export function analyseState(book: Book, phase: string): TangleAnalysis & { chapters: Chapter[] } {
  const chapters = stateChapters(book, phase);
  if (!chapters) throw new Error(`no chapter has phase \`${phase}\` (phases: ${[...new Set(book.chapters.map((c) => c.meta.phase))].join(', ')})`);
  const all = book.chapters.flatMap((c) => c.blocks);
  const later = new Set(all.flatMap((b) => (b.kind === 'chunk' ? [b.target] : [])));
  const analysis = analyzeBook({ root: book.root, chapters }, new Diagnostics(), { laterChunks: later, referencedLater: referencedNames(all) });
  return { ...analysis, chapters };
}
