// One watch cycle over a copy of the site's fixture book, with the tangler's commands replaced by recorders: which
// smokes a save selects, when the build runs instead, and what a broken chapter reports (and that nothing is written).
// The real commands, in a real copy of this repository, are exercised by watch.built.test.ts.
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { problemsIn, runCycle, type CycleContext } from '../../watch/cycle.js';
import type { WatchStatus } from '../../watch/status.js';

const FIXTURE = path.resolve(import.meta.dirname, '../site/fixtures/book');
let root: string;
let calls: { tool: string; args: string[] }[];
let reports: WatchStatus[];

function context(answer: { code: number; lines: string[] } = { code: 0, lines: [] }): CycleContext {
  return {
    root,
    log: () => {},
    runTool: async (tool, args) => {
      calls.push({ tool, args });
      return answer;
    },
    report: async (s) => {
      reports.push(s);
    },
  };
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'watch-cycle-'));
  await cp(FIXTURE, root, { recursive: true });
  calls = [];
  reports = [];
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('runCycle', () => {
  test('the first cycle tangles and runs nothing', async () => {
    const s = await runCycle(context(), 1, []);
    expect(s).toMatchObject({ generation: 1, state: 'passed', step: 'done', problems: [], smokes: [] });
    expect(s.summary).toContain('3 chapters');
    expect(calls).toEqual([]);
    expect((await stat(path.join(root, 'demos/hello/main.rs'))).isFile()).toBe(true);
  });

  test('a saved chapter boots its own smokes and no others; one not booted is a failure', async () => {
    const s = await runCycle(context({ code: 1, lines: ['smoke: tangle and build', 'smoke: this clone is not set up (missing build/tools/cue)'] }), 2, [
      'chapters/11-w2-second.md',
    ]);
    expect(calls).toEqual([{ tool: 'smoke', args: ['fix-stale', 'fix-missing'] }]);
    expect(reports.map((r) => `${r.state}/${r.step}`)).toEqual(['running/tangle', 'running/smoke']);
    expect(s.state).toBe('failed');
    expect(s.smokes.map((x) => [x.name, x.ok, x.where])).toEqual([
      ['fix-stale', false, expect.stringMatching(/^chapters\/11-w2-second\.md:\d+$/)],
      ['fix-missing', false, expect.stringMatching(/^chapters\/11-w2-second\.md:\d+$/)],
    ]);
    expect(s.smokes[0]!.failures).toEqual(['not booted: the run stopped before it (see the problems above)']);
    expect(s.problems).toEqual([{ where: 'npm run smoke', message: 'smoke: this clone is not set up (missing build/tools/cue)' }]);
  });

  test('a chapter without smokes is built, and a compiler error is kept at its chapter line', async () => {
    const s = await runCycle(
      context({ code: 1, lines: ['error[E0308]: mismatched types', '  --> chapters/90-a1-appendix.md:14:5 [capos-wasm/src/x.rs:3:5]'] }),
      3,
      ['chapters/90-a1-appendix.md'],
    );
    expect(calls).toEqual([{ tool: 'build', args: [] }]);
    expect(s).toMatchObject({
      state: 'failed',
      step: 'build',
      problems: [{ where: 'chapters/90-a1-appendix.md:14:5', message: 'error[E0308]: mismatched types [capos-wasm/src/x.rs:3:5]' }],
    });
  });

  test('a broken chapter stops the cycle at the tangle step, names the place and writes nothing', async () => {
    const chapter = path.join(root, 'chapters/10-w1-first.md');
    const text = await readFile(chapter, 'utf8');
    const line = text.split('\n').length + 1;
    const fence = '```rust file=demos/new.rs fiel=x';
    await writeFile(chapter, `${text}\n${fence}\nfn b() {}\n\`\`\`\n`);
    const s = await runCycle(context(), 4, ['chapters/10-w1-first.md']);
    expect(calls).toEqual([]);
    expect(s).toMatchObject({ state: 'failed', step: 'tangle' });
    expect(s.problems[0]!.where).toBe(`chapters/10-w1-first.md:${line}:${fence.indexOf('fiel=') + 1}`);
    expect(s.problems[0]!.message).toContain('fiel');
    await expect(stat(path.join(root, 'demos/new.rs'))).rejects.toThrow(/ENOENT/);
  });
});

test('problemsIn keeps each line that names a chapter place and a message, once', () => {
  const lines = ['chapters/x.md:3:1: expected `a`', 'noise', 'chapters/x.md:3:1: expected `a`', 'run-x failed (chapters/y.md:40):'];
  expect(problemsIn(lines)).toEqual([{ where: 'chapters/x.md:3:1', message: 'expected `a`' }]);
});
