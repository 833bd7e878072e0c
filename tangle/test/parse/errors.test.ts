import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BookError, formatMessage, loadBook } from '../../index.js';
import { fixture } from '../helpers.js';

async function problems(name: string): Promise<BookError> {
  const error = await loadBook(fixture(name)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BookError);
  return error as BookError;
}

// Each case lists `chapters/x.md:line:col [rule]` for every problem loadBook must report.
const CASES = ['unknown-attribute', 'front-matter', 'chunks', 'files', 'smokes', 'includes'];

describe('loadBook errors', () => {
  test.each(CASES)('%s: reports every problem at its chapter:line:col', async (name) => {
    const error = await problems(name);
    const expected = (await readFile(join(fixture(name), 'errors.txt'), 'utf8')).trim().split('\n');
    expect(error.messages.map((m) => `${m.file}:${m.line}:${m.column} [${m.ruleId}]`)).toEqual(expected);
  });

  test('every message is fatal, has a reason, a rule id and a fix hint, and prints as chapter:line:col', async () => {
    for (const name of CASES) {
      for (const message of (await problems(name)).messages) {
        expect(message.fatal).toBe(true);
        expect(message.note, formatMessage(message)).toMatch(/\w/);
        expect(formatMessage(message)).toMatch(/^chapters\/[\w-]+\.md:\d+:\d+: Unexpected|^chapters\/[\w-]+\.md:\d+:\d+: Missing/);
        expect(formatMessage(message)).toMatch(/\[[a-z-]+\]$/);
      }
    }
  });

  test('a reference cycle names the chunks of the cycle', async () => {
    const cycle = (await problems('chunks')).messages.find((m) => m.ruleId === 'reference-cycle')!;
    expect(cycle.reason).toContain('loop a → loop b → loop a');
  });

  test('a file claimed twice points its cause at the first claim', async () => {
    const claimed = (await problems('files')).messages.find((m) => m.ruleId === 'file-claimed-twice')!;
    expect(claimed.file).toBe('chapters/11-w2.md');
    expect(claimed.reason).toContain('chapters/10-w1.md:10');
    const cause = claimed.cause as { file: string; line: number };
    expect([cause.file, cause.line]).toEqual(['chapters/10-w1.md', 10]);
  });

  test('the error message of BookError lists every problem, one per line', async () => {
    const error = await problems('smokes');
    expect(error.message.split('\n').slice(1)).toEqual(error.messages.map(formatMessage));
  });
});
