// Where the site reads the book and the smoke results from. Environment variables make the same site build from
// fixture chapters and fixture results into a separate output directory (the browser test does exactly that).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: two levels above this file (site/lib/config.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SiteInputs {
  /** Directory holding chapters/ (and the hand-written files include blocks name). */
  bookRoot: string;
  /** Directory holding <smoke name>.json result files. */
  resultsDir: string;
  /** Directory holding the benchmarks' published reports (<id>.json, tangle/bench/report.ts). */
  benchDir: string;
  /** Where the static site is written. */
  outDir: string;
}

export function siteInputs(env: NodeJS.ProcessEnv = process.env): SiteInputs {
  const bookRoot = path.resolve(repoRoot, env.BOOK_ROOT ?? '.');
  return {
    bookRoot,
    resultsDir: path.resolve(repoRoot, env.RESULTS_DIR ?? path.join(bookRoot, 'results', 'smoke')),
    benchDir: path.resolve(repoRoot, env.BENCH_DIR ?? path.join(bookRoot, 'results', 'bench', 'reports')),
    outDir: path.resolve(repoRoot, env.SITE_OUT ?? path.join('site', 'dist')),
  };
}

/** Astro's cache directory for a build into `outDir`: one per output directory, so a fixture build never reuses the
 * real book's content store (astro.config.mjs sets it; buildSite clears its data store). */
export function astroCacheDir(outDir: string): string {
  const key = createHash('sha256').update(outDir).digest('hex').slice(0, 12);
  return path.join(repoRoot, 'site', '.astro', `cache-${key}`);
}
