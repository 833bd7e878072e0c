// No chapter file is longer than 1,500 lines: one more, and the book does not load, at the first line too many.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { BookError } from '../../diag/diagnostics.js';
import { analyseChapters } from '../../parse/load-book.js';
import { MAX_CHAPTER_LINES } from '../../parse/chapter-length.js';

const FIXTURE = path.resolve(import.meta.dirname, '../site/fixtures/book');

test('a chapter of 1,500 lines loads, one of 1,501 is an error at line 1,501', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'chapter-length-'));
  try {
    await cp(FIXTURE, root, { recursive: true });
    const file = path.join(root, 'chapters/90-a1-appendix.md');
    const text = await readFile(file, 'utf8');
    const have = text.split('\n').length - 1;
    await writeFile(file, text + 'prose\n'.repeat(MAX_CHAPTER_LINES - have));
    await expect(analyseChapters(root)).resolves.toBeDefined();
    await writeFile(file, text + 'prose\n'.repeat(MAX_CHAPTER_LINES - have + 1));
    const error = await analyseChapters(root).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof BookError)) throw new Error(`expected a BookError, got ${String(error)}`);
    expect(error.messages.map((m) => `${m.file}:${m.line}: ${m.ruleId}`)).toEqual([`chapters/90-a1-appendix.md:${MAX_CHAPTER_LINES + 1}: chapter-too-long`]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
