import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import { computeInputs, hashInputs, type SmokeResult } from '../../smoke/result.js';
import { stamp } from '../../stamp/stamp.js';
import { stampFrontMatter, stampTime } from '../../stamp/front-matter.js';
import { scratchCopy } from '../helpers.js';

const scratch: string[] = [];
afterEach(async () => {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});
const NOW = new Date('2026-11-26T07:05:09Z');
const CHAPTER = 'chapters/10-w1-stamp.md';

async function git(root: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd: root })).stdout.trim();
}

/** A committed scratch repository holding the stamp fixture; returns it with its HEAD short hash. */
async function repo(): Promise<{ root: string; head: string }> {
  const root = await scratchCopy('stamp');
  scratch.push(root);
  await rename(join(root, 'gitignore'), join(root, '.gitignore'));
  await git(root, 'init', '-q');
  await git(root, 'add', '.');
  await git(root, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'fixture');
  return { root, head: await git(root, 'rev-parse', '--short=8', 'HEAD') };
}

/** A green result for the fixture's smoke at `commit`, as the smoke runner would write it. */
async function writeResult(root: string, commit: string, change: Partial<SmokeResult> = {}): Promise<void> {
  const book = await loadBook(root);
  const spec = book.chapters[0]!.smokes[0]!;
  const inputs = computeInputs(tangleBook(book), spec);
  const result: SmokeResult = {
    schemaVersion: 2,
    name: spec.name,
    chapter: CHAPTER,
    chapterLine: spec.line,
    manifest: spec.manifest,
    ok: true,
    accelerator: 'tcg',
    totalMs: 150,
    boots: [
      {
        manifest: spec.manifest,
        exitStatus: 0,
        qemuStatus: 1,
        timedOut: false,
        bootMs: 100,
        transcript: ['[kernel] boot', '[init] stamp'],
        assertions: [{ kind: 'line', text: '[init] stamp', chapterLine: 20, ok: true, transcriptLine: 3 }],
      },
    ],
    commit,
    dirty: false,
    startedAt: '2026-11-26T07:00:00Z',
    inputs,
    inputsHash: '',
    ...change,
  };
  result.inputsHash = hashInputs(result.inputs);
  await mkdir(join(root, 'results/smoke'), { recursive: true });
  await writeFile(join(root, 'results/smoke/run-wasi-stamp.json'), JSON.stringify(result));
}

describe('stamp', () => {
  test('stamps a phase whose smokes are green at HEAD, keeping every other byte of the chapter', async () => {
    const { root, head } = await repo();
    await writeResult(root, head);
    const before = await readFile(join(root, CHAPTER), 'utf8');
    const result = await stamp(root, 'W.1', NOW);
    expect(result.ok, result.lines.join('\n')).toBe(true);
    const after = await readFile(join(root, CHAPTER), 'utf8');
    expect(after).toBe(before.replace('status: in-progress\n', `status: done\nstamp: { commit: "${head}", time: "2026-11-26 07:05 UTC" }\n`));
    const chapter = (await loadBook(root)).chapters[0]!;
    expect(chapter.meta).toMatchObject({
      status: 'done',
      stamp: { commit: head, time: '2026-11-26 07:05 UTC' },
      description: 'A folded description over two lines.\n',
    });
  });

  test.each<[string, (root: string, head: string) => Promise<unknown>, RegExp]>([
    [
      'a dirty tree',
      async (root, head) => {
        await writeResult(root, head);
        await writeFile(join(root, 'notes.txt'), 'x');
      },
      /working tree is not clean .*notes\.txt/,
    ],
    ['a missing result', async () => undefined, /run-wasi-stamp: no result at results\/smoke\/run-wasi-stamp\.json/],
    [
      'a failing smoke',
      (root, head) =>
        writeResult(root, head, {
          ok: false,
          boots: [
            {
              manifest: 'manifests/system-stamp.cue',
              exitStatus: 0,
              qemuStatus: 1,
              timedOut: false,
              bootMs: 100,
              transcript: [],
              assertions: [{ kind: 'line', text: '[init] stamp', chapterLine: 20, ok: false, detail: 'not found' }],
            },
          ],
        }),
      /the smoke failed \(chapters\/10-w1-stamp\.md:20 line \[init\] stamp \(not found\)\)/,
    ],
    ['a result from another commit', (root) => writeResult(root, 'deadbeef'), /from commit deadbeef, HEAD is [0-9a-f]{8}/],
    ['a result recorded on a dirty tree', (root, head) => writeResult(root, head, { dirty: true }), /recorded on a dirty tree/],
    [
      'a changed smoke block',
      (root, head) => writeResult(root, head, { inputs: { smoke: 'old', tangled: 'old', image: '' } }),
      /smoke block changed[\s\S]*tangled files it depends on changed/,
    ],
    [
      'an unreadable result',
      async (root) => {
        await mkdir(join(root, 'results/smoke'), { recursive: true });
        await writeFile(join(root, 'results/smoke/run-wasi-stamp.json'), '{"schemaVersion": 1}');
      },
      /unreadable result/,
    ],
  ])('refuses %s, saying why, and leaves the chapter alone', async (_, arrange, why) => {
    const { root, head } = await repo();
    await arrange(root, head);
    const before = await readFile(join(root, CHAPTER), 'utf8');
    const result = await stamp(root, 'W.1', NOW);
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toMatch(why);
    expect(await readFile(join(root, CHAPTER), 'utf8')).toBe(before);
  });

  test('refuses an unknown phase, listing the known ones', async () => {
    const { root } = await repo();
    const result = await stamp(root, 'W.7', NOW);
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toContain('no chapter has phase `W.7` (phases: W.1)');
  });
});

describe('stampFrontMatter', () => {
  test('replaces an existing stamp, block or flow style, and keeps the rest', () => {
    const source = '---\nphase: W.1\nstatus: done\nstamp:\n  commit: "aaaaaaaa"\n  time: "2026-01-01 00:00 UTC"\ntopics: []\n---\nbody\n';
    expect(stampFrontMatter(source, { commit: 'bbbbbbbb', time: '2026-02-02 02:02 UTC' })).toBe(
      '---\nphase: W.1\nstatus: done\nstamp: { commit: "bbbbbbbb", time: "2026-02-02 02:02 UTC" }\ntopics: []\n---\nbody\n',
    );
  });

  test('formats the time as YYYY-MM-DD HH:MM UTC', () => {
    expect(stampTime(new Date('2026-05-10T19:39:59.900Z'))).toBe('2026-05-10 19:39 UTC');
  });
});
