// npm run fuzz [-- target…] [--seconds N] [--gate]: builds the cargo-fuzz crates with the nightly toolchain and
// cargo-fuzz that set-up installed, replays every kept crash input (capos/fuzz/regressions/<target>/), seeds each
// target's corpus from the book's artifacts and runs it for N seconds (default 60), printing executions per target
// and the total time. `--gate` (npm test's stage) fuzzes each target from its seeds alone with a fixed libFuzzer
// seed and run count instead, so its verdict is the same on every run of one tree. A crash fails the command and
// leaves its input under build/fuzz/artifacts/<target>/. Built binaries are kept in a content-keyed cache outside
// the clone (tangle/fuzz/cache.ts): a fresh clone of an unchanged tree copies them instead of building.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { addToCorpus, seedInputs } from '../fuzz/seeds.js';
import { libFuzzerArgs, parseArgs, parseStats, type FuzzStats } from '../fuzz/libfuzzer.js';
import { selectTargets, type FuzzCrate } from '../fuzz/targets.js';
import { buildEnvFacts, builtFrom, cacheKey, cargoHomeConfigFact, cargoPathPackages, install, lookup, store, toolFacts } from '../fuzz/cache.js';
import { CARGO_FUZZ_VERSION, fuzzCacheDir, fuzzToolchain, type FuzzToolchain } from '../fuzz/toolchain.js';
import { repoRoot } from './root.js';

const root = repoRoot();

/** Scratch directories of the import target: in memory where the machine has /dev/shm (thousands per second). */
function fuzzTmp(): string {
  return existsSync('/dev/shm') ? join('/dev/shm', `capos-fuzz-${process.pid}`) : join(root, 'build/fuzz/tmp');
}
const t0 = performance.now();
const args = parseArgs(process.argv.slice(2));
const chosen = selectTargets(args.targets);
const tools: FuzzToolchain = await fuzzToolchain();
const env = {
  ...process.env,
  RUSTFLAGS: undefined,
  CARGO_TARGET_DIR: tools.targetDir,
  CAPOS_FUZZ_TMP: fuzzTmp(),
  // `cargo fuzz` finds the pinned cargo-fuzz first on PATH
  PATH: `${dirname(tools.cargoFuzz)}:${process.env.PATH ?? ''}`,
};
await mkdir(env.CAPOS_FUZZ_TMP, { recursive: true });

/** `cargo fuzz build`'s arguments for one crate; they are part of the crate's cache key too. */
function buildArgs(crate: FuzzCrate): string[] {
  // -s none: the targets are safe Rust (kcore and the adapter forbid unsafe code), so AddressSanitizer would add
  // cost and find nothing; debug assertions and overflow checks stay on (cargo-fuzz's default) unless the crate says.
  return [`+${tools.toolchain}`, 'fuzz', 'build', '-s', 'none', ...crate.buildFlags, '--fuzz-dir', crate.dir];
}

async function build(crate: FuzzCrate): Promise<void> {
  const t = performance.now();
  const args = buildArgs(crate);
  console.log(`fuzz: cargo ${args.join(' ')}`);
  const r = await execa('nice', ['-n', '10', 'cargo', ...args], { cwd: root, stdio: 'inherit', env, reject: false });
  if (r.exitCode !== 0) {
    // cargo printed its errors above; a stack trace of this script would only bury them
    console.error(`fuzz: building ${crate.dir} failed (cargo exit ${r.exitCode ?? r.signal}); cargo's messages are above`);
    process.exit(1);
  }
  console.log(`fuzz: built ${crate.dir} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

const releaseDir = join(tools.targetDir, 'x86_64-unknown-linux-gnu/release');
const binsDir = join(fuzzCacheDir(), 'bins');
const toolsSeen = { ...(await toolFacts(tools.toolchain, CARGO_FUZZ_VERSION)), 'cargo home config': await cargoHomeConfigFact(env) };

/** The crate's cache key: its path packages' files, the cargo configuration, the tools, the flags, the build's environment. */
async function crateKey(crate: FuzzCrate): Promise<string> {
  return cacheKey({
    root,
    packageDirs: await cargoPathPackages(root, crate.dir),
    // the kept crash inputs are read when the targets run, not compiled in
    skip: [`${crate.dir}/regressions`],
    extraFiles: ['.cargo/config.toml', '.cargo/config'],
    facts: { ...toolsSeen, ...buildEnvFacts(env), build: buildArgs(crate).join(' '), triple: 'x86_64-unknown-linux-gnu' },
  });
}

/** The crate's binaries from the cache when its key has a whole entry; else built, then stored under the key. */
async function buildOrReuse(crate: FuzzCrate): Promise<void> {
  const t = performance.now();
  const key = await crateKey(crate);
  const names = crate.targets.map((target) => target.name);
  const entry = await lookup(binsDir, key, names);
  if (entry) {
    await install(entry, names, releaseDir);
    console.log(`fuzz: ${crate.dir}: binaries from the cache (${entry}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return;
  }
  console.log(`fuzz: ${crate.dir}: no cache entry for key ${key}, building`);
  await build(crate);
  const built = Object.fromEntries(names.map((name) => [name, join(releaseDir, name)]));
  const stored = await store(binsDir, key, built, () => builtFrom(releaseDir, names, join(root, crate.dir)));
  console.log(
    stored
      ? `fuzz: ${crate.dir}: stored in ${join(binsDir, key)}`
      : `fuzz: ${crate.dir}: not stored (another run stored the key, or another clone's build replaced the binaries)`,
  );
}

// The gate's runs are reproducible only without address-space randomisation: pointer comparisons in the
// targets feed libFuzzer's table of compared values, and with ASLR those values, and so the mutations, differ
// from run to run. `setarch -R` turns it off for one process where the machine lets it.
const noAslr = args.gate && (await execa('setarch', ['x86_64', '-R', 'true'], { reject: false })).exitCode === 0;
if (args.gate && !noAslr) console.log('fuzz: setarch -R is not available here: the gate runs with ASLR, so its inputs vary from run to run');

const crates = [...new Set(chosen.map((c) => c.crate))];
// every target of a crate at once (cargo fuzz build takes one target or all; they share their dependencies)
for (const crate of crates) await buildOrReuse(crate);

interface Row {
  target: string;
  regressions: number;
  seeds: number;
  stats: FuzzStats;
  ok: boolean;
  seconds: number;
}
const rows: Row[] = [];
for (const { target } of chosen) {
  const bin = join(releaseDir, target.name);
  const t = performance.now();
  // 1. every input a fixed crash left behind, run once each
  const regDir = join(root, 'capos/fuzz/regressions', target.name);
  const regressions = existsSync(regDir)
    ? readdirSync(regDir)
        .sort()
        .map((f) => join(regDir, f))
    : [];
  let ok = true;
  if (regressions.length > 0) {
    const r = await execa(bin, regressions, { cwd: root, reject: false, env, all: true });
    ok = r.exitCode === 0;
    if (!ok) console.log(r.all);
  }
  // 2. the corpus, seeded from the book, then fuzzing: for the time given, or the gate's fixed runs from the seeds
  // alone (a corpus grown by earlier runs would make the gate's verdict depend on the tree's history)
  const corpus = join(root, args.gate ? 'build/fuzz/gate-corpus' : 'build/fuzz/corpus', target.name);
  if (args.gate) await rm(corpus, { recursive: true, force: true });
  const artifacts = `${join(root, 'build/fuzz/artifacts', target.name)}/`;
  await mkdir(artifacts, { recursive: true });
  const seeds = await addToCorpus(corpus, await seedInputs(root, target.seeds, target.maxLen));
  const fuzzArgs = [corpus, ...libFuzzerArgs(args, target, artifacts)];
  const [cmd, argv] = args.gate && noAslr ? ['setarch', ['x86_64', '-R', bin, ...fuzzArgs]] : [bin, fuzzArgs];
  const r = await execa(cmd, argv, { cwd: root, reject: false, env, all: true });
  const stats = parseStats(r.all ?? '');
  if (r.exitCode !== 0) {
    ok = false;
    console.log((r.all ?? '').split('\n').slice(-60).join('\n'));
  }
  const row = { target: target.name, regressions: regressions.length, seeds, stats, ok, seconds: (performance.now() - t) / 1000 };
  rows.push(row);
  // a gate run that hit the time cap before its runs explored less than the gate promises: say so
  const capped = args.gate && ok && stats.execs < target.gateRuns ? `, stopped by the ${args.seconds} s cap before ${target.gateRuns} runs` : '';
  console.log(
    `fuzz: ${row.target}: ${ok ? 'ok' : 'FAILED'}, ${stats.execs} execs (${stats.execsPerSec}/s), ${stats.features} features, ` +
      `${row.regressions} regression inputs, ${row.seeds} new seeds, ${row.seconds.toFixed(1)} s${capped}${stats.crash ? `, crash input ${stats.crash}` : ''}`,
  );
}
await rm(env.CAPOS_FUZZ_TMP, { recursive: true, force: true });
const failed = rows.filter((r) => !r.ok);
const execs = rows.reduce((n, r) => n + r.stats.execs, 0);
const fuzzing = rows.reduce((n, r) => n + r.seconds, 0);
console.log(
  `\nfuzz: ${rows.length} targets, ${execs} execs, ${fuzzing.toFixed(1)} s fuzzing, ${((performance.now() - t0) / 1000).toFixed(1)} s in all (with the build)`,
);
console.log(`fuzz targets: ${rows.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length > 0 ? 1 : 0;
