// `cargo test` for the host-testable Rust: the capos crates that build for the host (HOST_TESTED below,
// those the workspace has) and capos-wasm's host tests (its `host` feature), into build/cargo/host, without capOS RUSTFLAGS.
// capos-wasm is tangled, so its run goes through the tangle map: compiler messages (cargo's JSON) and the tests' own
// output (a panic's `src/…:line:col`) name chapter lines, with the generated position in brackets (chapter A.2).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { runCargo } from '../check/cargo-run.js';
import { HOST_TESTED } from '../check/clippy.js';
import { packageFeatures } from '../build/cargo.js';
import { cargoTranslator, loadTangleMap, type LineTranslator } from '../diag/remap.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const cargo = (args: string[], translate?: LineTranslator) => runCargo(root, args, translate ? { translate } : {});

const meta = await execa('cargo', ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', 'capos/Cargo.toml'], { cwd: root });
const present = new Set((JSON.parse(meta.stdout) as { packages: { name: string }[] }).packages.map((p) => p.name));
const pkgs = HOST_TESTED.filter((p) => present.has(p));
const statuses = [
  await cargo(['test', '--manifest-path', 'capos/Cargo.toml', '--target-dir', 'build/cargo/host', '-j', '2', ...pkgs.flatMap((p) => ['-p', p])]),
];
const wasmToml = join(root, 'capos-wasm/Cargo.toml');
if (existsSync(wasmToml)) {
  const host = (await packageFeatures(root, 'capos-wasm/Cargo.toml', 'capos-wasm')).includes('host');
  // run even when the kernel crates failed, so one run reports every failing suite
  statuses.push(
    await cargo(
      ['test', '--manifest-path', 'capos-wasm/Cargo.toml', '--target-dir', 'build/cargo/host', '-j', '2', ...(host ? ['--features', 'host'] : [])],
      cargoTranslator(await loadTangleMap(root), 'capos-wasm'),
    ),
  );
}
process.exitCode = statuses.find((s) => s !== 0) ?? 0;
