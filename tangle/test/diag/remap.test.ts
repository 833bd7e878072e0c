// Diagnostics at chapter lines: a fixture chapter with broken Rust (in an indented chunk), C, WAT, Go and CUE is tangled
// into a scratch tree and built with the real tools through the build's own steps; every error the tools print
// must name the chapter line and column, with the generated position kept in brackets.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadBook, runTangle, tangleBook } from '../../index.js';
import { caposWasmSteps, toolVersions } from '../../build/cargo.js';
import { demoSteps } from '../../build/demos.js';
import { runTool } from '../../build/exec.js';
import { runStep } from '../../build/step.js';
import { cargoTranslator, loadTangleMap, TangleMap, textTranslator } from '../../diag/remap.js';
import { repoRoot } from '../../cli/root.js';
import { scratchCopy } from '../helpers.js';

const CHAPTER = 'chapters/10-w1-broken.md';

/** The 1-based line and column of `needle` in the fixture chapter: where the error must be reported. */
async function chapterPlace(root: string, needle: string): Promise<string> {
  const lines = (await readFile(join(root, CHAPTER), 'utf8')).split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  expect(index, needle).toBeGreaterThanOrEqual(0);
  return `${CHAPTER}:${index + 1}:${lines[index]!.indexOf(needle) + 1}`;
}

/** Tangles the fixture into a scratch tree and returns it with the map the build reads. */
async function tangled(): Promise<{ root: string; map: TangleMap }> {
  const root = await scratchCopy('diagnostics');
  await runTangle(root, { log: () => {} });
  // What set-up does for a Go demo (go mod tidy writes go.sum); this module needs nothing, so it is empty.
  await writeFile(join(root, 'demos/broken-go/go.sum'), '');
  return { root, map: await loadTangleMap(root) };
}

/** The message a failing step throws (its excerpt is what the user sees). */
async function failure(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('TangleMap', () => {
  test('maps a generated line expanded from an indented chunk to the chunk line, less the indentation', async () => {
    const root = await scratchCopy('diagnostics');
    const map = TangleMap.fromTangled(root, tangleBook(await loadBook(root)));
    const source = (await readFile(join(root, CHAPTER), 'utf8')).split('\n');
    const chunkLine = source.indexOf('let answer: u32 = "forty-two";') + 1;
    // main.rs: header, `fn main() {`, then the chunk's first line indented by four
    expect(map.place('capos-wasm/src/main.rs', 3, 23)).toEqual({ chapter: CHAPTER, line: chunkLine, column: 19 });
    expect(map.rewrite('--> src/main.rs:3:23', ['capos-wasm'])).toBe(`--> ${CHAPTER}:${chunkLine}:19 [capos-wasm/src/main.rs:3:23]`);
    expect(map.rewrite('see notes.txt:3:1 and /etc/hosts:1', ['.'])).toBe('see notes.txt:3:1 and /etc/hosts:1');
  });
});

describe('tool errors at chapter lines', () => {
  test("rustc, through cargo's JSON messages, reports the chunk's line and column", async () => {
    const { root, map } = await tangled();
    const host = (await caposWasmSteps(root, await toolVersions(root), map)).find((s) => s.name === 'capos-wasm-host')!;
    const message = await failure(() => runStep(root, host, () => {}));
    expect(message).toContain(`--> ${await chapterPlace(root, '"forty-two"')} [capos-wasm/src/main.rs:3:23]`);
    expect(message).toMatch(/error\[E0308\]: mismatched types/);
  }, 180_000);

  test('clang and wat2wasm report the chapter line of the broken statement', async () => {
    const { root, map } = await tangled();
    const steps = await demoSteps(root, map);
    const c = await failure(() => runStep(root, steps.find((s) => s.name === 'demo broken-c')!, () => {}));
    expect(c).toContain(`${await chapterPlace(root, 'undeclared_name')} [demos/broken-c/main.c:3:12]: error:`);
    const wat = await failure(() => runStep(root, steps.find((s) => s.name === 'demo broken-wat')!, () => {}));
    expect(wat).toContain(`${await chapterPlace(root, 'i32.bogus')} [demos/broken-wat/main.wat:4:6]: error:`);
  }, 60_000);

  test("Go, building in the module's folder, reports the chapter line of the undefined name", async () => {
    const { root, map } = await tangled();
    const go = (await demoSteps(root, map)).find((s) => s.name === 'demo broken-go')!;
    const message = await failure(() => runStep(root, go, () => {}));
    expect(message).toContain(`${await chapterPlace(root, 'undeclaredName')} [demos/broken-go/main.go:5:10]: undefined: undeclaredName`);
  }, 120_000);

  test('cue reports the conflicting lines of the manifest in the chapter', async () => {
    const { root, map } = await tangled();
    const cue = join(repoRoot(), 'build/tools/cue');
    const message = await failure(() =>
      runTool(root, 'cue-broken', cue, ['vet', 'manifests/system-broken.cue'], { cwd: root, translate: textTranslator(map, ['.', 'manifests']) }),
    );
    expect(message).toContain(`${await chapterPlace(root, '"seven"')} [manifests/system-broken.cue:5:8]`);
  }, 60_000);

  test('cargo records that are not compiler messages are dropped; its own lines pass through', async () => {
    const { map } = await tangled();
    const translate = cargoTranslator(map, 'capos-wasm');
    expect(translate('{"reason":"compiler-artifact","target":{}}')).toEqual([]);
    expect(translate('   Compiling capos-wasm v0.1.0')).toEqual(['   Compiling capos-wasm v0.1.0']);
  });

  test("a failing test's panic, as cargo test prints it, names the chapter line", async () => {
    const { root, map } = await tangled();
    const translate = cargoTranslator(map, 'capos-wasm');
    expect(translate("thread 'tests::answer' panicked at src/main.rs:3:23:")).toEqual([
      `thread 'tests::answer' panicked at ${await chapterPlace(root, '"forty-two"')} [capos-wasm/src/main.rs:3:23]:`,
    ]);
    expect(translate('test tests::answer ... FAILED')).toEqual(['test tests::answer ... FAILED']);
  });
});
