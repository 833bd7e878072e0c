// npm start (after tangle/setup/setup.sh): tangle, build, smoke every phase, build the site, then say where
// everything is. Smoke failures do not stop the site build (the site shows them), but do fail the command.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { printSummary, runStages } from './stages.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const tsx = 'node_modules/.bin/tsx';
const t0 = performance.now();
const results = await runStages(root, 'start', [
  { name: 'tangle', cmd: tsx, args: ['tangle/cli/tangle.ts'] },
  { name: 'build', cmd: tsx, args: ['tangle/cli/build.ts', '--no-tangle'], needs: ['tangle'] },
  { name: 'smoke', cmd: tsx, args: ['tangle/cli/smoke.ts'], needs: ['build'] },
  ...(existsSync(join(root, 'tangle/cli/site.ts')) ? [{ name: 'site', cmd: tsx, args: ['tangle/cli/site.ts'], needs: ['tangle'] }] : []),
]);
printSummary('start', results);
const smokes = existsSync(join(root, 'results/smoke')) ? readdirSync(join(root, 'results/smoke')).filter((f) => f.endsWith('.json')) : [];
console.log(`\nWhere everything is (${((performance.now() - t0) / 1000).toFixed(1)} s):
  book chapters     chapters/*.md (the source of truth; capos-wasm/, demos/, manifests/ are tangled from them)
  build outputs     build/capos/, build/capos-wasm/, build/host/, build/demos/, build/images/<manifest>/manifest.bin
  build logs        build/logs/<step>.log
  smoke results     results/smoke/ (${smokes.length} file${smokes.length === 1 ? '' : 's'}: ${smokes.join(', ') || 'none'})
  site              ${existsSync(join(root, 'site/dist')) ? 'site/dist/' : '(not built)'} — open it with \`npm run preview\` (http://127.0.0.1:4321/)
  boot one system   npm run run -- <smoke name or manifest>   (e.g. npm run run -- run-wasm-host; Ctrl-C quits)`);
process.exitCode = results.some((r) => r.status !== 'passed') ? 1 : 0;
