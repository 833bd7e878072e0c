// The dev server half of `npm run watch`, in a real browser: Astro's dev server over a copy of the site's fixture book,
// with WATCH_STATUS set as the watch sets it. The test writes the status file as the watch does and checks that
//  - every page carries the banner, which shows a cycle's state, and a failed one's problems at their chapter lines;
//  - a cycle that ends with the book tangled reloads the content: a sentence saved into the chapter appears on the
//    open page without the test reloading it.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { repoRoot } from '../../../site/lib/config.js';
import { chapterHref } from '../../../site/lib/slugs.js';
import { writeStatus, type WatchStatus } from '../../watch/status.js';
import { FIXTURE_BOOK } from '../site/fixture-results.js';

const CHAPTER = 'chapters/10-w1-first.md';
// a dev server renders its first page on demand: on a loaded two-core machine that takes a while
const START_MS = 180_000;

let scratch: string;
let server: ResultPromise | undefined;
let url: string;
let context: BrowserContext;
const log: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function status(generation: number, over: Partial<WatchStatus>): WatchStatus {
  return {
    generation,
    state: 'passed',
    step: 'done',
    changed: [CHAPTER],
    startedAt: new Date().toISOString(),
    summary: 'fixture',
    problems: [],
    smokes: [],
    ...over,
  };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'watch-banner-'));
  await mkdir(path.join(repoRoot, 'results/site'), { recursive: true });
  await cp(FIXTURE_BOOK, path.join(scratch, 'book'), { recursive: true });
  await mkdir(path.join(scratch, 'results'), { recursive: true });
  await writeStatus(scratch, status(1, { summary: 'the book tangles (3 chapters); waiting for a save', changed: [] }));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = execa(
    process.execPath,
    [path.join(repoRoot, 'node_modules/astro/astro.js'), 'dev', '--root', repoRoot, '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: repoRoot,
      all: true,
      buffer: false,
      reject: false,
      env: {
        BOOK_ROOT: path.join(scratch, 'book'),
        RESULTS_DIR: path.join(scratch, 'results'),
        BENCH_DIR: path.join(scratch, 'bench'),
        SITE_OUT: path.join(scratch, 'dist'),
        WATCH_STATUS: path.join(scratch, 'build/watch/status.json'),
        ASTRO_TELEMETRY_DISABLED: '1',
      },
    },
  );
  server.all?.on('data', (chunk: Buffer) => log.push(...chunk.toString('utf8').split('\n')));
  const deadline = Date.now() + START_MS;
  for (;;) {
    const ok = await fetch(`${url}/__watch/status`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the dev server did not start:\n${log.slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  context = await chromium.launchPersistentContext(await mkdtemp(path.join(tmpdir(), 'watch-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, START_MS + 60_000);

afterAll(async () => {
  await context?.close();
  server?.kill('SIGINT');
  await server?.catch(() => {});
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test(
  'the banner shows each cycle, a failure at its chapter line, and a saved chapter reaches the open page',
  async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url + chapterHref(CHAPTER), { timeout: START_MS });
    const banner = page.locator('#watch-banner');
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 20_000 }).toBe('passed');
    expect(await banner.textContent()).toContain('waiting for a save');

    // 2: the chapter does not tangle
    const where = `${CHAPTER}:51:27`;
    await writeStatus(
      scratch,
      status(2, {
        state: 'failed',
        step: 'tangle',
        summary: 'the book does not tangle: 1 problem; nothing was written',
        problems: [{ where, message: 'unknown attribute `fiel`' }],
      }),
    );
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    expect(await banner.textContent()).toContain(`${where}: unknown attribute \`fiel\``);
    await page.screenshot({ path: path.join(repoRoot, 'results/site/watch-banner-failed.png') });

    // 3: a new sentence saved, then a cycle that passes: the page reloads with it
    const sentence = 'A sentence the watch test saved into the chapter.';
    const file = path.join(scratch, 'book', CHAPTER);
    await writeFile(file, (await readFile(file, 'utf8')).replace('The program prints a greeting', `${sentence}\n\nThe program prints a greeting`));
    await writeStatus(
      scratch,
      status(3, { smokes: [{ name: 'fix-pass', where: `${CHAPTER}:40`, ok: true, failures: [] }], summary: '1 smoke passed: fix-pass' }),
    );
    try {
      await expect.poll(() => page.locator('main').textContent(), { timeout: 60_000 }).toContain(sentence);
    } catch (e) {
      throw new Error(`the page never showed the saved sentence; the dev server said:\n${log.slice(-30).join('\n')}`, { cause: e });
    }
    await expect.poll(() => banner.getAttribute('data-state'), { timeout: 20_000 }).toBe('passed');
    expect(await banner.textContent()).toContain('1 smoke passed: fix-pass');
    expect(errors).toEqual([]);
  },
  START_MS + 120_000,
);
