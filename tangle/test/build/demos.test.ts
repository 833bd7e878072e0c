// Builds real demos (C, WAT, Rust for wasm32-wasi) in a scratch repo, runs them under Node's WASI, and checks
// the stamps: a second build is a no-op, an edit rebuilds only that demo.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoCommand, demoKind, demoSteps } from '../../build/demos.js';
import { referencedBuildPaths, imagePath, isManifestFile } from '../../build/images.js';
import { runStep } from '../../build/step.js';
import { runUnderNodeWasi } from '../helpers.js';

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'capos-build-test-'));
  const put = (p: string, s: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), s);
  };
  put('demos/hi-c/main.c', '#include <stdio.h>\nint main(void) { puts("hi from c"); return 0; }\n');
  put(
    'demos/hi-wat/main.wat',
    `(module (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1) (data (i32.const 16) "hi from wat\\n")
  (func (export "_start") (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 12))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))\n`,
  );
  put('demos/hi-rust/main.rs', 'fn main() { println!("hi from rust"); }\n');
  put('demos/notes/README.md', 'not a demo');
  return root;
}

async function runWasi(file: string): Promise<string> {
  return (await runUnderNodeWasi(file)).stdout;
}

describe('demo conventions', () => {
  it('picks the compiler from the folder contents', () => {
    expect(demoKind(['go.mod', 'main.go'])).toBe('go');
    expect(demoKind(['main.rs'])).toBe('rust');
    expect(demoKind(['main.c', 'util.c'])).toBe('c');
    expect(demoKind(['echo.wat'])).toBe('wat');
    expect(demoKind(['README.md'])).toBeNull();
    expect(demoCommand('x', 'rust', ['main.rs']).cmd).toBe('/usr/bin/rustc');
    expect(demoCommand('x', 'go', ['go.mod']).env).toMatchObject({ GOOS: 'wasip1', GOARCH: 'wasm', GOPROXY: 'off' });
    expect(demoCommand('x', 'go', ['go.mod']).env?.GOFLAGS).toContain('-mod=readonly');
  });

  it('builds C, WAT and Rust demos that run, and rebuilds only what changed', async () => {
    const root = scratch();
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const steps = await demoSteps(root);
    expect(steps.map((s) => s.name)).toEqual(['demo hi-c', 'demo hi-rust', 'demo hi-wat']);
    for (const s of steps) expect((await runStep(root, s, log)).status).toBe('built');
    expect(await runWasi(join(root, 'build/demos/hi-c.wasm'))).toBe('hi from c\n');
    expect(await runWasi(join(root, 'build/demos/hi-wat.wasm'))).toBe('hi from wat\n');
    expect(await runWasi(join(root, 'build/demos/hi-rust.wasm'))).toBe('hi from rust\n');
    for (const s of await demoSteps(root)) expect((await runStep(root, s, log)).status).toBe('up to date');
    writeFileSync(join(root, 'demos/hi-c/main.c'), '#include <stdio.h>\nint main(void) { puts("changed"); return 0; }\n');
    const again = await Promise.all((await demoSteps(root)).map(async (s) => [s.name, (await runStep(root, s, log)).status]));
    expect(again).toEqual([
      ['demo hi-c', 'built'],
      ['demo hi-rust', 'up to date'],
      ['demo hi-wat', 'up to date'],
    ]);
    expect(await runWasi(join(root, 'build/demos/hi-c.wasm'))).toBe('changed\n');
  }, 120000);

  it('a failing compiler names the step, the command and the log', async () => {
    const root = scratch();
    writeFileSync(join(root, 'demos/hi-c/main.c'), 'int main(void) { return nope; }\n');
    const step = (await demoSteps(root)).find((s) => s.name === 'demo hi-c')!;
    await expect(runStep(root, step, () => {})).rejects.toThrow(/demo-hi-c: `clang-14 .*` failed \(exit status 1\); full log: build\/logs\/demo-hi-c\.log/);
  }, 60000);
});

describe('image inputs', () => {
  it('finds build paths a manifest names and maps manifests to images', () => {
    expect(referencedBuildPaths('binaries: [{path: "build/demos/a.wasm"}, {path: "build/capos/init"}, {x: "buildx/y"}]')).toEqual([
      'build/capos/init',
      'build/demos/a.wasm',
    ]);
    expect(imagePath('manifests/system-wasm-host.cue')).toBe('build/images/system-wasm-host/manifest.bin');
    expect(isManifestFile('system.cue')).toBe(true);
    expect(isManifestFile('defaults.cue')).toBe(false);
  });
});
