// The pressure smoke's guest (chapters/98a-a9-pressure.md) under node:wasi: the checksum line the smoke expects
// from each capos-wasm service that grows to 16 MiB must be exactly what another WASI host prints for the same
// program, built here from the chapter's own block.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoSteps } from '../../build/demos.js';
import { runStep } from '../../build/step.js';
import type { Step } from '../../parse/model.js';
import { loadBook } from '../../parse/load-book.js';
import { runUnderNodeWasi } from '../helpers.js';

const REPO = join(import.meta.dirname, '../../..');
const CHAPTER = 'chapters/98a-a9-pressure.md';
const DEMO = 'demos/wasi-pressure/main.c';

/** The exact lines of a smoke's steps, wherever they sit (in order or in an unordered group). */
function exactLines(steps: Step[]): string[] {
  return steps.flatMap((s) => {
    if (s.kind === 'line') return s.matcher.kind === 'exact' ? [s.matcher.text] : [];
    if (s.kind === 'unordered') return s.matchers.filter((m) => m.kind === 'exact').map((m) => m.text);
    return [];
  });
}

describe('the pressure guest', () => {
  it('prints under node:wasi the checksum line the smoke expects of every service that grows to 16 MiB', async () => {
    const book = await loadBook(REPO);
    const chapter = book.chapters.find((c) => c.path === CHAPTER);
    const block = chapter?.blocks.find((b) => b.kind === 'file' && b.target === DEMO);
    const smoke = chapter?.smokes.find((s) => s.name === 'run-capos-pressure');
    expect(block, `${CHAPTER} writes ${DEMO}`).toBeDefined();
    expect(smoke, `${CHAPTER} has run-capos-pressure`).toBeDefined();

    const root = mkdtempSync(join(tmpdir(), 'wasi-pressure-build-'));
    mkdirSync(join(root, 'demos/wasi-pressure'), { recursive: true });
    writeFileSync(join(root, DEMO), block!.value);
    for (const step of await demoSteps(root)) expect((await runStep(root, step, () => {})).status).toBe('built');
    const { stdout, code } = await runUnderNodeWasi(join(root, 'build/demos/wasi-pressure.wasm'));
    expect(code).toBe(0);

    const grown = exactLines(smoke!.steps).filter((l) => l.includes('grew to'));
    expect(grown).toHaveLength(15);
    for (const line of grown) expect(`${line.replace(/^\[within-\d+\] /, '')}\n`).toBe(stdout);
  }, 120000);
});
