// Chapter W.7's guest: the tangled component demo built with the real tools (wit-bindgen's C generator, clang-14 as a
// reactor, wasm-tools component new), its world read back from the binary, and every export called on the reference
// host, wasmtime from PyPI (capos-wasm/tests/components/reference.py).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import { componentTools } from '../../build/component-tools.js';
import { demoSteps } from '../../build/demos.js';
import { runStep } from '../../build/step.js';
import { repoRoot } from '../../cli/root.js';

const root = repoRoot();
const DEMO = 'demos/wasi-component-bridge/';
const DRIVER = 'capos-wasm/tests/components/reference.py';
const PYTHON = join(root, 'build/venv/wasmtime/bin/python');

/** A scratch tree with the chapter's component demo and driver, as the book tangles them. */
async function scratch(): Promise<string> {
  const files = tangleBook(await loadBook(root)).filter((f) => f.path.startsWith(DEMO) || f.path === DRIVER);
  expect(files.map((f) => f.path).sort()).toEqual([DRIVER, `${DEMO}bridge.wit`, `${DEMO}main.c`]);
  const dir = mkdtempSync(join(tmpdir(), 'capos-component-'));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
  }
  return dir;
}

describe('the W.7 guest component', () => {
  test('builds from C into a component whose imports are exactly the world, and runs on wasmtime', { timeout: 120_000 }, async () => {
    const tools = componentTools();
    for (const tool of [tools.witBindgen, tools.wasmTools, PYTHON]) expect(existsSync(tool), `${tool} (npm run setup installs it)`).toBe(true);
    const dir = await scratch();
    const steps = (await demoSteps(dir)).filter((s) => s.name === 'demo wasi-component-bridge');
    expect(steps).toHaveLength(1);
    expect((await runStep(dir, steps[0]!, () => {})).status).toBe('built');
    const component = join(dir, 'build/demos/wasi-component-bridge.wasm');

    // The binary is a component (not a core module), and its world is the chapter's: one import, one export.
    const wit = (await execa(tools.wasmTools, ['component', 'wit', component])).stdout;
    const worldLines = wit
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^(import|export) /.test(l));
    expect(worldLines).toEqual(['import capos:bridge/caps@0.1.0;', 'export capos:bridge/tally@0.1.0;']);
    await execa(tools.wasmTools, ['validate', component]);

    const run = await execa(PYTHON, [join(dir, DRIVER), component], { reject: false });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 8), run.stdout).toEqual([
      "greet: 'hello, capOS'",
      'total: 1800',
      "total: 'overflow at more'",
      'classify 40: credit(40)',
      'classify -3: debit(-3)',
      'classify 0: zero',
      '[console 7] tally: hi',
      'announce: 9',
    ]);
    expect(lines[8]).toMatch(/^crash: trapped: /);
    // A trapped instance is never entered again: the host must start a fresh one (chapter W.7, "The reference host").
    expect(lines[9]).toBe('greet after the trap: trapped: wasm trap: cannot enter component instance');
    expect(lines).toHaveLength(10);
  });
});
