// The bridge from the build/smoke commands to the tangler (tangle/index.ts, owned by the tangle module):
// load the book, tangle it, write changed files. Loaded lazily so build-only helpers work without it.
import type { Book, SmokeSpec, TangledFile } from '../parse/model.js';
import { fmtMs, type Log } from './step.js';

export interface Tangled { book: Book; files: TangledFile[]; written: string[]; unchanged: string[]; ms: number }

interface TangleApi {
  loadBook(root: string): Promise<Book>;
  tangleBook(book: Book): TangledFile[];
  writeTangled(root: string, files: TangledFile[], opts: { check: boolean }): Promise<{ written: string[]; unchanged: string[] }>;
}

async function api(): Promise<TangleApi> {
  const mod = '../index.js';
  return (await import(mod)) as TangleApi;
}

export async function tangle(root: string, log: Log): Promise<Tangled> {
  const t0 = performance.now();
  const { loadBook, tangleBook, writeTangled } = await api();
  const book = await loadBook(root);
  const files = tangleBook(book);
  const { written, unchanged } = await writeTangled(root, files, { check: false });
  const ms = performance.now() - t0;
  log(`  tangle: ${book.chapters.length} chapters, ${files.length} files (${written.length} written, ${unchanged.length} unchanged) in ${fmtMs(ms)}`);
  return { book, files, written, unchanged, ms };
}

export function allSmokes(book: Book): SmokeSpec[] {
  return book.chapters.flatMap((c) => c.smokes);
}

/** Errors from loadBook carry `chapters/x.md:line:col: reason` messages; print them as they are. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const msgs = (e as { messages?: unknown[] }).messages;
    if (Array.isArray(msgs) && msgs.length > 0) return msgs.map(String).join('\n');
    return e.message;
  }
  return String(e);
}
