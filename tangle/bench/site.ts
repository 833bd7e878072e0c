// Site budget for `npm run bench`: whole-site build time, JavaScript shipped per page (target under 300 KB) and
// the largest page weight. "Shipped" = what a page loads before the reader does anything: its inline scripts,
// module scripts and their static imports. Code loaded only on demand (Pagefind's search UI and index, fetched
// when the search box opens) is reported separately. Page weight = HTML + stylesheets + shipped JS + images.
// Use benchSite() from the bench harness, or run `tsx tangle/bench/site.ts` on its own.
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSite } from '../../site/lib/build-site.js';
import { repoRoot, siteInputs, type SiteInputs } from '../../site/lib/config.js';

export const JS_BUDGET_BYTES = 300 * 1024;
export const BUILD_BUDGET_MS = 30_000;

export interface PageWeight {
  page: string;
  htmlBytes: number;
  cssBytes: number;
  jsBytes: number;
  onDemandJsBytes: number;
  imageBytes: number;
  totalBytes: number;
  /** The HTML alone, gzip-compressed (what a server sending gzip puts on the wire for it). */
  htmlGzipBytes: number;
}

export interface SiteBench {
  /** Build with no highlight cache (a fresh clone, CI). */
  buildMs: number;
  /** The same build again, with the highlight cache the first one left (an author's rebuild). */
  warmBuildMs: number;
  pages: PageWeight[];
  maxJs: PageWeight;
  largest: PageWeight;
  jsBudgetBytes: number;
  withinBudget: boolean;
}

/** Builds the site (unless `build: false`), then weighs every page of the output. */
export async function benchSite(options: { inputs?: SiteInputs; build?: boolean } = {}): Promise<SiteBench> {
  const inputs = options.inputs ?? siteInputs();
  let buildMs = Number.NaN;
  let warmBuildMs = Number.NaN;
  if (options.build ?? true) {
    await dropHighlightCaches();
    buildMs = (await buildSite(inputs, () => {})).ms;
    warmBuildMs = (await buildSite(inputs, () => {})).ms;
  }
  const pages = await weighSite(inputs.outDir);
  if (pages.length === 0) throw new Error(`no pages in ${inputs.outDir}`);
  const maxJs = pages.reduce((a, b) => (b.jsBytes > a.jsBytes ? b : a));
  const largest = pages.reduce((a, b) => (b.totalBytes > a.totalBytes ? b : a));
  return { buildMs, warmBuildMs, pages, maxJs, largest, jsBudgetBytes: JS_BUDGET_BYTES, withinBudget: maxJs.jsBytes < JS_BUDGET_BYTES };
}

/** Removes the shiki caches of every site build (site/.astro/cache-*), so the next build highlights from scratch. */
async function dropHighlightCaches(): Promise<void> {
  const dir = path.join(repoRoot, 'site', '.astro');
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(path.join(dir, e, 'highlight-cache.json'), { force: true })));
}

export async function weighSite(outDir: string): Promise<PageWeight[]> {
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
  const html = entries.filter((e) => e.isFile() && e.name.endsWith('.html')).map((e) => path.join(e.parentPath, e.name));
  const size = sizeCache(outDir);
  const pages: PageWeight[] = [];
  for (const file of html.sort()) pages.push(await weighPage(outDir, file, size));
  return pages;
}

function sizeCache(outDir: string) {
  const cache = new Map<string, Promise<number>>();
  return (url: string): Promise<number> => {
    const file = path.join(outDir, url.split(/[?#]/)[0]!);
    let s = cache.get(file);
    if (!s) {
      s = stat(file).then(
        (st) => st.size,
        () => 0,
      );
      cache.set(file, s);
    }
    return s;
  };
}

async function weighPage(outDir: string, file: string, size: (url: string) => Promise<number>): Promise<PageWeight> {
  const html = await readFile(file, 'utf8');
  const page = `/${path.relative(outDir, file).replace(/index\.html$/, '')}`;
  const local = (u: string) => u.startsWith('/') && !u.startsWith('//');
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!).filter(local);
  const inlineJs = [...html.matchAll(/<script\b(?![^>]*\bsrc=)(?![^>]*type="application\/(?:ld\+)?json")[^>]*>([\s\S]*?)<\/script>/g)].reduce(
    (n, m) => n + Buffer.byteLength(m[1]!),
    0,
  );
  const css = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!).filter(local);
  const images = [...html.matchAll(/<img\b[^>]*src="([^"]+)"/g)].map((m) => m[1]!).filter(local);

  const shipped = new Set<string>();
  const onDemand = new Set<string>();
  const queue = [...scripts];
  const inlineCode = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).join('\n');
  for (const d of dynamicImports(inlineCode, '/')) onDemand.add(d);
  for (const s of staticImports(inlineCode, '/')) queue.push(s);
  while (queue.length) {
    const url = queue.pop()!;
    if (shipped.has(url)) continue;
    shipped.add(url);
    const code = await readFile(path.join(outDir, url), 'utf8').catch(() => '');
    queue.push(...staticImports(code, url));
    for (const d of dynamicImports(code, url)) onDemand.add(d);
  }
  // Follow what the on-demand modules import statically, too.
  const lazyQueue = [...onDemand];
  while (lazyQueue.length) {
    const url = lazyQueue.pop()!;
    const code = await readFile(path.join(outDir, url), 'utf8').catch(() => '');
    for (const s of [...staticImports(code, url), ...dynamicImports(code, url)])
      if (!onDemand.has(s) && !shipped.has(s)) {
        onDemand.add(s);
        lazyQueue.push(s);
      }
  }
  for (const s of shipped) onDemand.delete(s);

  const sum = async (urls: Iterable<string>) => (await Promise.all([...urls].map(size))).reduce((a, b) => a + b, 0);
  const htmlBytes = Buffer.byteLength(html);
  const cssBytes = await sum(new Set(css));
  const jsBytes = (await sum(shipped)) + inlineJs;
  const onDemandJsBytes = await sum(onDemand);
  const imageBytes = await sum(new Set(images));
  const htmlGzipBytes = gzipSync(html).length;
  return { page, htmlBytes, cssBytes, jsBytes, onDemandJsBytes, imageBytes, totalBytes: htmlBytes + cssBytes + jsBytes + imageBytes, htmlGzipBytes };
}

function resolveUrl(spec: string, from: string): string | undefined {
  if (!spec.startsWith('.') && !spec.startsWith('/')) return undefined;
  return new URL(spec, `http://site${from}`).pathname;
}

function staticImports(code: string, from: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*?\s*from\s*)?["']([^"']+)["']/g)) {
    const u = resolveUrl(m[1]!, from);
    if (u && /\.m?js$/.test(u)) out.push(u);
  }
  return out;
}

function dynamicImports(code: string, from: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/import\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) {
    const u = resolveUrl(m[1]!, from);
    if (u) out.push(u);
  }
  return out;
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function formatSiteBench(b: SiteBench): string[] {
  return [
    Number.isNaN(b.buildMs)
      ? `site: build not run, ${b.pages.length} pages`
      : `site: build ${(b.buildMs / 1000).toFixed(1)} s cold, ${(b.warmBuildMs / 1000).toFixed(1)} s with the highlight cache (budget ${BUILD_BUDGET_MS / 1000} s at W.4), ${b.pages.length} pages`,
    `site: JS shipped per page: max ${kb(b.maxJs.jsBytes)} on ${b.maxJs.page} (budget ${kb(b.jsBudgetBytes)}: ${b.withinBudget ? 'within' : 'OVER'}); search loads ${kb(b.maxJs.onDemandJsBytes)} more on demand`,
    `site: largest page ${b.largest.page}: ${kb(b.largest.totalBytes)} (HTML ${kb(b.largest.htmlBytes)}, ${kb(b.largest.htmlGzipBytes)} gzipped, CSS ${kb(b.largest.cssBytes)}, JS ${kb(b.largest.jsBytes)}, images ${kb(b.largest.imageBytes)})`,
  ];
}

if (process.argv[1] === import.meta.filename) {
  const noBuild = process.argv.includes('--no-build');
  const b = await benchSite({ build: !noBuild });
  for (const line of formatSiteBench(b)) console.log(line);
  if (process.argv.includes('--pages')) for (const p of b.pages) console.log(`  ${p.page}: JS ${kb(p.jsBytes)}, total ${kb(p.totalBytes)}`);
  process.exitCode = b.withinBudget ? 0 : 1;
}
