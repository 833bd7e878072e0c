// The file map: writers per tangled file from the tangle map, and the file view cut into linked regions.
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import type { Book, TangledFile } from '../../parse/model.js';
import { buildFileMap, includedSources, renderTangledFile } from '../../../site/lib/filemap.js';
import { FIXTURE_BOOK } from './fixture-results.js';

let book: Book;
let tangled: TangledFile[];
beforeAll(async () => {
  book = await loadBook(FIXTURE_BOOK);
  tangled = tangleBook(book);
});

describe('buildFileMap', () => {
  test('lists every tangled file with the blocks that write it, in book order', () => {
    const map = buildFileMap(book, tangled);
    expect(map.map((e) => e.path)).toEqual(['demos/hello/main.rs', 'manifests/fixture.cue']);
    const main = map[0]!;
    expect(main.lines).toBe(7);
    expect(main.writers.map((w) => [w.chapter, w.block, w.chapterLine, w.lines])).toEqual([
      ['chapters/10-w1-first.md', 'file=demos/hello/main.rs', 19, 5],
      ['chapters/10-w1-first.md', 'chunk=greeting', 28, 1],
      ['chapters/11-w2-second.md', 'chunk=greeting', 15, 1],
    ]);
    expect(main.writers[2]!.href).toBe('/chapters/11-w2-second/#L15');
  });
});

describe('renderTangledFile', () => {
  test('cuts the file into one section per range, each linking to its chapter line', async () => {
    const html = await renderTangledFile(tangled.find((f) => f.path === 'demos/hello/main.rs')!);
    const origins = [...html.matchAll(/class="range-origin" href="([^"]+)"/g)].map((m) => m[1]);
    expect(origins).toEqual(['/chapters/10-w1-first/#L19', '/chapters/10-w1-first/#L28', '/chapters/11-w2-second/#L15', '/chapters/10-w1-first/#L22']);
    for (let n = 1; n <= 7; n++) expect(html).toContain(`id="L${n}"`);
    expect(html).toContain('lines 5–7 ← chapters/10-w1-first.md:22');
  });
});

describe('includedSources', () => {
  test('finds each included file and the lines of its region', async () => {
    expect(await includedSources(book)).toEqual([
      { path: 'src/hand.rs', regions: [{ name: 'answer', start: 5, end: 7, href: '/chapters/11-w2-second/#L20', by: 'W.2 Second steps' }] },
    ]);
  });
});

describe('regionLines', () => {
  test('finds a region body by its markers, with any of the tangler comment leaders', async () => {
    const { regionLines } = await import('../../parse/includes.js');
    const src = 'a\n# region: r\nb\nc\n# endregion: r\n;; region: w\nx\n;; endregion: w\n';
    expect(regionLines(src, 'r')).toEqual({ start: 3, end: 4 });
    expect(regionLines(src, 'w')).toEqual({ start: 7, end: 7 });
    expect(regionLines(src, 'nope')).toBeUndefined();
    expect(regionLines(src, undefined)).toEqual({ start: 1, end: 8 });
  });
});
