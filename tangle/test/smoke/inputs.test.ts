// Staleness per smoke: a result's inputs are the tangled files its own boots depend on. Shown on the real book: an
// edit to a later chapter's demo leaves every earlier chapter's results fresh, and an edit to the source of a binary
// a boot embeds makes exactly the smokes that embed it stale.
import { describe, expect, test } from 'vitest';
import { loadBook, tangleBook, type SmokeSpec, type TangledFile } from '../../index.js';
import { computeInputs } from '../../smoke/result.js';
import { smokeDependencies } from '../../smoke/inputs.js';
import { repoRoot } from '../../cli/root.js';

const book = await loadBook(repoRoot());
const tangled = tangleBook(book);
const specs = book.chapters.flatMap((c) => c.smokes);
const spec = (name: string): SmokeSpec => specs.find((s) => s.name === name)!;

/** The book's tangled files with `path`'s content changed. */
function edited(path: string): TangledFile[] {
  expect(
    tangled.some((f) => f.path === path),
    path,
  ).toBe(true);
  return tangled.map((f) => (f.path === path ? { ...f, content: `${f.content}// an edit\n` } : f));
}

/** The smokes whose recorded tangled inputs an edit to `path` changes. */
function staleAfter(path: string): string[] {
  const after = edited(path);
  return specs
    .filter((s) => computeInputs(tangled, s).tangled !== computeInputs(after, s).tangled)
    .map((s) => s.name)
    .sort();
}

describe('smokeDependencies', () => {
  test('a boot depends on its manifest, the shared CUE and the sources of what it embeds, not on the rest', () => {
    const paths = smokeDependencies(tangled, spec('run-wasi-hello-c')).map((f) => f.path);
    expect(paths).toContain('manifests/system-wasi-hello-c.cue');
    expect(paths).toContain('manifests/cue/defaults/defaults.cue');
    expect(paths).toContain('demos/wasi-hello-c/main.c');
    expect(paths).toContain('capos-wasm/src/wasi/link.rs');
    expect(paths).not.toContain('demos/wasi-hello-rust/main.rs');
    expect(paths).not.toContain('capos-wasm/tests/host_runner.rs');
    expect(paths).not.toContain('manifests/system-wasi-hello-rust.cue');
  });

  test('an archive blob depends on its list and the folder it packs; a computed expectation on its file', () => {
    const paths = smokeDependencies(tangled, spec('run-wasi-cue-evaluator')).map((f) => f.path);
    expect(paths).toContain('demos/cue-inputs/cue-small.archive');
    expect(paths.some((p) => p.startsWith('demos/cue-inputs/') && p.endsWith('.cue'))).toBe(true);
    expect(paths).toContain('demos/wasi-cue-evaluator/main.go');
  });
});

describe('staleness per smoke', () => {
  test("editing W.8's guest leaves every W.1-W.4 result fresh and makes W.8's stale", () => {
    const stale = staleAfter('demos/wasi-cue-evaluator/main.go');
    expect(stale).toContain('run-wasi-cue-evaluator');
    const earlier = book.chapters.filter((c) => /^W\.[1-4]$/.test(c.meta.phase)).flatMap((c) => c.meta.smokes);
    expect(earlier.length).toBeGreaterThan(5);
    expect(stale.filter((name) => earlier.includes(name))).toEqual([]);
  });

  test("editing an embedded binary's source makes exactly the smokes that embed it stale", () => {
    expect(staleAfter('demos/wasi-hello-c/main.c')).toEqual(
      specs
        .filter((s) => smokeDependencies(tangled, s).some((f) => f.path === 'demos/wasi-hello-c/main.c'))
        .map((s) => s.name)
        .sort(),
    );
    expect(staleAfter('demos/wasi-hello-c/main.c')).toContain('run-wasi-hello-c');
    expect(staleAfter('demos/wasi-hello-c/main.c')).not.toContain('run-wasi-hello-rust');
    // capos-wasm is in every WASI image: its source makes them all stale, and no kernel-only smoke
    const adapter = staleAfter('capos-wasm/src/wasi/link.rs');
    expect(adapter).toContain('run-wasm-host');
    expect(adapter).toContain('run-wasi-hello-rust');
    expect(adapter).not.toContain('run-capos-hello');
  });

  test("the adapter's host tests are in no boot", () => {
    expect(staleAfter('capos-wasm/tests/host_runner.rs')).toEqual([]);
  });
});
