// Cargo steps: capOS binaries (kernel, init, services) cross-built for bare metal with the contract's RUSTFLAGS,
// host tools (mkmanifest), and capos-wasm for both sides. Cargo always runs from the repo root with --manifest-path
// so the generated .cargo/config.toml (vendored sources) applies.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import { cargoStatusLine, runTool, StepError } from './exec.js';
import type { BuildStep } from './step.js';
import { cargoTranslator, type TangleMap } from '../diag/remap.js';
import { exists, listFiles } from './stamp.js';

export const CAPOS_TARGET = 'x86_64-unknown-linux-gnu';
export const CAPOS_RUSTFLAGS = [
  '-C relocation-model=static',
  '-C no-redzone=yes',
  '-C target-cpu=x86-64',
  '-C link-arg=-nostartfiles',
  '-C link-arg=-nostdlib',
  '-C link-arg=-static',
  '-C link-arg=-Wl,--build-id=none',
  '-C link-arg=-Wl,-n',
].join(' ');
/** The kernel is built for the soft-float bare-metal target, so no compiled kernel code touches the FPU/SSE registers
 * and a system call need not save them (the kernel appendix, "The FPU belongs to the last process"). It is linked in
 * the top 2 GiB, which only the kernel code model (sign-extended 32-bit addresses) reaches; user programs at 0x400000
 * keep the small model (see the kernel appendix, "Building and booting"). That target links with rust-lld directly,
 * so the link arguments are the linker's own, not the C compiler driver's. */
export const KERNEL_TARGET = 'x86_64-unknown-none';
export const KERNEL_RUSTFLAGS = [
  '-C relocation-model=static',
  '-C no-redzone=yes',
  '-C code-model=kernel',
  '-C link-arg=--build-id=none',
  '-C link-arg=-n',
].join(' ');
export const PROFILE = 'release';

const SKIP = new Set(['target', '.git', 'node_modules']);

/** Which capos/ packages are capOS programs (everything else with a bin target is a host tool). */
export function isCaposPackageDir(rel: string): boolean {
  return rel === 'capos/kernel' || rel === 'capos/init' || rel.startsWith('capos/services/') || rel.startsWith('capos/drivers/');
}

interface CargoBin {
  pkg: string;
  bin: string;
  dir: string;
  features: string[];
}

/** `cargo metadata --no-deps` for `manifest`, as JSON text. */
async function cargoMetadata(root: string, manifest: string): Promise<string> {
  const args = ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', manifest];
  const r = await execa('cargo', [...args, '--offline'], { cwd: root, reject: false });
  if (r.exitCode === 0) return r.stdout;
  // --offline fails before vendoring when the registry cache lacks something; retry letting cargo decide
  const r2 = await execa('cargo', args, { cwd: root, reject: false });
  if (r2.exitCode !== 0) throw new StepError('cargo metadata', `cargo metadata for ${manifest} failed:\n${r2.stderr}`);
  return r2.stdout;
}

async function cargoBins(root: string, manifest: string): Promise<CargoBin[]> {
  return parseBins(root, await cargoMetadata(root, manifest));
}

/** The features `cargo metadata` reports for the package in `dir` (none if it has no such package). */
export async function packageFeatures(root: string, manifest: string, dir: string): Promise<string[]> {
  const meta = JSON.parse(await cargoMetadata(root, manifest)) as { packages: { manifest_path: string; features: Record<string, string[]> }[] };
  const pkg = meta.packages.find((p) => relative(root, dirname(p.manifest_path)).split(sep).join('/') === dir);
  return pkg ? Object.keys(pkg.features) : [];
}

function parseBins(root: string, json: string): CargoBin[] {
  const meta = JSON.parse(json) as {
    packages: { name: string; manifest_path: string; features: Record<string, string[]>; targets: { name: string; kind: string[] }[] }[];
  };
  const out: CargoBin[] = [];
  for (const p of meta.packages) {
    const dir = relative(root, dirname(p.manifest_path)).split(sep).join('/');
    for (const t of p.targets) if (t.kind.includes('bin')) out.push({ pkg: p.name, bin: t.name, dir, features: Object.keys(p.features) });
  }
  return out;
}

/** cargo/rustc versions are part of every cargo stamp: a toolchain change rebuilds. The build asks once and passes
 * them to each cargo step. */
export async function toolVersions(root: string): Promise<string[]> {
  const rs = await Promise.all([execa('cargo', ['-V'], { cwd: root }), execa('rustc', ['-V'], { cwd: root })]);
  return rs.map((r) => r.stdout.trim());
}

async function cargoInputs(root: string, dirs: string[]): Promise<string[]> {
  const files = (await Promise.all(dirs.map((d) => listFiles(root, d, SKIP)))).flat();
  return [...files, '.cargo/config.toml'];
}

function cargoArgs(manifest: string, targetDir: string, extra: string[]): string[] {
  return ['build', '--manifest-path', manifest, '--target-dir', targetDir, `--${PROFILE}`, '-j', '2', ...extra];
}

async function copyOut(root: string, from: string, to: string): Promise<string> {
  if (!(await exists(join(root, from)))) throw new StepError(to, `expected cargo to produce ${from}, it is missing`);
  await mkdir(dirname(join(root, to)), { recursive: true });
  await copyFile(join(root, from), join(root, to));
  return to;
}

/** capOS kernel, init and services → build/capos/<bin> */
export async function caposStep(root: string, versions: string[]): Promise<BuildStep> {
  const manifest = 'capos/Cargo.toml';
  return {
    name: 'capos',
    extra: [
      `RUSTFLAGS=${CAPOS_RUSTFLAGS}`,
      `kernel RUSTFLAGS=${KERNEL_RUSTFLAGS}`,
      `target=${CAPOS_TARGET}`,
      `kernel target=${KERNEL_TARGET}`,
      PROFILE,
      ...versions,
    ],
    inputs: () => cargoInputs(root, ['capos']),
    async run() {
      const bins = (await cargoBins(root, manifest)).filter((b) => isCaposPackageDir(b.dir));
      if (bins.length === 0) throw new StepError('capos', 'no capOS binaries found in capos/ (kernel, init, services/*)');
      const pkgsOf = (kernel: boolean) => [...new Set(bins.filter((b) => (b.dir === 'capos/kernel') === kernel).map((b) => b.pkg))].flatMap((p) => ['-p', p]);
      for (const [kernel, flags, target] of [
        [true, KERNEL_RUSTFLAGS, KERNEL_TARGET],
        [false, CAPOS_RUSTFLAGS, CAPOS_TARGET],
      ] as const) {
        const pkgs = pkgsOf(kernel);
        if (pkgs.length === 0) continue;
        await runTool(root, kernel ? 'capos-kernel' : 'capos', 'cargo', cargoArgs(manifest, 'build/cargo/capos', ['--target', target, ...pkgs]), {
          cwd: root,
          env: { RUSTFLAGS: flags },
          echo: cargoStatusLine,
        });
      }
      const outDir = (b: CargoBin) => `build/cargo/capos/${b.dir === 'capos/kernel' ? KERNEL_TARGET : CAPOS_TARGET}/${PROFILE}`;
      return Promise.all(bins.map((b) => copyOut(root, `${outDir(b)}/${b.bin}`, `build/capos/${b.bin}`)));
    },
  };
}

/** Host tools in capos/ (mkmanifest …) → build/cargo/host/release/<bin> */
export async function hostToolsStep(root: string, versions: string[]): Promise<BuildStep> {
  const manifest = 'capos/Cargo.toml';
  return {
    name: 'host-tools',
    extra: [PROFILE, ...versions],
    inputs: () => cargoInputs(root, ['capos']),
    async run() {
      const bins = (await cargoBins(root, manifest)).filter((b) => !isCaposPackageDir(b.dir));
      const pkgs = [...new Set(bins.map((b) => b.pkg))].flatMap((p) => ['-p', p]);
      if (pkgs.length === 0) return [];
      await runTool(root, 'host-tools', 'cargo', cargoArgs(manifest, 'build/cargo/host', pkgs), { cwd: root, unsetEnv: ['RUSTFLAGS'], echo: cargoStatusLine });
      return bins.map((b) => `build/cargo/host/${PROFILE}/${b.bin}`);
    },
  };
}

/** Compiler messages as JSON, so their positions can be mapped to chapter lines (tangle/diag/remap.ts). */
const JSON_MESSAGES = ['--message-format=json'];

export const MKMANIFEST = `build/cargo/host/${PROFILE}/mkmanifest`;

/** capos-wasm is tangled from chapters; present only once its chapter exists. */
export async function caposWasmSteps(root: string, versions: string[], map?: TangleMap): Promise<BuildStep[]> {
  const manifest = 'capos-wasm/Cargo.toml';
  if (!(await exists(join(root, manifest)))) return [];
  // The chapters decide the features: `capos` selects the capOS process side, `host` the Linux runner; cargo
  // metadata says which the tangled Cargo.toml defines.
  const features = await packageFeatures(root, manifest, 'capos-wasm');
  const hostFeature = features.includes('host');
  const caposFeature = features.includes('capos');
  const v = versions;
  const translate = map ? cargoTranslator(map, 'capos-wasm') : undefined;
  // capos-wasm depends on crates in capos/ by path (abi, rt, schema and whatever they use): hash all of capos/
  const inputs = () => cargoInputs(root, ['capos-wasm', 'capos']);
  const pickBin = async (): Promise<CargoBin> => {
    const bins = (await cargoBins(root, manifest)).filter((b) => b.dir === 'capos-wasm');
    const b = bins.find((x) => x.bin === 'capos-wasm') ?? bins[0];
    if (!b) throw new StepError('capos-wasm', 'capos-wasm/Cargo.toml defines no binary');
    return b;
  };
  const capos: BuildStep = {
    name: 'capos-wasm',
    extra: [`RUSTFLAGS=${CAPOS_RUSTFLAGS}`, `target=${CAPOS_TARGET}`, PROFILE, `features=${caposFeature ? 'capos' : ''}`, ...v],
    inputs,
    async run() {
      const b = await pickBin();
      await runTool(
        root,
        'capos-wasm',
        'cargo',
        cargoArgs(manifest, 'build/cargo/capos', [
          '--target',
          CAPOS_TARGET,
          ...(caposFeature ? ['--features', 'capos'] : []),
          '--bin',
          b.bin,
          ...(translate ? JSON_MESSAGES : []),
        ]),
        { cwd: root, env: { RUSTFLAGS: CAPOS_RUSTFLAGS }, echo: cargoStatusLine, ...(translate ? { translate } : {}) },
      );
      return [await copyOut(root, `build/cargo/capos/${CAPOS_TARGET}/${PROFILE}/${b.bin}`, 'build/capos-wasm/capos-wasm')];
    },
  };
  const host: BuildStep = {
    name: 'capos-wasm-host',
    extra: [PROFILE, `features=${hostFeature ? 'host' : ''}`, ...v],
    inputs,
    async run() {
      const b = await pickBin();
      await runTool(
        root,
        'capos-wasm-host',
        'cargo',
        cargoArgs(manifest, 'build/cargo/host', [...(hostFeature ? ['--features', 'host'] : []), '--bin', b.bin, ...(translate ? JSON_MESSAGES : [])]),
        { cwd: root, unsetEnv: ['RUSTFLAGS'], echo: cargoStatusLine, ...(translate ? { translate } : {}) },
      );
      return [await copyOut(root, `build/cargo/host/${PROFILE}/${b.bin}`, 'build/host/capos-wasm')];
    },
  };
  return [capos, host];
}
