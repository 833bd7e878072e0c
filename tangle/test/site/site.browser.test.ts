// The built site in a real browser (playwright-core driving Debian's chromium, headless, fresh profile).
// (a) The book as it is, with the real results in results/smoke: the phase board shows each smoke's true state
//     (recomputed here from the JSON files), a chunk reference leads to its definition, search finds a word only one
//     chapter contains and lands on it, the theme flips. (b) The fixture book with fixture results (one passing, one
//     failing, one stale, one missing): each is shown as such and none of the last three as passing.
// Screenshots go to results/site/.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import type { Book } from '../../parse/model.js';
import { computeInputs } from '../../smoke/result.js';
import { JS_BUDGET_BYTES, weighSite } from '../../bench/site.js';
import { buildSite } from '../../../site/lib/build-site.js';
import { repoRoot, siteInputs } from '../../../site/lib/config.js';
import { loadPhases } from '../../../site/lib/phases.js';
import { FIXTURE_BOOK, FIXTURE_STATES, writeFixtureResults } from './fixture-results.js';
import { FIXTURE_REPORTS, writeFixtureReports } from './fixture-reports.js';
import { REPORT_KINDS } from '../../bench/report.js';
import { serveStatic, type StaticServer } from './static-server.js';

const SHOTS = path.join(repoRoot, 'results', 'site');
const OUT = path.join(repoRoot, 'build', 'site-test');
// A site build takes about a minute on an idle machine and over three at load 15 (seen in CI-like runs beside builds).
const BUILD_TIMEOUT = 420_000;

let context: BrowserContext;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  context = await chromium.launchPersistentContext(await mkdtemp(path.join(tmpdir(), 'site-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
});

async function open(server: StaticServer, route: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + route);
  expect(errors).toEqual([]);
  return page;
}

/** The state a smoke must show, decided from its JSON file and the chapters alone (not through the site's code). */
async function expectedState(book: Book, resultsDir: string, name: string): Promise<string> {
  const spec = book.chapters.flatMap((c) => c.smokes).find((s) => s.name === name);
  let json: { ok: boolean; inputs: { smoke: string; tangled: string } };
  try {
    json = JSON.parse(await readFile(path.join(resultsDir, `${name}.json`), 'utf8'));
  } catch {
    return 'missing';
  }
  if (!spec) return 'missing';
  const now = computeInputs(tangleBook(book), spec);
  if (json.inputs.smoke !== now.smoke || json.inputs.tangled !== now.tangled) return 'stale';
  return json.ok ? 'pass' : 'fail';
}

/** Board states as shown: smoke name → data-state of its list item and its badge. */
async function boardStates(page: Page): Promise<Record<string, { item: string; badge: string; text: string }>> {
  return page.$$eval('.phase-smokes li[data-smoke]', (items) =>
    Object.fromEntries(
      items.map((li) => {
        const badge = li.querySelector('.smoke-badge') as HTMLElement;
        return [
          li.getAttribute('data-smoke'),
          { item: li.getAttribute('data-state'), badge: badge.getAttribute('data-state'), text: badge.textContent?.trim() },
        ];
      }),
    ),
  ) as never;
}

/** A word of one chapter's text that no other chapter, the phase list or any title contains (search must find only it). */
function uniqueWord(book: Book, phasesText: string): { word: string; chapter: string } | undefined {
  const everywhere = (c: string) => c.toLowerCase();
  const titles =
    book.chapters
      .map((c) => `${c.meta.title} ${c.meta.description}`)
      .join(' ')
      .toLowerCase() + phasesText.toLowerCase();
  const candidates: { word: string; chapter: string }[] = [];
  for (const chapter of book.chapters) {
    const prose = chapter.source.split('\n').filter((l) => !/^\s*(```|[-*] |\|)/.test(l));
    const others = book.chapters.filter((c) => c !== chapter).map((c) => everywhere(c.source));
    for (const word of new Set(prose.join(' ').match(/\b[a-z]{9,}\b/g) ?? [])) {
      // Pagefind stems words (interpretation ~ interpreter), so "unique" must hold for a generous prefix, not the word.
      const stem = word.slice(0, Math.max(6, Math.ceil(word.length * 0.6)));
      if (others.some((o) => o.includes(stem)) || titles.includes(stem)) continue;
      candidates.push({ word, chapter: chapter.path });
    }
  }
  return candidates.sort((a, b) => b.word.length - a.word.length)[0];
}

describe('the site built from fixture chapters and fixture results', () => {
  let server: StaticServer;
  const resultsDir = path.join(OUT, 'fixture-results');
  const benchDir = path.join(OUT, 'fixture-reports');

  beforeAll(async () => {
    await writeFixtureResults(resultsDir);
    await writeFixtureReports(benchDir);
    await buildSite({ bookRoot: FIXTURE_BOOK, resultsDir, benchDir, outDir: path.join(OUT, 'fixture') }, () => {});
    server = await serveStatic(path.join(OUT, 'fixture'));
  }, BUILD_TIMEOUT);
  afterAll(async () => server?.close());

  test('the phase board shows failing, stale and missing smokes as such, never as passing', async () => {
    const page = await open(server, '/');
    const states = await boardStates(page);
    expect(states['fix-pass']).toEqual({ item: 'pass', badge: 'pass', text: 'passing' });
    expect(states['fix-fail']).toEqual({ item: 'fail', badge: 'fail', text: 'failing' });
    expect(states['fix-stale']).toEqual({ item: 'stale', badge: 'stale', text: 'stale' });
    expect(states['fix-missing']).toEqual({ item: 'missing', badge: 'missing', text: 'missing' });
    // W.1 is stamped and claims done, but one of its smokes fails now: not done.
    expect(await page.getAttribute('[data-phase="W.1"]', 'data-status')).toBe('in-progress');
    expect(await page.getAttribute('[data-phase="W.0"]', 'data-status')).toBe('planned');
    await page.screenshot({ path: path.join(SHOTS, 'fixture-board.png'), fullPage: true });
    await page.close();
  });

  test('each smoke panel shows its state, with no passing marks on failing, stale or missing results', async () => {
    for (const [name, state] of Object.entries(FIXTURE_STATES)) {
      const chapter = name === 'fix-pass' || name === 'fix-fail' ? '10-w1-first' : '11-w2-second';
      const page = await open(server, `/chapters/${chapter}/#smoke-${name}`);
      const panel = page.locator(`section.smoke-panel[data-smoke="${name}"]`);
      expect(await panel.getAttribute('data-state')).toBe(state);
      expect((await panel.locator('.smoke-badge').textContent())?.trim()).toBe({ pass: 'passing', fail: 'failing', stale: 'stale', missing: 'missing' }[state]);
      const passMarks = await panel.locator('tr.assert-ok, .assert-ok').count();
      if (state === 'pass') expect(passMarks).toBeGreaterThan(0);
      else if (state === 'fail') expect(await panel.locator('tr.assert-fail').count()).toBeGreaterThan(0);
      else expect(passMarks).toBe(0);
      if (state !== 'pass') expect(await panel.locator('.state-pass').count()).toBe(0);
      if (state === 'fail' || state === 'stale') await panel.screenshot({ path: path.join(SHOTS, `fixture-${state}-panel.png`) });
      await page.close();
    }
  });

  test('the passing smoke shows its authority ledger: granted, used, refused and the unused grant flagged', async () => {
    const page = await open(server, '/chapters/10-w1-first/#smoke-fix-pass');
    const ledger = page.locator('section.smoke-panel[data-smoke="fix-pass"] details.smoke-ledger');
    expect(await ledger.getAttribute('open'), 'open because it holds a hint').not.toBeNull();
    const row = (instance: string) => ledger.locator(`tr[data-instance="${instance}"]`);
    const cells = async (instance: string) => ({
      granted: await row(instance).locator('.ledger-granted code').allTextContents(),
      used: await row(instance).locator('.ledger-used code').allTextContents(),
      refused: await row(instance).locator('code.ledger-refused').allTextContents(),
      unused: await row(instance).locator('code.ledger-unused').allTextContents(),
    });
    expect(await cells('frugal')).toEqual({ granted: ['console', 'random', 'timer'], used: ['console', 'timer'], refused: ['wallclock'], unused: ['random'] });
    expect(await row('frugal').getAttribute('class')).toContain('has-hints');
    expect(await row('frugal').locator('code.ledger-refused').getAttribute('title')).toBe('clock_time_get NOSYS ×1');
    expect(await row('frugal').locator('.ledger-unused').first().isVisible()).toBe(true);
    // A fault is the guest's own: not a refusal, and console was used, so bare has no hint.
    expect(await cells('bare')).toEqual({ granted: ['console'], used: ['console'], refused: [], unused: [] });
    expect(await row('bare').locator('.ledger-unused-cell').textContent()).toBe('none');
    expect(await page.locator('section.smoke-panel[data-smoke="fix-fail"] .smoke-ledger').count()).toBe(0);
    await ledger.screenshot({ path: path.join(SHOTS, 'fixture-ledger.png') });
    await page.close();
  });

  test('the performance page shows current, stale and missing reports as such, with tables and bars', async () => {
    const page = await open(server, '/performance/');
    const states = await page.$$eval('section.bench-report', (ss) =>
      Object.fromEntries(ss.map((s) => [s.getAttribute('data-report'), s.getAttribute('data-state')])),
    );
    expect(states).toEqual({ ...Object.fromEntries(Object.keys(REPORT_KINDS).map((id) => [id, 'missing'])), ...FIXTURE_REPORTS });
    const current = page.locator('section.bench-report[data-report="fix-current"]');
    expect((await current.locator('.report-badge').textContent())?.trim()).toBe('current');
    expect(await current.locator('tbody tr').count()).toBe(2);
    // Three numbers to plot (the fourth cell is n/a): three bars, each scaled within its row, the row's largest full width.
    const bars = await current.locator('svg.bar-chart g.bar rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
    expect(bars).toHaveLength(3);
    expect(bars[1]).toBeCloseTo(bars[0]! * 4, 0);
    expect(bars[2]).toBeCloseTo(bars[1]!, 0);
    expect(await current.locator('svg.bar-chart text.bar-value').allTextContents()).toEqual(['1200 KiB/s', '4800 KiB/s', '900 us', 'n/a']);
    const stale = page.locator('section.bench-report[data-report="fix-stale"]');
    expect(await stale.locator('.bench-reason').textContent()).toContain('chapters/10-w1-first.md changed since these figures were taken');
    expect(await stale.locator('.state-current').count()).toBe(0);
    const missing = page.locator('section.bench-report[data-report="store"]');
    expect(await missing.locator('.bench-reason').textContent()).toContain('run npm run bench -- store');
    expect(await missing.locator('table').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'fixture-performance.png'), fullPage: true });
    await page.close();
  });

  test('a malformed bench report fails the build, naming the file and field', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'site-bad-reports-'));
    await writeFile(
      path.join(bad, 'fix-current.json'),
      JSON.stringify({
        schemaVersion: 1,
        id: 'fix-current',
        title: 'x',
        chapter: 'c',
        command: 'c',
        at: 'now',
        accelerator: 'tcg',
        commit: null,
        dirty: false,
        inputs: [],
        machine: { cpus: 2, loadAvg1m: 0 },
        errors: [],
        tables: [{ title: 't', how: 'h', columns: [{ label: 'a' }, { label: 'b' }], rows: [[1]] }],
      }),
    );
    await expect(buildSite({ bookRoot: FIXTURE_BOOK, resultsDir, benchDir: bad, outDir: path.join(OUT, 'bad-bench') }, () => {})).rejects.toThrow(
      /fix-current\.json: tables\[0\]\.rows\[0\] must be 2 numbers, strings or nulls/,
    );
    await rm(bad, { recursive: true, force: true });
  });

  test('every page ships under the JavaScript budget, and the weighing sees the scripts', async () => {
    const pages = await weighSite(path.join(OUT, 'fixture'));
    expect(pages.length).toBeGreaterThanOrEqual(8);
    for (const p of pages) {
      expect(p.jsBytes, p.page).toBeGreaterThan(1000);
      expect(p.jsBytes, p.page).toBeLessThan(JS_BUDGET_BYTES);
    }
  });

  test('a malformed results file fails the build, naming the file', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'site-bad-results-'));
    await writeFile(path.join(bad, 'fix-pass.json'), JSON.stringify({ schemaVersion: 1, name: 'fix-pass', ok: 'yes' }));
    await expect(buildSite({ bookRoot: FIXTURE_BOOK, resultsDir: bad, benchDir, outDir: path.join(OUT, 'bad') }, () => {})).rejects.toThrow(
      path.join(bad, 'fix-pass.json'),
    );
    await rm(bad, { recursive: true, force: true });
  });
});

describe('the site built from the book and its real smoke results', () => {
  let server: StaticServer;
  let book: Book;
  const real = siteInputs({});
  // The smoke runner may write results while this test runs: build from, and compare with, a snapshot of them.
  const inputs = { ...real, resultsDir: path.join(OUT, 'real-results'), outDir: path.join(OUT, 'real') };

  beforeAll(async () => {
    await rm(inputs.resultsDir, { recursive: true, force: true });
    await cp(real.resultsDir, inputs.resultsDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    book = await loadBook(inputs.bookRoot);
    await buildSite(inputs, () => {});
    server = await serveStatic(inputs.outDir);
  }, BUILD_TIMEOUT);
  afterAll(async () => server?.close());

  test('the phase board shows each smoke in the state its results file says', async () => {
    const page = await open(server, '/');
    const shown = await boardStates(page);
    const phases = await loadPhases(inputs.bookRoot);
    const names = new Set([...phases.flatMap((p) => p.smokes), ...book.chapters.flatMap((c) => c.meta.smokes)]);
    const files = (await readdir(inputs.resultsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
    // A results file for a smoke no chapter or phase names any more has no place on the board.
    for (const f of files) if (book.chapters.some((c) => c.smokes.some((s) => `${s.name}.json` === f))) names.add(f.replace(/\.json$/, ''));
    expect(Object.keys(shown).sort()).toEqual([...names].sort());
    for (const name of names) {
      const want = await expectedState(book, inputs.resultsDir, name);
      expect({ name, ...shown[name] }).toEqual({
        name,
        item: want,
        badge: want,
        text: { pass: 'passing', fail: 'failing', stale: 'stale', missing: 'missing' }[want],
      });
    }
    await page.screenshot({ path: path.join(SHOTS, 'board.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, 'board-phone.png') });
    await page.close();
  });

  test('a chunk reference leads to the chunk definition', async () => {
    const chapter = book.chapters.find((c) => c.blocks.some((b) => b.kind !== 'plain' && /^\s*<<[^<>]+>>\s*$/m.test(b.value)));
    expect(chapter, 'the book has no chunk reference to follow').toBeDefined();
    const page = await open(server, `/chapters/${path.basename(chapter!.path, '.md')}/`);
    const ref = page.locator('a.chunk-ref').first();
    const name = await ref.getAttribute('data-chunk');
    await ref.click();
    await page.waitForFunction(() => location.hash.startsWith('#L'));
    const hash = new URL(page.url()).hash.slice(1);
    const target = page.locator(`[id="${hash}"]`);
    expect(await target.getAttribute('data-kind')).toBe('chunk');
    expect(await target.getAttribute('data-target')).toBe(name);
    const top = await target.evaluate((el) => el.getBoundingClientRect().top);
    expect(top).toBeGreaterThanOrEqual(-5);
    expect(top).toBeLessThan(400);
    await page.screenshot({ path: path.join(SHOTS, 'chunk-definition.png') });
    await page.close();
  });

  test('searching a word only one chapter contains lands on that chapter', async () => {
    const phasesText = await readFile(path.join(inputs.bookRoot, 'chapters', 'phases.yaml'), 'utf8').catch(() => '');
    const pick = uniqueWord(book, phasesText);
    expect(pick, 'no word is unique to one chapter').toBeDefined();
    const page = await open(server, '/');
    await page.click('site-search button[data-open-modal]');
    const input = page.locator('#starlight__search input');
    await input.fill(pick!.word);
    const results = page.locator('#starlight__search .pagefind-ui__result');
    await results.first().waitFor({ timeout: 15_000 });
    expect(await results.count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'search.png') });
    await results.first().locator('a.pagefind-ui__result-link').first().click();
    await page.waitForURL((u) => u.pathname === `/chapters/${path.basename(pick!.chapter, '.md')}/`);
    expect(await page.locator('.sl-markdown-content').textContent()).toContain(pick!.word);
    await page.close();
  });

  test('the theme flips between light and dark', async () => {
    const page = await open(server, '/');
    const select = page.locator('starlight-theme-select select').first();
    await select.selectOption('light');
    expect(await page.getAttribute('html', 'data-theme')).toBe('light');
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await select.selectOption('dark');
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
    const darkBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(darkBg).not.toBe(lightBg);
    await page.screenshot({ path: path.join(SHOTS, 'board-dark.png') });
    const chapter = book.chapters.find((c) => c.blocks.some((b) => b.kind === 'file')) ?? book.chapters[0]!;
    await page.goto(`${server.url}/chapters/${path.basename(chapter.path, '.md')}/`);
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark');
    await page.screenshot({ path: path.join(SHOTS, 'chapter-dark.png') });
    await page.close();
  });
});
