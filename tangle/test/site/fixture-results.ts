// Writes the fixture smoke results the site tests build from: one passing and one failing result made from the
// fixture chapters as they are (so they are current), one result whose smoke block has since changed (stale), and
// none for the fourth smoke (missing). Inputs are computed with the smoke runner's own computeInputs.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBook, tangleBook } from '../../index.js';
import { computeInputs, hashInputs, sha256, type AssertionResult, type SmokeResult } from '../../smoke/result.js';
import { parseLedger } from '../../smoke/ledger.js';

export const FIXTURE_BOOK = path.resolve(import.meta.dirname, 'fixtures', 'book');

/** The passing result's transcript also carries two instances' authority ledgers (appendix A.10). */
export const FIXTURE_LEDGER = [
  '[wasm-host] frugal exited with 0',
  '[wasm-host] ledger frugal grants console random timer',
  '[wasm-host] ledger frugal cap console fd_write=2',
  '[wasm-host] ledger frugal cap timer clock_time_get=1',
  '[wasm-host] ledger frugal cap wallclock clock_time_get!NOSYS=1',
  '[wasm-host] ledger frugal unused random',
  '[wasm-host] bare exited with 0',
  '[wasm-host] ledger bare grants console',
  '[wasm-host] ledger bare cap console fd_write=1 fd_write!FAULT=1',
];

export const FIXTURE_STATES = { 'fix-pass': 'pass', 'fix-fail': 'fail', 'fix-stale': 'stale', 'fix-missing': 'missing' } as const;

export async function writeFixtureResults(dir: string): Promise<void> {
  const book = await loadBook(FIXTURE_BOOK);
  const tangled = tangleBook(book);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const chapter of book.chapters) {
    for (const spec of chapter.smokes) {
      const want = FIXTURE_STATES[spec.name as keyof typeof FIXTURE_STATES];
      if (want === 'missing' || want === undefined) continue;
      const inputs = computeInputs(tangled, spec);
      if (want === 'stale') inputs.smoke = sha256('an older version of the smoke block');
      const ok = want !== 'fail';
      const assertions: AssertionResult[] = spec.steps.map((s, i) => {
        const m = s.kind === 'line' ? s.matcher : s.kind === 'unordered' ? s.matchers[0]! : { text: `= cue export ${s.file}`, line: s.line };
        return {
          kind: s.kind === 'computed' ? 'line' : s.kind,
          text: m.text,
          chapterLine: m.line,
          ok,
          transcriptLine: ok ? i + 3 : undefined,
          detail: ok ? undefined : 'not found in the transcript',
        };
      });
      assertions.push({ kind: 'exit', text: `exit ${spec.exit}`, chapterLine: spec.line + 2, ok: true });
      const transcript = [
        '[kernel] capos booting',
        '[kernel] starting init',
        '[init] hello',
        ...(want === 'pass' ? FIXTURE_LEDGER : []),
        '[kernel] init exited with 0',
      ];
      const result: SmokeResult = {
        schemaVersion: 2,
        name: spec.name,
        chapter: spec.chapter,
        chapterLine: spec.line,
        manifest: spec.manifest,
        ok,
        accelerator: 'tcg',
        totalMs: 412,
        boots: [{ manifest: spec.manifest, exitStatus: 0, qemuStatus: 1, timedOut: false, bootMs: 93, assertions, transcript }],
        ...(want === 'pass' ? { ledger: parseLedger(transcript) } : {}),
        commit: 'fedcba98',
        dirty: false,
        startedAt: '2026-11-26T06:00:00.000Z',
        inputs,
        inputsHash: hashInputs(inputs),
      };
      await writeFile(path.join(dir, `${spec.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    }
  }
}

if (process.argv[1] === import.meta.filename) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: tsx tangle/test/site/fixture-results.ts <results dir>');
  await writeFixtureResults(path.resolve(dir));
  console.log(`fixture results written to ${dir}`);
}
