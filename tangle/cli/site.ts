// `npm run site`: build the book's static site (Astro + Starlight) into site/dist (or $SITE_OUT).
// Inputs: $BOOK_ROOT (default: the repository), $RESULTS_DIR (default: results/smoke). Serve it with `npm run preview`.
import path from 'node:path';
import { buildSite } from '../../site/lib/build-site.js';
import { repoRoot, siteInputs } from '../../site/lib/config.js';

const inputs = siteInputs();
console.log(`site: building from ${path.relative(repoRoot, inputs.bookRoot) || '.'}/chapters …`);
try {
  const built = await buildSite(inputs);
  const out = path.relative(process.cwd(), built.inputs.outDir) || '.';
  console.log(`site: built ${built.pages} pages in ${(built.ms / 1000).toFixed(1)} s → ${out}/`);
  const env = process.env.SITE_OUT ? `SITE_OUT=${process.env.SITE_OUT} ` : '';
  console.log(`site: open it with \`${env}npm run preview\` → http://127.0.0.1:4321/ (or open ${out}/index.html; search needs the server)`);
} catch (e) {
  console.error(`site: ${(e as Error).message}`);
  process.exit(1);
}
