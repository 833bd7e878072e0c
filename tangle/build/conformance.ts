// The conformance cases (chapter W.5, capos-wasm/tests/conformance/{c,rust,go}) as boot blobs, so that one capOS
// image can run them all (chapter 17b): build/conformance/<case>.wasm, one step per case, with the same compilers and
// flags as the cargo harness that runs them on the host.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEBIAN_RUSTC, GO } from './demos.js';
import { runTool } from './exec.js';
import type { BuildStep } from './step.js';

const CASES = 'capos-wasm/tests/conformance';
export const CONFORMANCE_OUT = 'build/conformance';

export type CaseLang = 'c' | 'rust' | 'go';
const EXT: Record<CaseLang, string> = { c: '.c', rust: '.rs', go: '.go' };

/** The command that builds one case from its source file. */
export function caseCommand(lang: CaseLang, source: string, out: string): { cmd: string; args: string[]; env?: Record<string, string> } {
  switch (lang) {
    case 'c':
      return { cmd: 'clang-14', args: ['--target=wasm32-wasi', '-O2', '-Wall', '-Werror', '-I', CASES, '-o', out, source] };
    case 'rust':
      return { cmd: DEBIAN_RUSTC, args: ['--edition', '2021', '--target', 'wasm32-wasi', '-O', '-o', out, source] };
    case 'go':
      return {
        cmd: GO,
        args: ['build', '-o', out, source],
        env: { GOOS: 'wasip1', GOARCH: 'wasm', CGO_ENABLED: '0', GOPROXY: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-trimpath -buildvcs=false' },
      };
  }
}

export async function conformanceSteps(root: string): Promise<BuildStep[]> {
  const steps: BuildStep[] = [];
  for (const lang of ['c', 'rust', 'go'] as const) {
    let files: string[];
    try {
      files = (await readdir(join(root, CASES, lang))).filter((f) => f.endsWith(EXT[lang])).sort();
    } catch {
      continue;
    }
    for (const file of files) {
      const name = file.slice(0, -EXT[lang].length);
      const source = `${CASES}/${lang}/${file}`;
      const out = `${CONFORMANCE_OUT}/${name}.wasm`;
      const c = caseCommand(lang, source, out);
      steps.push({
        name: `conformance ${name}`,
        extra: [c.cmd, ...c.args, JSON.stringify(c.env ?? {})],
        inputs: async () => (lang === 'c' ? [source, `${CASES}/conf.h`] : [source]),
        async run() {
          await mkdir(join(root, CONFORMANCE_OUT), { recursive: true });
          await runTool(root, `conformance-${name}`, c.cmd, c.args, { cwd: root, ...(c.env ? { env: c.env } : {}) });
          return [out];
        },
      });
    }
  }
  return steps;
}
