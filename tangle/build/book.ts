// The tangle step of the build, smoke, run and bench commands: load the book, tangle it, write changed files.
import { analyseChapters } from '../parse/load-book.js';
import type { Book, SmokeSpec, TangledFile } from '../parse/model.js';
import { writeTangled } from '../tangle/write.js';
import { fmtMs, type Log } from './step.js';

export interface Tangled {
  book: Book;
  files: TangledFile[];
  written: string[];
  unchanged: string[];
  ms: number;
}

export async function tangle(root: string, log: Log): Promise<Tangled> {
  const t0 = performance.now();
  const { book, files } = await analyseChapters(root);
  const { written, unchanged } = await writeTangled(root, files);
  const ms = performance.now() - t0;
  log(`  tangle: ${book.chapters.length} chapters, ${files.length} files (${written.length} written, ${unchanged.length} unchanged) in ${fmtMs(ms)}`);
  return { book, files, written, unchanged, ms };
}

export function allSmokes(book: Book): SmokeSpec[] {
  return book.chapters.flatMap((c) => c.smokes);
}

/** A BookError's message already lists every problem as `chapters/x.md:line:col: reason. Fix: hint. [rule]`. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
