// The second engine's build steps (appendix A.8): the host precompiler, built once per version and settings into a
// cache outside the clone, and each `.cwasm` a manifest names (build/cwasm/<stem>.cwasm), compiled from its `.wasm`.
//
// The precompiler links Cranelift, the largest cold build of the project (minutes on two cores). Its cache directory
// is named after the wasmtime version and a hash of everything that decides the binary (its Cargo.toml, Cargo.lock,
// sources, the toolchain), so a warm machine, or a fresh clone on one, copies the cached binary instead of building.
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runTool, StepError } from './exec.js';
import { referencedBuildPaths } from './images.js';
import type { BuildStep } from './step.js';
import { exists, listFiles } from './stamp.js';
import { userCache } from './user-cache.js';

export const PRECOMPILER_DIR = 'capos/tools/precompile';
/** Where the build puts the cached binary for the cwasm steps (a copy; the cache keeps its own). */
export const PRECOMPILER = 'build/tools/capos-precompile';
/** The wasmtime version both sides pin (capos/tools/precompile/Cargo.toml, capos-wasm's Cargo.toml). */
export const WASMTIME_VERSION = '48.0.8';
export const CWASM_DIR = 'build/cwasm';
/** `.cwasm` files under this directory hold Pulley bytecode (`capos-precompile --pulley`), the rest native code. */
export const PULLEY_DIR = `${CWASM_DIR}/pulley`;
/** `.cwasm` files under this directory are components (chapter W.7: `capos-precompile --component`). */
export const COMPONENT_DIR = `${CWASM_DIR}/component`;

/** The cache root: $CAPOS_BUILD_CACHE, else $XDG_CACHE_HOME/capos-build, else ~/.cache/capos-build. */
export function cacheRoot(): string {
  return userCache('capos-build', process.env.CAPOS_BUILD_CACHE || undefined);
}

async function toolFiles(root: string): Promise<string[]> {
  return (await listFiles(root, PRECOMPILER_DIR, new Set(['target']))).sort();
}

/** The cache key: the tool's files (paths and contents) and the toolchain versions. */
export async function precompilerKey(root: string, versions: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of await toolFiles(root)) {
    h.update(`${f}\0`);
    h.update(await readFile(join(root, f)));
    h.update('\0');
  }
  for (const v of versions) h.update(`${v}\0`);
  return h.digest('hex').slice(0, 16);
}

export async function precompilerStep(root: string, versions: string[]): Promise<BuildStep> {
  return {
    name: 'precompiler',
    extra: [`wasmtime=${WASMTIME_VERSION}`, ...versions],
    inputs: () => toolFiles(root),
    async run() {
      const dir = join(cacheRoot(), `precompile-${WASMTIME_VERSION}-${await precompilerKey(root, versions)}`);
      const cached = join(dir, 'bin', 'capos-precompile');
      if (!(await exists(cached))) {
        // Built from a copy outside the clone: the clone's .cargo/config.toml (vendored sources) does not apply, and
        // cargo takes the crates from the registry at the versions Cargo.lock pins.
        const src = join(dir, 'src-tree');
        await rm(src, { recursive: true, force: true });
        await mkdir(src, { recursive: true });
        for (const f of await toolFiles(root)) {
          const rel = f.slice(PRECOMPILER_DIR.length + 1);
          await mkdir(join(src, rel, '..'), { recursive: true });
          await cp(join(root, f), join(src, rel));
        }
        // One cargo target directory for every key: a changed source rebuilds only what changed.
        const target = join(cacheRoot(), 'precompile-target');
        await runTool(root, 'precompiler', 'cargo', ['build', '--release', '--locked', '-j', '2', '--target-dir', target], {
          cwd: src,
          unsetEnv: ['RUSTFLAGS', 'CARGO_TARGET_DIR'],
          echo: (l) => /^\s*(Compiling|Finished|error)/.test(l),
        });
        await mkdir(join(dir, 'bin'), { recursive: true });
        await copyFile(join(target, 'release', 'capos-precompile'), cached);
      }
      await mkdir(join(root, 'build/tools'), { recursive: true });
      await copyFile(cached, join(root, PRECOMPILER));
      return [PRECOMPILER];
    },
  };
}

/** The `.cwasm` files manifests name (`build/cwasm/<stem>.cwasm`, or `build/cwasm/pulley/<stem>.cwasm` for Pulley
 * bytecode), each with the `.wasm` it is compiled from: a conformance case's for `build/cwasm/conformance/<stem>`,
 * else the `build/demos/<stem>.wasm` or `build/conformance/<stem>.wasm` some manifest names, else the demo's path. A name with
 * a variant, `<stem>.<variant>.cwasm`, is a hostile copy for a refusal smoke (see `damage`). */
export async function cwasmSources(root: string, manifests: string[]): Promise<{ cwasm: string; wasm: string }[]> {
  const paths = new Set<string>();
  for (const m of manifests) {
    const text = await readFile(join(root, m), 'utf8').catch(() => '');
    for (const p of referencedBuildPaths(text)) paths.add(p);
  }
  const wasm = [...paths].filter((p) => p.endsWith('.wasm'));
  return [...paths]
    .filter((p) => p.startsWith(`${CWASM_DIR}/`) && p.endsWith('.cwasm'))
    .sort()
    .map((cwasm) => {
      const stem = basename(cwasm, '.cwasm').split('.')[0]!;
      // W.5's conformance cases (appendix A.8 runs them on wasmtime) come from the conformance build.
      if (/^build\/cwasm\/(pulley\/)?conformance\//.test(cwasm)) return { cwasm, wasm: `build/conformance/${stem}.wasm` };
      return { cwasm, wasm: wasm.find((w) => basename(w, '.wasm') === stem) ?? `build/demos/${stem}.wasm` };
    });
}

export async function cwasmSteps(root: string, manifests: string[]): Promise<BuildStep[]> {
  return (await cwasmSources(root, manifests)).map(({ cwasm: out, wasm }) => ({
    name: `cwasm ${out.slice(CWASM_DIR.length + 1, -'.cwasm'.length)}`,
    extra: [`wasmtime=${WASMTIME_VERSION}`],
    inputs: async () => [wasm, PRECOMPILER],
    async run() {
      if (!(await exists(join(root, wasm)))) throw new StepError(`cwasm ${wasm}`, `${wasm} is missing: no build step made it`);
      await mkdir(join(root, out, '..'), { recursive: true });
      const code = out.startsWith(`${PULLEY_DIR}/`) ? ['--pulley'] : out.startsWith(`${COMPONENT_DIR}/`) ? ['--component'] : [];
      await runTool(root, `cwasm-${basename(out, '.cwasm')}`, join(root, PRECOMPILER), [...code, wasm, out], { cwd: root });
      const variant = basename(out, '.cwasm').split('.').slice(1).join('.');
      if (variant) await writeFile(join(root, out), damage(await readFile(join(root, out)), variant));
      return [out];
    },
  }));
}

/** A hostile copy of a good `.cwasm` (appendix A.8's refusal smoke): `truncated` keeps the header and half of
 * wasmtime's bytes; `wasmtime-<version>` claims another wasmtime version in the header. */
export function damage(cwasm: Buffer, variant: string): Buffer {
  const end = cwasm.indexOf(0x0a);
  if (end < 0) throw new Error('not a capos-cwasm file: no header line');
  if (variant === 'truncated') return cwasm.subarray(0, end + 1 + Math.floor((cwasm.length - end - 1) / 2));
  const version = /^wasmtime-(\d+\.\d+\.\d+)$/.exec(variant)?.[1];
  if (version) {
    const header = cwasm
      .subarray(0, end)
      .toString('latin1')
      .replace(/ wasmtime=\S+/, ` wasmtime=${version}`);
    return Buffer.concat([Buffer.from(header, 'latin1'), cwasm.subarray(end)]);
  }
  throw new Error(`unknown .cwasm variant "${variant}" (truncated, wasmtime-<version>)`);
}
