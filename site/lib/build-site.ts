// Builds the static site with Astro in a child process, so each build reads its own BOOK_ROOT / RESULTS_DIR /
// SITE_OUT (astro.config.mjs and the content loaders read them at start-up). Before Astro starts, the book and
// the results and bench reports are loaded once here: a broken chapter or a malformed results or report file fails
// fast with its file name.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { astroCacheDir, repoRoot, siteInputs, type SiteInputs } from './config.js';
import { reportViews } from './performance.js';
import { siteData } from './site-data.js';

export interface SiteBuild {
  inputs: SiteInputs;
  ms: number;
  pages: number;
}

export async function buildSite(inputs: SiteInputs = siteInputs(), log: (line: string) => void = console.log): Promise<SiteBuild> {
  const t0 = performance.now();
  const data = await siteData(inputs);
  const reports = await reportViews(inputs.bookRoot, inputs.benchDir);
  log(
    `  site: ${data.book.chapters.length} chapters, ${data.tangled.length} tangled files, ${data.results.size} smoke results from ${path.relative(repoRoot, inputs.resultsDir) || '.'}, ` +
      `${reports.filter((r) => r.report).length} bench reports (${reports.filter((r) => r.state === 'current').length} current)`,
  );
  const env = {
    ...cleanEnv(),
    BOOK_ROOT: inputs.bookRoot,
    RESULTS_DIR: inputs.resultsDir,
    BENCH_DIR: inputs.benchDir,
    SITE_OUT: inputs.outDir,
    ASTRO_TELEMETRY_DISABLED: '1',
    NODE_ENV: 'production',
  };
  // Astro keeps the collections of the last build in its data store and could serve a page from it before the
  // loaders have replaced it (a stamped chapter's phase showed as not stamped in the first build after the stamp).
  // Every loader fills its collection from scratch anyway, so the store is dropped; the highlight cache stays.
  await rm(path.join(astroCacheDir(inputs.outDir), 'data-store.json'), { force: true });
  const child = execa(process.execPath, [path.join(repoRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', repoRoot], {
    cwd: repoRoot,
    env,
    extendEnv: false,
    all: true,
    reject: false,
  });
  const res = await child;
  if (res.exitCode !== 0) {
    throw new Error(`astro build failed (exit ${res.exitCode}):\n${tail(res.all ?? '', 40)}`);
  }
  const pages = await countPages(inputs.outDir);
  return { inputs, ms: performance.now() - t0, pages };
}

/**
 * The environment without what a test runner adds: vitest exports import.meta.env as DEV, PROD, MODE, SSR, … and
 * NODE_ENV=test, and Astro would then build dev-mode pages (Starlight's search says "only in production builds").
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const drop = new Set(['DEV', 'PROD', 'MODE', 'SSR', 'BASE_URL', 'TEST', 'NODE_ENV']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !drop.has(k) && !k.startsWith('VITEST')));
}

function tail(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

async function countPages(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.html')) n++;
  return n;
}
