import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadBook, parseReference, tangleBook, type Book, type TangledFile } from '../../index.js';
import { fixture } from '../helpers.js';

async function tangled(name: string): Promise<{ book: Book; files: TangledFile[] }> {
  const book = await loadBook(fixture(name));
  return { book, files: tangleBook(book) };
}

describe('parseReference', () => {
  test('a reference stands alone on its line, indentation kept', () => {
    expect(parseReference('<<wasi imports>>')).toEqual({ indent: '', name: 'wasi imports' });
    expect(parseReference('\t  <<body>>  ')).toEqual({ indent: '\t  ', name: 'body' });
  });

  test.each(['x << 8 >> 4', 'a <<b>> c', 'let y = <<b>>;', '<<>>', '<< a >> b', '// <<name>>', '<<a<b>>'])('%j is not a reference', (line) => {
    expect(parseReference(line)).toBeUndefined();
  });
});

describe('tangleBook', () => {
  test('produces exactly the expected files of the expand fixture', async () => {
    const { files } = await tangled('expand');
    expect(files.map((f) => f.path)).toEqual([
      'capos-wasm/src/main.rs',
      'demos/hello/hello.wat',
      'demos/hello/run.sh',
      'manifests/data.json',
      'manifests/expand.cue',
    ]);
    for (const file of files) {
      expect(file.content, file.path).toBe(await readFile(join(fixture('expand'), 'expected', file.path), 'utf8'));
    }
  });

  test('expands nested chunks with the indentation of each reference, appends across chapters in book order', async () => {
    const main = (await tangled('expand')).files.find((f) => f.path === 'capos-wasm/src/main.rs')!;
    const lines = main.content.split('\n');
    expect(lines.slice(3, 7)).toEqual(['    let mut n = 0;', '    n += 1;', '', '    n += 2;']);
    expect(lines.slice(10, 12)).toEqual(['        work(n);', '        more(n);']); // chapter 10, then chapter 11's append
    expect(lines.at(-2)).toBe('// the end');
    expect(main.content).toContain('let x = 1 << 8 >> 4;');
    expect(main.content).toContain('let y = a <<b>> c;');
  });

  test('is pure: the same book gives the same files', async () => {
    const { book, files } = await tangled('expand');
    expect(tangleBook(book)).toEqual(files);
  });

  test('the tangle map sends every output line back to the chapter line it came from', async () => {
    const { book, files } = await tangled('expand');
    const sources = new Map(book.chapters.map((c) => [c.path, c.source.split('\n')]));
    for (const file of files) {
      const out = file.content.split('\n').slice(0, -1);
      const covered: number[] = [];
      for (const range of file.ranges) {
        for (let line = range.startLine; line <= range.endLine; line++) {
          covered.push(line);
          const text = out[line - 1]!;
          const source = sources.get(range.chapter)![range.chapterLine + (line - range.startLine) - 1]!;
          if (text.startsWith('// Tangled') || text.startsWith('# Tangled') || text.startsWith(';; Tangled')) {
            expect(source, `${file.path}:${line}`).toMatch(/^```/); // the header points at the opening fence
          } else {
            expect(
              text.endsWith(source) && text.slice(0, text.length - source.length).trim() === '',
              `${file.path}:${line} ← ${range.chapter}:${range.chapterLine}`,
            ).toBe(true);
          }
        }
      }
      expect(covered, file.path).toEqual(out.map((_, i) => i + 1)); // every line, once, in order
    }
  });

  test('the map of the expanded file, range by range', async () => {
    const main = (await tangled('expand')).files.find((f) => f.path === 'capos-wasm/src/main.rs')!;
    const a = 'chapters/10-w1-first.md';
    const b = 'chapters/11-w2-second.md';
    expect(main.ranges).toEqual([
      { startLine: 1, endLine: 3, chapter: a, chapterLine: 14, block: 'file=capos-wasm/src/main.rs' }, // header ↔ fence
      { startLine: 4, endLine: 4, chapter: a, chapterLine: 29, block: 'chunk=setup', indent: 4 },
      { startLine: 5, endLine: 7, chapter: a, chapterLine: 34, block: 'chunk=counter', indent: 4 },
      { startLine: 8, endLine: 10, chapter: a, chapterLine: 18, block: 'file=capos-wasm/src/main.rs' },
      { startLine: 11, endLine: 11, chapter: a, chapterLine: 40, block: 'chunk=body', indent: 8 },
      { startLine: 12, endLine: 12, chapter: b, chapterLine: 13, block: 'chunk=body', indent: 8 },
      { startLine: 13, endLine: 14, chapter: a, chapterLine: 22, block: 'file=capos-wasm/src/main.rs' },
      { startLine: 15, endLine: 15, chapter: b, chapterLine: 17, block: 'file=capos-wasm/src/main.rs' },
    ]);
  });

  test('reads only *.md chapters, in file-name order', async () => {
    const { book } = await tangled('expand');
    expect(book.chapters.map((c) => c.path)).toEqual(['chapters/10-w1-first.md', 'chapters/11-w2-second.md']);
    expect(book.chapters[0]!.meta).toMatchObject({ phase: 'W.1', status: 'in-progress', smokes: ['run-wasi-expand'] });
    expect(book.chapters[0]!.smokes[0]!.source).toMatch(/^```smoke name=run-wasi-expand manifest=manifests\/expand.cue\n> \[init\] hello\n```$/);
  });
});

describe('include blocks', () => {
  test('an include block carries the lines between the region markers', async () => {
    const book = await loadBook(fixture('include-ok'));
    const include = book.chapters[0]!.blocks.find((b) => b.kind === 'include')!;
    expect(include).toMatchObject({ target: 'capos/kernel/src/ring.rs', region: 'dispatch', value: 'fn dispatch() {\n    run();\n}' });
  });
});
