// npm run build [-- --force] [-- --no-tangle]: tangle the book, then build every step that is out of date.
import { allSmokes, describeError, tangle } from '../build/book.js';
import { buildAll } from '../build/plan.js';
import { setupProblem } from '../build/preflight.js';
import { fmtMs } from '../build/step.js';
import { repoRoot } from './root.js';

const args = process.argv.slice(2);
const root = repoRoot();
const t0 = performance.now();
try {
  console.log('build:');
  const t = args.includes('--no-tangle') ? null : await tangle(root, console.log);
  const manifests = t ? allSmokes(t.book).map((s) => s.manifest) : [];
  const unset = await setupProblem(root, 'build');
  if (unset) throw new Error(unset);
  await buildAll(root, { force: args.includes('--force'), manifests });
  console.log(`build: done in ${fmtMs(performance.now() - t0)}`);
} catch (e) {
  console.error(`build failed: ${describeError(e)}`);
  process.exitCode = 1;
}
