// `cargo clippy` with warnings denied over every Rust build the book makes, with the build's own targets, flags and
// target folders (so clippy reuses the build scripts and dependencies the build already compiled): capos/ on the host
// (the host-tested crates, with their tests) and for capOS (the kernel for bare metal, init, services, drivers and
// capos-rt with the process RUSTFLAGS), and the tangled capos-wasm for both sides. capos-wasm's messages go through
// the tangle map, so they name chapter lines. Then both fuzz workspaces. A lint is allowed only where it fires, with
// a reason (chapter A.2).
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import { CAPOS_RUSTFLAGS, CAPOS_TARGET, isCaposPackageDir, KERNEL_RUSTFLAGS, KERNEL_TARGET, packageFeatures } from '../build/cargo.js';
import { cargoTranslator, loadTangleMap } from '../diag/remap.js';
import { runCargo } from './cargo-run.js';

/** The capos/ crates `npm run test:cargo` tests on the host. */
export const HOST_TESTED = ['capos-kcore', 'capos-abi', 'capos-schema', 'capos-rt', 'capos-memfns', 'mkmanifest', 'capos-storefs', 'capos-httpwire'];

/** One clippy invocation. */
export interface ClippyRun {
  name: string;
  args: string[];
  rustflags?: string;
  tangled?: boolean;
  /** the tangled workspace its paths are relative to (default capos-wasm) */
  workspace?: string;
}

const DENY = ['--', '-D', 'warnings'];

async function caposPackages(root: string): Promise<{ name: string; dir: string }[]> {
  const meta = await execa('cargo', ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', 'capos/Cargo.toml'], { cwd: root });
  const pkgs = (JSON.parse(meta.stdout) as { packages: { name: string; manifest_path: string }[] }).packages;
  return pkgs.map((p) => ({ name: p.name, dir: relative(root, dirname(p.manifest_path)).split(sep).join('/') }));
}

/** The runs, in order; `only` keeps the ones for that package (`capos-rt` for `make capos-rt-check`). */
export async function clippyRuns(root: string, only?: string): Promise<ClippyRun[]> {
  const pkgs = await caposPackages(root);
  const present = new Set(pkgs.map((p) => p.name));
  const pick = (names: string[]) => names.filter((n) => present.has(n) && (only === undefined || n === only)).flatMap((n) => ['-p', n]);
  const capos = ['clippy', '--manifest-path', 'capos/Cargo.toml', '-j', '2'];
  const runs: ClippyRun[] = [];
  const host = pick(HOST_TESTED);
  if (host.length) runs.push({ name: 'capos host', args: [...capos, '--target-dir', 'build/cargo/host', '--all-targets', ...host, ...DENY] });
  const kernel = pick(pkgs.filter((p) => p.dir === 'capos/kernel').map((p) => p.name));
  if (kernel.length)
    runs.push({
      name: 'capos kernel',
      rustflags: KERNEL_RUSTFLAGS,
      args: [...capos, '--target-dir', 'build/cargo/capos', '--release', '--target', KERNEL_TARGET, ...kernel, ...DENY],
    });
  const programs = pick(['capos-rt', ...pkgs.filter((p) => isCaposPackageDir(p.dir) && p.dir !== 'capos/kernel').map((p) => p.name)]);
  if (programs.length)
    runs.push({
      name: 'capos programs',
      rustflags: CAPOS_RUSTFLAGS,
      args: [...capos, '--target-dir', 'build/cargo/capos', '--release', '--target', CAPOS_TARGET, ...programs, ...DENY],
    });
  const wasm = 'capos-wasm/Cargo.toml';
  if (only === undefined && existsSync(join(root, wasm))) {
    const features = await packageFeatures(root, wasm, 'capos-wasm');
    const base = ['clippy', '--manifest-path', wasm, '-j', '2'];
    if (features.includes('capos'))
      runs.push({
        name: 'capos-wasm capOS',
        rustflags: CAPOS_RUSTFLAGS,
        tangled: true,
        args: [...base, '--target-dir', 'build/cargo/capos', '--release', '--target', CAPOS_TARGET, '--features', 'capos', '--bins', ...DENY],
      });
    runs.push({
      name: 'capos-wasm host',
      tangled: true,
      args: [...base, '--target-dir', 'build/cargo/host', '--all-targets', ...(features.includes('host') ? ['--features', 'host'] : []), ...DENY],
    });
  }
  // The fuzz harnesses (appendix A.9) with the stable toolchain: only their libFuzzer build needs nightly, and a lint
  // set that changes every night would fail CI for no change here. Their own folder, as their lock files differ.
  if (only === undefined) {
    const fuzzDir = ['--target-dir', 'build/cargo/fuzz-clippy', '-j', '2', '--all-targets'];
    if (existsSync(join(root, 'capos/fuzz/Cargo.toml')))
      runs.push({ name: 'capos fuzz', args: ['clippy', '--manifest-path', 'capos/fuzz/Cargo.toml', ...fuzzDir, ...DENY] });
    if (existsSync(join(root, 'capos-wasm/fuzz/Cargo.toml')))
      runs.push({
        name: 'capos-wasm fuzz',
        tangled: true,
        workspace: 'capos-wasm/fuzz',
        args: ['clippy', '--manifest-path', 'capos-wasm/fuzz/Cargo.toml', ...fuzzDir, ...DENY],
      });
  }
  return runs;
}

/** Runs every clippy invocation (all of them, so one run reports every finding); the exit status of the first failure. */
export async function runClippy(root: string, only?: string, log: (line: string) => void = console.log): Promise<number> {
  const map = await loadTangleMap(root);
  const statuses: number[] = [];
  for (const run of await clippyRuns(root, only)) {
    const t0 = performance.now();
    const status = await runCargo(root, run.args, {
      log,
      ...(run.rustflags ? { rustflags: run.rustflags } : {}),
      ...(run.tangled ? { translate: cargoTranslator(map, run.workspace ?? 'capos-wasm') } : {}),
    });
    log(`clippy: ${run.name}: ${status === 0 ? 'clean' : 'FAILED'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    statuses.push(status);
  }
  return statuses.find((s) => s !== 0) ?? 0;
}
