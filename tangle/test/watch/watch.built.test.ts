// `npm run watch` for real, in a scratch copy of this work tree with its build state (scratch-clone.ts): save a
// chapter and observe the re-smoke. Needs the book built and its smokes booted once (it runs as npm test's `watch`
// stage, after `smoke`). W.1's chapter is the one edited: its one smoke, run-wasm-host, boots in well under a second.
//  1. an assertion changed to a line the guest does not print: the smoke is booted again, with nothing rebuilt, and
//     fails at that assertion's chapter line;
//  2. an unknown attribute: the cycle stops at the tangle step, names the place, and no tangled file changes;
//  3. the chapter restored: the smoke passes again.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { analyseChapters } from '../../parse/load-book.js';
import { validateSmokeResult } from '../../smoke/result.js';
import { readStatus, STATUS_FILE, type WatchStatus } from '../../watch/status.js';
import { repoRoot } from '../../cli/root.js';
import { scratchClone } from './scratch-clone.js';

const root = repoRoot();
const CHAPTER = 'chapters/11-w1-scaffold.md';
const SMOKE = 'run-wasm-host';
// a cycle boots one smoke; on a loaded two-core machine a boot and the smoke runner's start take tens of seconds
const CYCLE_MS = 240_000;

let clone: string;
let watch: ResultPromise | undefined;
const output: string[] = [];

async function nextStatus(after: number): Promise<WatchStatus> {
  const deadline = Date.now() + CYCLE_MS;
  while (Date.now() < deadline) {
    const s = await readStatus(path.join(clone, STATUS_FILE));
    if (s && s.generation > after && s.state !== 'running') return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no finished cycle after ${after} within ${CYCLE_MS} ms; the watch printed:\n${output.slice(-60).join('\n')}`);
}

async function until(line: RegExp): Promise<void> {
  const deadline = Date.now() + CYCLE_MS;
  while (!output.some((l) => line.test(l))) {
    if (Date.now() > deadline) throw new Error(`the watch never printed ${line}:\n${output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let original: string;
let smokeLine: number;
let assertion: string;

beforeAll(async () => {
  clone = await scratchClone(root);
  original = await readFile(path.join(clone, CHAPTER), 'utf8');
  const { book } = await analyseChapters(clone);
  const spec = book.chapters.flatMap((c) => c.smokes).find((s) => s.name === SMOKE)!;
  // the smoke's first expected line, as written in the chapter
  const lines = original.split('\n');
  smokeLine = lines.findIndex((l, i) => i >= spec.line && l.startsWith('> ')) + 1;
  assertion = lines[smokeLine - 1]!;
  watch = execa(path.join(clone, 'node_modules/.bin/tsx'), ['tangle/cli/watch.ts', '--no-site'], { cwd: clone, all: true, buffer: false, reject: false });
  let rest = '';
  watch.all?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    output.push(...parts);
  });
  await until(/^watch: watching chapters\//);
}, CYCLE_MS);

afterAll(async () => {
  watch?.kill('SIGINT');
  await watch?.catch(() => {});
  // what the watch printed, for reading after a failure
  await mkdir(path.join(root, 'build/logs'), { recursive: true });
  await writeFile(path.join(root, 'build/logs/watch-test.log'), `${output.join('\n')}\n`);
  if (clone) await rm(clone, { recursive: true, force: true });
});

test('the first cycle tangled the book and booted nothing', async () => {
  const s = await readStatus(path.join(clone, STATUS_FILE));
  expect(s).toMatchObject({ generation: 1, state: 'passed', step: 'done', smokes: [] });
});

test(
  "a changed assertion boots the chapter's smoke again, rebuilds nothing, and fails at that line",
  async () => {
    const before = Date.now();
    await writeFile(path.join(clone, CHAPTER), original.replace(assertion, `${assertion} (a line the guest never prints)`));
    const s = await nextStatus(1);
    expect(s).toMatchObject({ generation: 2, state: 'failed', step: 'smoke', changed: [CHAPTER] });
    expect(s.smokes.map((x) => [x.name, x.ok])).toEqual([[SMOKE, false]]);
    expect(s.smokes[0]!.failures.join('\n')).toContain(`${CHAPTER}:${smokeLine}`);
    const file = path.join(clone, 'results/smoke', `${SMOKE}.json`);
    const result = validateSmokeResult(JSON.parse(await readFile(file, 'utf8')), file);
    expect(Date.parse(result.startedAt)).toBeGreaterThanOrEqual(before);
    expect(result.ok).toBe(false);
    expect(output.some((l) => /build: \d+ steps, 0 built, \d+ up to date, 0 failed/.test(l))).toBe(true);
  },
  CYCLE_MS,
);

test(
  'a broken chapter stops at the tangle step, at its place, and writes nothing',
  async () => {
    const tangled = path.join(clone, 'capos-wasm/Cargo.toml');
    const kept = await readFile(tangled, 'utf8');
    const fence = '```toml file=capos-wasm/Cargo.toml fiel=x';
    const broken = `${original}\n${fence}\n[package]\n\`\`\`\n`;
    await writeFile(path.join(clone, CHAPTER), broken);
    const s = await nextStatus(2);
    expect(s).toMatchObject({ generation: 3, state: 'failed', step: 'tangle', smokes: [] });
    const line = original.split('\n').length + 1;
    expect(s.problems.map((p) => p.where)).toContain(`${CHAPTER}:${line}:${fence.indexOf('fiel=') + 1}`);
    expect(await readFile(tangled, 'utf8')).toBe(kept);
    expect(output.some((l) => l.includes(`${CHAPTER}:${line}:`))).toBe(true);
  },
  CYCLE_MS,
);

test(
  'the chapter restored: the smoke passes again',
  async () => {
    await writeFile(path.join(clone, CHAPTER), original);
    const s = await nextStatus(3);
    expect(s).toMatchObject({ generation: 4, state: 'passed', step: 'done' });
    expect(s.smokes).toEqual([{ name: SMOKE, where: `${CHAPTER}:${s.smokes[0]!.where.split(':')[1]}`, ok: true, failures: [] }]);
  },
  CYCLE_MS,
);
