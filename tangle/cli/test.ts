// npm test (after tangle/setup/setup.sh): tangle, typecheck, the format check, the generated-code check, every chapter
// state's tangle, the vitest suites, host `cargo test`, the full smoke, the watch test, clippy, a bounded fuzz run, the
// site build and, once present, the browser tests (tangle/test/**/*.browser.test.ts, run after the site is built). Not
// the benchmarks.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { printSummary, runStages, type Stage } from './stages.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const tsx = 'node_modules/.bin/tsx';
const vitest = 'node_modules/.bin/vitest';

function browserTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.browser.test.ts'))
    .map((f) => join('tangle/test', f));
}

const browser = browserTests(join(root, 'tangle/test'));
const stages: Stage[] = [
  { name: 'tangle', cmd: tsx, args: ['tangle/cli/tangle.ts'] },
  { name: 'typecheck', cmd: 'node_modules/.bin/tsc', args: ['--noEmit'] },
  // every formatter in check mode (make fmt-check): cargo fmt on capos/, rustfmt on the chapters' Rust, Biome
  { name: 'fmt check', cmd: tsx, args: ['tangle/cli/fmt.ts', '--check'], needs: ['tangle'] },
  // the schema's ids and ordinals as pinned, the tangled tree as the chapters (make generated-code-check)
  { name: 'generated-code check', cmd: tsx, args: ['tangle/cli/generated-code-check.ts'], needs: ['tangle'] },
  // every WASI phase's state of the book tangles on its own (chapter A.2, "Chapter states")
  { name: 'chapter states', cmd: tsx, args: ['tangle/cli/states.ts'], needs: ['tangle'] },
  { name: 'vitest', cmd: vitest, args: ['run', '--exclude', '**/*.browser.test.ts'] },
  { name: 'cargo test', cmd: tsx, args: ['tangle/cli/cargo-tests.ts'], needs: ['tangle'] },
  { name: 'smoke', cmd: tsx, args: ['tangle/cli/smoke.ts'], needs: ['tangle'] },
  // `npm run watch` in a scratch copy of this tree and its build: a saved chapter is booted again (tangle/test/watch/)
  { name: 'watch', cmd: vitest, args: ['run', 'tangle/test/watch/watch.built.test.ts'], needs: ['smoke'], env: { BUILT_TESTS: '1' } },
  // warnings denied, in the target folders cargo test and the smoke's build used, after both, so it reuses their build
  // scripts and proc macros
  { name: 'clippy', cmd: tsx, args: ['tangle/cli/clippy.ts'], needs: ['tangle'] },
  // every fuzz target for a fixed number of runs from a fixed libFuzzer seed, its kept crash inputs replayed first
  // (appendix A.9); after the smoke, whose build made the manifests and demo modules the corpora are seeded from
  {
    name: 'fuzz',
    cmd: tsx,
    args: ['tangle/cli/fuzz.ts', '--gate', 'ring_submit', 'cap_table', 'manifest_decode', 'manifest_lower', 'wasi_imports', 'wasm_smith', 'wasm_bytes'],
    needs: ['tangle'],
  },
  ...(existsSync(join(root, 'tangle/cli/site.ts')) ? [{ name: 'site', cmd: tsx, args: ['tangle/cli/site.ts'], needs: ['tangle'] }] : []),
  ...(browser.length ? [{ name: 'browser', cmd: vitest, args: ['run', ...browser], needs: ['site'] }] : []),
];
const t0 = performance.now();
const results = await runStages(root, 'test', stages);
printSummary('test', results);
const failed = results.filter((r) => r.status !== 'passed');
console.log(`\ntest: ${results.length} stages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
// the plain closing line CI reads
console.log(`stages: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length > 0 ? 1 : 0;
