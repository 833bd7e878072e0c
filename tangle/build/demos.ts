// WASI demo programs, one step each, chosen by what demos/<name>/ holds:
// main.rs → Debian's rustc 1.63 (it has the wasm32-wasi std; rustup's rustc first on PATH does not),
// main.c → clang-14 with Debian's wasi-libc, *.wat → wat2wasm, go.mod → the machine's Go for wasip1 (offline: set-up
// fetched the modules from the Go module proxy and wrote go.sum; the step's stamp includes `go version`), a *.wit file
// beside main.c → a component (chapter W.7: wit-bindgen's C bindings, clang-14 as a reactor, wasm-tools component new).
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool, StepError } from './exec.js';
import type { BuildStep } from './step.js';
import { textTranslator, type TangleMap } from '../diag/remap.js';
import { listFiles } from './stamp.js';
import { componentTools, WASM_TOOLS_VERSION, WIT_BINDGEN_VERSION } from './component-tools.js';

export const DEBIAN_RUSTC = '/usr/bin/rustc';
/** The machine's Go, as set-up finds it: /usr/local/go first (Debian's golang-go is too old for cuelang.org/go). */
export const GO = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
/** Go builds run offline against the module cache and fail rather than touch go.mod or go.sum. */
export const GO_ENV = { GOOS: 'wasip1', GOARCH: 'wasm', GOFLAGS: '-mod=readonly -trimpath -buildvcs=false', GOPROXY: 'off', CGO_ENABLED: '0' };

export type DemoKind = 'rust' | 'c' | 'wat' | 'go' | 'component';

/** Decides how a demo is built from its file names; null when the folder holds nothing buildable. */
export function demoKind(files: string[]): DemoKind | null {
  if (files.includes('go.mod')) return 'go';
  if (files.includes('main.rs')) return 'rust';
  if (files.includes('main.c') && files.some((f) => f.endsWith('.wit'))) return 'component';
  if (files.includes('main.c')) return 'c';
  if (files.some((f) => f.endsWith('.wat'))) return 'wat';
  return null;
}

export interface DemoCommand {
  cmd: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
}

/** The commands that build one demo, run in order (cwd = repo root except Go, which builds in its module folder). */
export function demoCommands(name: string, kind: DemoKind, files: string[]): DemoCommand[] {
  return kind === 'component' ? componentCommands(name, files) : [demoCommand(name, kind, files)];
}

/** A component demo in three steps: the C bindings of its world into build/components/<name>/, the core module as a
 * WASI reactor (no `main`; `_initialize` runs constructors), and the component around it. Its sources are the demo's
 * C files and the generated `<world>.c`, whose `<world>_component_type.o` carries the world for `component new`. */
function componentCommands(name: string, files: string[]): DemoCommand[] {
  const dir = `demos/${name}`;
  const gen = `build/components/${name}`;
  const wit = files.filter((f) => f.endsWith('.wit')).sort();
  const world = wit[0]!.replace(/\.wit$/, '');
  const { witBindgen, wasmTools } = componentTools();
  const csources = files
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => `${dir}/${f}`);
  return [
    { cmd: witBindgen, args: ['c', `${dir}/${wit[0]!}`, '--world', world, '--out-dir', gen], cwd: '.' },
    {
      cmd: 'clang-14',
      args: [
        '--target=wasm32-wasi',
        '-mexec-model=reactor',
        '-O2',
        `-I${gen}`,
        '-o',
        `${gen}/core.wasm`,
        ...csources,
        `${gen}/${world}.c`,
        `${gen}/${world}_component_type.o`,
      ],
      cwd: '.',
    },
    { cmd: wasmTools, args: ['component', 'new', `${gen}/core.wasm`, '-o', `build/demos/${name}.wasm`], cwd: '.' },
  ];
}

/** The command that builds one single-step demo. */
export function demoCommand(name: string, kind: Exclude<DemoKind, 'component'>, files: string[]): DemoCommand {
  const dir = `demos/${name}`;
  const out = `build/demos/${name}.wasm`;
  switch (kind) {
    case 'rust':
      return { cmd: DEBIAN_RUSTC, args: ['--edition', '2021', '--target', 'wasm32-wasi', '-O', '-o', out, `${dir}/main.rs`], cwd: '.' };
    case 'c':
      return {
        cmd: 'clang-14',
        args: [
          '--target=wasm32-wasi',
          '-O2',
          '-o',
          out,
          ...files
            .filter((f) => f.endsWith('.c'))
            .sort()
            .map((f) => `${dir}/${f}`),
        ],
        cwd: '.',
      };
    case 'wat': {
      const wat = files.includes('main.wat') ? 'main.wat' : files.filter((f) => f.endsWith('.wat')).sort()[0]!;
      return { cmd: 'wat2wasm', args: [`${dir}/${wat}`, '-o', out], cwd: '.' };
    }
    case 'go':
      return { cmd: GO, args: ['build', '-o', `../../${out}`, '.'], cwd: dir, env: GO_ENV };
  }
}

export async function demoSteps(root: string, map?: TangleMap): Promise<BuildStep[]> {
  let names: string[];
  try {
    names = (await readdir(join(root, 'demos'), { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
  const steps: BuildStep[] = [];
  for (const name of names) {
    const files = (await readdir(join(root, 'demos', name))).sort();
    const kind = demoKind(files);
    if (!kind) continue;
    const commands = demoCommands(name, kind, files);
    if (kind === 'go' && !files.includes('go.sum')) {
      throw new StepError(`demo ${name}`, `demos/${name}/go.sum is missing: run \`npm run setup\` (it fetches the Go modules and writes go.sum)`);
    }
    const toolVersion =
      kind === 'go' ? [await goVersion()] : kind === 'component' ? [`wit-bindgen ${WIT_BINDGEN_VERSION}`, `wasm-tools ${WASM_TOOLS_VERSION}`] : [];
    steps.push({
      name: `demo ${name}`,
      extra: [...commands.flatMap((c) => [c.cmd, ...c.args, JSON.stringify(c.env ?? {})]), ...toolVersion],
      inputs: () => listFiles(root, `demos/${name}`),
      async run() {
        await mkdir(join(root, 'build/demos'), { recursive: true });
        if (kind === 'component') await mkdir(join(root, `build/components/${name}`), { recursive: true });
        for (const [i, c] of commands.entries()) {
          // Go prints paths relative to the module folder it builds in; the others, relative to the repository.
          const translate = map ? { translate: textTranslator(map, [c.cwd, `demos/${name}`]) } : {};
          const log = commands.length > 1 ? `demo-${name}-${i + 1}` : `demo-${name}`;
          await runTool(root, log, c.cmd, c.args, { cwd: join(root, c.cwd), ...translate, ...(c.env ? { env: c.env } : {}) });
        }
        return [`build/demos/${name}.wasm`];
      },
    });
  }
  if (steps.length === 0 && names.length > 0)
    throw new StepError('demos', `demos/ holds folders but none with main.rs, main.c (with a *.wit: a component), *.wat or go.mod`);
  return steps;
}

/** `go version`, part of a Go demo's stamp: a new toolchain rebuilds the module. */
async function goVersion(): Promise<string> {
  const { execa } = await import('execa');
  return (await execa(GO, ['version'])).stdout.trim();
}
