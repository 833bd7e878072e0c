// Load the book: parse chapters/*.md in file-name order, resolve includes, and run every
// book-level check (smokes, then a trial tangle) so all problems are reported in one go.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Block, Book, Chapter, TangledFile } from './model.js';
import { BookError, Diagnostics } from '../diag/diagnostics.js';
import { analyzeBook } from '../tangle/tangle-book.js';
import { checkChapterLength } from './chapter-length.js';
import { checkSmokes } from './check-smokes.js';
import { checkPhaseStamps } from './phases.js';
import { resolveIncludes } from './includes.js';
import { parseChapter } from './processor.js';

/** The book, analysed once: its chapters, the tangled files and the chunk table (throws BookError on any problem). */
export interface AnalysedBook {
  book: Book;
  files: TangledFile[];
  chunks: Map<string, Block[]>;
}

export async function loadBook(root: string): Promise<Book> {
  return (await analyseChapters(root)).book;
}

/** Parses, checks and tangles the book in one pass; the entry points (tangle, build, smoke, stamp, site) use this. */
export async function analyseChapters(root: string): Promise<AnalysedBook> {
  const names = (await readdir(join(root, 'chapters'))).filter((name) => name.endsWith('.md')).sort();
  const diag = new Diagnostics();
  const valid = new Set<Chapter>();
  const chapters: Chapter[] = [];
  for (const name of names) {
    const path = `chapters/${name}`;
    const source = await readFile(join(root, path), 'utf8');
    checkChapterLength(path, source, diag);
    const { chapter, file, metaValid } = await parseChapter(path, source);
    diag.adopt(file.messages);
    if (metaValid) valid.add(chapter);
    chapters.push(chapter);
  }
  const book: Book = { root, chapters };
  await resolveIncludes(book, diag);
  checkSmokes(book, diag, (chapter) => valid.has(chapter));
  checkPhaseStamps(book, diag);
  const { files, chunks } = analyzeBook(book, diag);
  const messages = diag.messages;
  if (messages.length > 0) throw new BookError(messages);
  return { book, files, chunks };
}
