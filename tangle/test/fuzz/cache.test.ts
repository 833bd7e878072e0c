// The fuzz binaries' cache (tangle/fuzz/cache.ts): what changes the key and what does not, on a small tree of real
// files, and which cache folders count as entries. One test asks the real cargo which path packages the kernel's
// fuzz workspace compiles.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { builtFrom, buildEnvFacts, cacheKey, cargoPathPackages, install, type KeyInputs, lookup, pathPackageDirs, store } from '../../fuzz/cache.js';
import { repoRoot } from '../../cli/root.js';

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** A clone in miniature: a fuzz crate, a path dependency, a chapter, a README, cargo's configuration. */
function tree(): KeyInputs {
  const root = mkdtempSync(join(tmpdir(), 'fuzz-cache-tree-'));
  put(root, 'capos/fuzz/Cargo.toml', '[package]\nname = "f"\n');
  put(root, 'capos/fuzz/Cargo.lock', 'version = 4\n');
  put(root, 'capos/fuzz/fuzz_targets/t.rs', 'fuzz_target!(|d: &[u8]| {});\n');
  put(root, 'capos/fuzz/regressions/t/crash-1', 'x');
  put(root, 'capos/kcore/src/lib.rs', 'pub fn f() {}\n');
  put(root, 'capos/kcore/target/debug/junk', 'build output');
  put(root, 'chapters/98-a9.md', 'Prose.\n');
  put(root, 'README.md', 'Read me.\n');
  put(root, '.cargo/config.toml', '[source.crates-io]\n');
  return {
    root,
    packageDirs: ['capos/fuzz', 'capos/kcore'],
    skip: ['capos/fuzz/regressions'],
    extraFiles: ['.cargo/config.toml'],
    facts: { rustc: 'rustc 1.97.0-nightly', build: 'fuzz build -s none' },
  };
}

describe('cache key', () => {
  let inputs: KeyInputs;
  let before: string;
  beforeEach(async () => {
    inputs = tree();
    before = await cacheKey(inputs);
  });

  test('is stable for an unchanged tree', async () => {
    expect(await cacheKey(inputs)).toBe(before);
  });
  test('a path dependency source, a fuzz target, the lock file and the cargo configuration each change it', async () => {
    const edits = ['capos/kcore/src/lib.rs', 'capos/fuzz/fuzz_targets/t.rs', 'capos/fuzz/Cargo.lock', '.cargo/config.toml'];
    const keys = new Set([before]);
    for (const f of edits) {
      put(inputs.root, f, `${readFileSync(join(inputs.root, f), 'utf8')}// changed\n`);
      keys.add(await cacheKey(inputs));
    }
    expect(keys.size).toBe(edits.length + 1);
  });
  test('a new source file changes it', async () => {
    put(inputs.root, 'capos/kcore/src/new.rs', '');
    expect(await cacheKey(inputs)).not.toBe(before);
  });
  test('a renamed file changes it, though the content is the same', async () => {
    rmSync(join(inputs.root, 'capos/kcore/src/lib.rs'));
    put(inputs.root, 'capos/kcore/src/lib2.rs', 'pub fn f() {}\n');
    expect(await cacheKey(inputs)).not.toBe(before);
  });
  test("a chapter's prose, the README, build output and the kept crash inputs do not", async () => {
    put(inputs.root, 'chapters/98-a9.md', 'Other prose.\n');
    put(inputs.root, 'README.md', 'Read me again.\n');
    put(inputs.root, 'capos/kcore/target/debug/junk', 'other build output');
    put(inputs.root, 'capos/fuzz/regressions/t/crash-2', 'y');
    expect(await cacheKey(inputs)).toBe(before);
  });
  test('a tool version, a build flag and the environment each change it', async () => {
    const keys = new Set([
      before,
      await cacheKey({ ...inputs, facts: { ...inputs.facts, rustc: 'rustc 1.98.0-nightly' } }),
      await cacheKey({ ...inputs, facts: { ...inputs.facts, build: 'fuzz build -s none -O' } }),
      await cacheKey({ ...inputs, facts: { ...inputs.facts, ...buildEnvFacts({ RUSTFLAGS: '-C target-cpu=native' }) } }),
    ]);
    expect(keys.size).toBe(4);
  });
  test('the same tree in another folder has the same key (paths are relative to the clone)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'fuzz-cache-clone-'));
    for (const f of ['capos/fuzz/Cargo.toml', 'capos/fuzz/Cargo.lock', 'capos/fuzz/fuzz_targets/t.rs', 'capos/kcore/src/lib.rs', '.cargo/config.toml']) {
      put(other, f, readFileSync(join(inputs.root, f), 'utf8'));
    }
    expect(await cacheKey({ ...inputs, root: other })).toBe(before);
  });
});

describe('path packages', () => {
  test("cargo metadata's packages without a registry source, relative to the clone", () => {
    const metadata = {
      packages: [
        { source: null, manifest_path: '/c/capos/fuzz/Cargo.toml' },
        { source: null, manifest_path: '/c/capos/kcore/Cargo.toml' },
        { source: 'registry+https://github.com/rust-lang/crates.io-index', manifest_path: '/c/vendor/arbitrary/Cargo.toml' },
      ],
    };
    expect(pathPackageDirs(metadata, '/c')).toEqual(['capos/fuzz', 'capos/kcore']);
  });
  test("the kernel's fuzz workspace compiles kcore, schema, abi and mkmanifest (real cargo)", async () => {
    const root = repoRoot();
    expect(await cargoPathPackages(root, join(root, 'capos/fuzz'))).toEqual(['capos/abi', 'capos/fuzz', 'capos/kcore', 'capos/mkmanifest', 'capos/schema']);
  });
});

describe('entries', () => {
  let dir: string;
  let bins: string;
  let built: Record<string, string>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fuzz-cache-entries-'));
    bins = join(dir, 'bins');
    built = { a: join(dir, 'release/a'), b: join(dir, 'release/b') };
    put(dir, 'release/a', 'binary a');
    put(dir, 'release/b', 'binary b, longer');
  });

  test('a stored entry is found, and installs copies of what was stored', async () => {
    expect(await store(bins, 'k1', built)).toBe(true);
    const entry = await lookup(bins, 'k1', ['a', 'b']);
    expect(entry).toBe(join(bins, 'k1'));
    await install(entry as string, ['a', 'b'], join(dir, 'elsewhere'));
    expect(readFileSync(join(dir, 'elsewhere/b'), 'utf8')).toBe('binary b, longer');
    // nothing but the entry is left behind in the cache folder
    expect(readdirSync(bins)).toEqual(['k1']);
  });
  test('another key is a miss', async () => {
    await store(bins, 'k1', built);
    expect(await lookup(bins, 'k2', ['a', 'b'])).toBeUndefined();
  });
  test('an entry with a truncated binary is not used, and is removed', async () => {
    await store(bins, 'k1', built);
    truncateSync(join(bins, 'k1/b'), 3);
    expect(await lookup(bins, 'k1', ['a', 'b'])).toBeUndefined();
    expect(existsSync(join(bins, 'k1'))).toBe(false);
  });
  test('an entry with a binary changed in place (same size) is not used', async () => {
    await store(bins, 'k1', built);
    writeFileSync(join(bins, 'k1/a'), 'binary A');
    expect(await lookup(bins, 'k1', ['a', 'b'])).toBeUndefined();
  });
  test('a folder without its manifest (a copy cut short) is not an entry', async () => {
    put(bins, 'k1/a', 'binary a');
    put(bins, 'k1/b', 'binary b, longer');
    expect(await lookup(bins, 'k1', ['a', 'b'])).toBeUndefined();
  });
  test('an unreadable manifest or one missing a binary is not an entry', async () => {
    await store(bins, 'k1', built);
    writeFileSync(join(bins, 'k1/manifest.json'), '{"format":');
    expect(await lookup(bins, 'k1', ['a', 'b'])).toBeUndefined();
    await store(bins, 'k2', { a: join(dir, 'release/a') });
    expect(await lookup(bins, 'k2', ['a', 'b'])).toBeUndefined();
  });
  test('a folder moved under another key is not an entry for it', async () => {
    await store(bins, 'k1', built);
    mkdirSync(join(bins, 'k2'));
    for (const f of readdirSync(join(bins, 'k1'))) writeFileSync(join(bins, 'k2', f), readFileSync(join(bins, 'k1', f)));
    expect(await lookup(bins, 'k2', ['a', 'b'])).toBeUndefined();
  });
  test('a second store of the same key keeps the first entry', async () => {
    await store(bins, 'k1', built);
    put(dir, 'release/a', 'binary a, rebuilt');
    expect(await store(bins, 'k1', built)).toBe(false);
    expect(readFileSync(join(bins, 'k1/a'), 'utf8')).toBe('binary a');
    expect(readdirSync(bins)).toEqual(['k1']);
  });
  test('a vetoed store leaves nothing', async () => {
    expect(await store(bins, 'k1', built, async () => false)).toBe(false);
    expect(readdirSync(bins)).toEqual([]);
  });
  test("binaries whose dep-info names another clone's sources are not this tree's", async () => {
    put(dir, 'release/a.d', `${dir}/release/a: /clone1/capos/fuzz/fuzz_targets/a.rs /clone1/capos/kcore/src/lib.rs\n`);
    put(dir, 'release/b.d', `${dir}/release/b: /clone1/capos/fuzz/fuzz_targets/b.rs\n`);
    expect(await builtFrom(join(dir, 'release'), ['a', 'b'], '/clone1/capos/fuzz')).toBe(true);
    expect(await builtFrom(join(dir, 'release'), ['a', 'b'], '/clone1b/capos/fuzz')).toBe(false);
    expect(await builtFrom(join(dir, 'release'), ['a', 'b', 'c'], '/clone1/capos/fuzz')).toBe(false);
  });
});
