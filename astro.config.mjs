// The book's site: Starlight on Astro, rendering the chapters through the tangler's own parser (site/lib/).
// Inputs and output are configurable so the same site builds from fixture chapters and results:
//   BOOK_ROOT   directory holding chapters/ (default: this repository)
//   RESULTS_DIR smoke results (default: $BOOK_ROOT/results/smoke)
//   BENCH_DIR   benchmark reports for /performance/ (default: $BOOK_ROOT/results/bench/reports)
//   SITE_OUT    output directory (default: site/dist; `npm run preview` serves that)
//   WATCH_STATUS `npm run watch`'s status file: adds its banner and content reloads to the dev server
import path from 'node:path';
import starlight from '@astrojs/starlight';
import { defineConfig } from 'astro/config';
import { astroCacheDir } from './site/lib/config.ts';
import { watchBanner } from './site/lib/watch-banner.ts';

const outDir = path.resolve(process.env.SITE_OUT ?? 'site/dist');

export default defineConfig({
  srcDir: './site/src',
  publicDir: './site/public',
  outDir,
  cacheDir: astroCacheDir(outDir),
  site: 'http://127.0.0.1:4321',
  trailingSlash: 'always',
  // The dev server (`npm run watch`) watches the site's own sources; the book's build tree is large, holds symlink
  // loops (the conformance sandboxes) and changes on every build. Chapters reach the dev server through the watch.
  vite: {
    server: { watch: { ignored: ['**/build/**', '**/vendor/**', '**/capos/**', '**/capos-wasm/**', '**/demos/**', '**/manifests/**', '**/results/**'] } },
  },
  integrations: [
    ...(process.env.WATCH_STATUS ? [watchBanner(process.env.WATCH_STATUS)] : []),
    starlight({
      title: 'WASI on capOS',
      description: 'A literate program: the WASI host adapter for capOS, tangled, built, booted and checked from its chapters.',
      // Chapters are rendered by site/lib with shiki directly; Expressive Code would only add unused JS and CSS.
      expressiveCode: false,
      pagefind: true,
      lastUpdated: false,
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 3 },
      customCss: ['./site/src/styles/book.css'],
      components: { PageTitle: './site/src/components/PageTitle.astro' },
      sidebar: [
        { label: 'Phase board', link: '/' },
        { label: 'Chapters', autogenerate: { directory: 'chapters' } },
        { label: 'Performance', link: '/performance/' },
        { label: 'File map', link: '/files/' },
      ],
    }),
  ],
});
