// The cross-reference index and the chapter renderer that draws it: definitions, extensions, uses, reference links.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import type { Book } from '../../parse/model.js';
import { renderChapter } from '../../../site/lib/render-chapter.js';
import { loadResults, smokeViews } from '../../../site/lib/results.js';
import { buildXref, laterBlocks } from '../../../site/lib/xref.js';
import { FIXTURE_BOOK, writeFixtureResults } from './fixture-results.js';

let book: Book;
beforeAll(async () => {
  book = await loadBook(FIXTURE_BOOK);
});

describe('buildXref', () => {
  test('lists a chunk definition, its later extension and its use, in book order', () => {
    const greeting = buildXref(book).chunks.get('greeting');
    expect(greeting?.blocks.map((b) => [b.chapter, b.line])).toEqual([
      ['chapters/10-w1-first.md', 27],
      ['chapters/11-w2-second.md', 14],
    ]);
    expect(greeting?.uses.map((b) => [b.chapter, b.line])).toEqual([['chapters/10-w1-first.md', 19]]);
    expect(greeting?.blocks[0]?.href).toBe('/chapters/10-w1-first/#L27');
  });

  test('never takes a shift expression for a reference', () => {
    const names = [...buildXref(book).chunks.keys()];
    expect(names).toEqual(['greeting']);
  });

  test('records every block writing a file', () => {
    const files = buildXref(book).files;
    expect([...files.keys()].sort()).toEqual(['demos/hello/main.rs', 'manifests/fixture.cue']);
    expect(files.get('demos/hello/main.rs')?.blocks.map((b) => b.line)).toEqual([19]);
  });

  test('laterBlocks keeps only blocks after the given one', () => {
    const refs = buildXref(book).chunks.get('greeting')!.blocks;
    expect(laterBlocks(refs, book, 'chapters/10-w1-first.md', 27).map((r) => r.chapter)).toEqual(['chapters/11-w2-second.md']);
    expect(laterBlocks(refs, book, 'chapters/11-w2-second.md', 14)).toEqual([]);
  });
});

describe('renderChapter', () => {
  test('links each reference line to the definition and lists uses and extensions', async () => {
    const xref = buildXref(book);
    const views = smokeViews(book, tangleBook(book), new Map());
    const first = await renderChapter(book, book.chapters[0]!, xref, views);
    expect(first.html).toContain('<a class="chunk-ref" href="/chapters/10-w1-first/#L27" data-chunk="greeting"');
    expect(first.html).toMatch(/Extended in <a href="\/chapters\/11-w2-second\/#L14">W\.2 Second steps \(line 14\)<\/a>/);
    expect(first.html).toMatch(/Used in <a href="\/chapters\/10-w1-first\/#L19">/);
    // The shift expression stays code, on its own numbered line.
    expect(first.html).toMatch(/<span class="line" id="L22" data-line="22">/);
    expect(first.html).not.toContain('<pre><figure');
    expect(first.headings.map((h) => h.slug)).toEqual(['the-program', 'booting-it']);
    expect(first.lead).toBe('The first fixture chapter');
  });

  test('captions file, chunk and include blocks with their targets', async () => {
    const xref = buildXref(book);
    const views = smokeViews(book, tangleBook(book), new Map());
    const second = await renderChapter(book, book.chapters[1]!, xref, views);
    expect(second.html).toContain('«greeting»');
    expect(second.html).toContain('Extends the definition in <a href="/chapters/10-w1-first/#L27">');
    expect(second.html).toContain('<a class="block-name" href="/source/src/hand.rs/#L5"><code>src/hand.rs</code></a>');
    expect(second.html).toMatch(/data-line="6"><span[^>]*> {4}42/);
  });

  test('renders each smoke as a panel in its true state, never passing unless current and ok', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'site-results-'));
    await writeFixtureResults(dir);
    const views = smokeViews(book, tangleBook(book), await loadResults(dir));
    expect(Object.fromEntries([...views].map(([k, v]) => [k, v.state]))).toEqual({
      'fix-pass': 'pass',
      'fix-fail': 'fail',
      'fix-stale': 'stale',
      'fix-missing': 'missing',
    });
    const xref = buildXref(book);
    const html = (await renderChapter(book, book.chapters[1]!, xref, views)).html;
    expect(html).toContain('data-smoke="fix-stale" data-state="stale"');
    expect(html).toContain('data-smoke="fix-missing" data-state="missing"');
    expect(html).not.toContain('state-pass');
    expect(html).not.toContain('✓ pass');
  });
});
