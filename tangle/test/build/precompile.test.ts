// Appendix A.8's build steps: which .cwasm files the manifests need, from which .wasm, and the precompiler's cache
// key (what decides whether a machine builds the tool again).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cacheRoot, cwasmSources, cwasmSteps, damage, PRECOMPILER_DIR, precompilerKey } from '../../build/precompile.js';

function scratch(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'capos-precompile-'));
  for (const [p, s] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), s);
  }
  return root;
}

describe('cwasm steps', () => {
  test('each named .cwasm comes from the .wasm of its stem, a demo unless a manifest names another', async () => {
    const root = scratch({
      'manifests/system-a.cue': '"x": {kind: "blob", path: "build/demos/hello.wasm"}\n"y": {path: "build/cwasm/hello.cwasm"}\n',
      'manifests/system-b.cue': '"z": {path: "build/cwasm/case1.cwasm"}\n"w": {path: "build/conformance/case1.wasm"}\n"v": {path: "build/cwasm/other.cwasm"}\n',
      'manifests/system-c.cue': '"q": {path: "build/demos/wasi-only.wasm"}\n',
    });
    const sources = await cwasmSources(root, ['manifests/system-a.cue', 'manifests/system-b.cue', 'manifests/system-c.cue']);
    expect(sources).toEqual([
      { cwasm: 'build/cwasm/case1.cwasm', wasm: 'build/conformance/case1.wasm' },
      { cwasm: 'build/cwasm/hello.cwasm', wasm: 'build/demos/hello.wasm' },
      { cwasm: 'build/cwasm/other.cwasm', wasm: 'build/demos/other.wasm' },
    ]);
    const steps = await cwasmSteps(root, ['manifests/system-c.cue']);
    expect(steps).toEqual([]);
  });

  test('a .cwasm under build/cwasm/pulley/ is Pulley bytecode of the same stem, its step named for the directory', async () => {
    const root = scratch({ 'manifests/system-a.cue': '"y": {path: "build/cwasm/pulley/hello.cwasm"}\n"z": {path: "build/cwasm/hello.cwasm"}\n' });
    expect(await cwasmSources(root, ['manifests/system-a.cue'])).toEqual([
      { cwasm: 'build/cwasm/hello.cwasm', wasm: 'build/demos/hello.wasm' },
      { cwasm: 'build/cwasm/pulley/hello.cwasm', wasm: 'build/demos/hello.wasm' },
    ]);
    const names = (await cwasmSteps(root, ['manifests/system-a.cue'])).map((s) => s.name);
    expect(names).toEqual(['cwasm hello', 'cwasm pulley/hello']);
  });

  test('a conformance case on wasmtime comes from the conformance build, whatever the manifest names', async () => {
    const root = scratch({ 'manifests/system-a.cue': '"y": {path: "build/cwasm/conformance/append.cwasm"}\n"x": {path: "build/demos/append.wasm"}\n' });
    expect(await cwasmSources(root, ['manifests/system-a.cue'])).toEqual([
      { cwasm: 'build/cwasm/conformance/append.cwasm', wasm: 'build/conformance/append.wasm' },
    ]);
  });

  test('a .cwasm under build/cwasm/component/ is a component (chapter W.7), from the module the manifest names', async () => {
    const root = scratch({ 'manifests/system-a.cue': '"t": {path: "build/demos/tally.wasm"}\n"c": {path: "build/cwasm/component/tally.cwasm"}\n' });
    expect(await cwasmSources(root, ['manifests/system-a.cue'])).toEqual([{ cwasm: 'build/cwasm/component/tally.cwasm', wasm: 'build/demos/tally.wasm' }]);
  });

  test('a hostile variant comes from the same .wasm', async () => {
    const root = scratch({ 'manifests/system-a.cue': '"y": {path: "build/cwasm/hello.truncated.cwasm"}\n' });
    expect(await cwasmSources(root, ['manifests/system-a.cue'])).toEqual([{ cwasm: 'build/cwasm/hello.truncated.cwasm', wasm: 'build/demos/hello.wasm' }]);
  });

  test('damage truncates the artifact or rewrites the version, and keeps the rest', () => {
    const good = Buffer.from('capos-cwasm 2 wasmtime=48.0.8 code=native wasm-sha256=ab\n0123456789');
    expect(damage(good, 'truncated').toString()).toBe('capos-cwasm 2 wasmtime=48.0.8 code=native wasm-sha256=ab\n01234');
    expect(damage(good, 'wasmtime-47.0.1').toString()).toBe('capos-cwasm 2 wasmtime=47.0.1 code=native wasm-sha256=ab\n0123456789');
    expect(() => damage(good, 'shuffled')).toThrow(/unknown .cwasm variant "shuffled"/);
    expect(() => damage(Buffer.from('no header'), 'truncated')).toThrow(/no header line/);
  });

  test('a missing .wasm is reported, naming it', async () => {
    const root = scratch({ 'manifests/system-a.cue': '"y": {path: "build/cwasm/gone.cwasm"}\n' });
    const [step] = await cwasmSteps(root, ['manifests/system-a.cue']);
    await expect(step!.run()).rejects.toThrow(/build\/demos\/gone\.wasm is missing/);
  });
});

describe('the precompiler cache', () => {
  const tool = (main: string) =>
    scratch({ [`${PRECOMPILER_DIR}/Cargo.toml`]: '[package]\n', [`${PRECOMPILER_DIR}/Cargo.lock`]: '# lock\n', [`${PRECOMPILER_DIR}/src/main.rs`]: main });

  test('the key is the same for the same sources and toolchain, in any clone', async () => {
    expect(await precompilerKey(tool('fn main() {}'), ['rustc 1.95.0'])).toBe(await precompilerKey(tool('fn main() {}'), ['rustc 1.95.0']));
  });

  test('a changed source, a changed toolchain or a stray target folder', async () => {
    const base = await precompilerKey(tool('fn main() {}'), ['rustc 1.95.0']);
    expect(await precompilerKey(tool('fn main() { }'), ['rustc 1.95.0'])).not.toBe(base);
    expect(await precompilerKey(tool('fn main() {}'), ['rustc 1.96.0'])).not.toBe(base);
    const withTarget = tool('fn main() {}');
    mkdirSync(join(withTarget, PRECOMPILER_DIR, 'target'), { recursive: true });
    writeFileSync(join(withTarget, PRECOMPILER_DIR, 'target', 'junk'), 'x');
    expect(await precompilerKey(withTarget, ['rustc 1.95.0']), 'build output is not part of the key').toBe(base);
  });

  test('lives outside the clone, where CAPOS_BUILD_CACHE or XDG_CACHE_HOME put it', () => {
    const saved = { c: process.env.CAPOS_BUILD_CACHE, x: process.env.XDG_CACHE_HOME };
    try {
      delete process.env.CAPOS_BUILD_CACHE;
      process.env.XDG_CACHE_HOME = '/var/cache/me';
      expect(cacheRoot()).toBe('/var/cache/me/capos-build');
      process.env.CAPOS_BUILD_CACHE = '/elsewhere';
      expect(cacheRoot()).toBe('/elsewhere');
    } finally {
      for (const [k, v] of [
        ['CAPOS_BUILD_CACHE', saved.c],
        ['XDG_CACHE_HOME', saved.x],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
