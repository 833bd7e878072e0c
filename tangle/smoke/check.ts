// The assertion checker: a pure function from (smoke spec, captured boot) to one AssertionResult per assertion.
// No I/O here, so it is tested on recorded transcripts.
import type { BootSpec, Matcher, SmokeSpec } from '../parse/model.js';
import type { AssertionResult } from './result.js';

export interface Boot {
  transcript: string[];
  /** init's exit code as reported through isa-debug-exit; null when QEMU did not exit through it. */
  exitStatus: number | null;
  timedOut: boolean;
}

/** The boot specs of a smoke in boot order: the first from the block's top, then one per `boot:` directive; a
 * `differs` smoke boots its one spec twice. */
export function bootSpecs(spec: SmokeSpec): BootSpec[] {
  const first: BootSpec = { manifest: spec.manifest, exit: spec.exit, steps: spec.steps, forbid: spec.forbid, line: spec.line };
  if (spec.differs) return [first, first];
  return [first, ...(spec.boots ?? [])];
}

/** Serial lines carry \r\n and sometimes trailing blanks; neither is part of what a chapter promises. */
export function normalizeLine(line: string): string {
  return line.replace(/\r/g, '').replace(/[ \t]+$/, '');
}

/** Splits raw serial output into normalized lines (a final partial line is kept). */
export function splitTranscript(raw: string): string[] {
  const lines = raw.split('\n').map(normalizeLine);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function matcherText(m: Matcher): string {
  return m.kind === 'exact' ? `> ${m.text}` : `~ ${m.text}`;
}

/** Compiles matchers once; a bad regex is reported as a failing assertion, not a crash. */
function compile(m: Matcher): ((line: string) => boolean) | string {
  if (m.kind === 'exact') {
    const want = normalizeLine(m.text);
    return (line) => normalizeLine(line) === want;
  }
  try {
    const re = new RegExp(m.text);
    return (line) => re.test(normalizeLine(line));
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
}

/** Transcript lines around index `at` (0-based), numbered 1-based, with `>` marking `mark` (or `at`). */
export function context(transcript: string[], at: number, mark = at, before = 3, after = 4): string {
  if (transcript.length === 0) return '    (the transcript is empty)';
  const from = Math.max(0, Math.min(at, transcript.length) - before);
  const to = Math.min(transcript.length, Math.max(at, 0) + after + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    out.push(`  ${i === mark ? '>' : ' '} ${String(i + 1).padStart(width)}| ${transcript[i]}`);
  }
  if (at >= transcript.length) out.push(`  > ${' '.repeat(width)}| (end of transcript)`);
  return out.join('\n');
}

function findFrom(test: (l: string) => boolean, lines: string[], from: number, skip?: Set<number>): number {
  for (let i = from; i < lines.length; i++) if (!skip?.has(i) && test(lines[i]!)) return i;
  return -1;
}

/**
 * Checks a smoke's boots against its spec: one list of assertion results per boot, in boot order (`boots[i]` is
 * checked against `bootSpecs(spec)[i]`). Assertions of a later boot say so in their text (`(boot 2) …`) and their
 * `transcriptLine` counts that boot's transcript. A `differs` smoke boots twice; its second boot must pass every
 * assertion too (otherwise a panic in it would hide behind a differing value), and carries the `differs` result.
 */
export function checkSmoke(spec: SmokeSpec, boots: Boot[]): AssertionResult[][] {
  const specs = bootSpecs(spec);
  const results = specs.map((b, i) => {
    const run = boots[i];
    const got = run
      ? checkBoot(b, spec.timeout, run)
      : [{ kind: 'exit' as const, text: `exit: ${b.exit}`, chapterLine: b.line, ok: false, detail: 'this boot was not run' }];
    if (i === 0) return got;
    return got.map((a) => ({ ...a, text: `(boot ${i + 1}) ${a.text}`, ...(a.detail ? { detail: `in boot ${i + 1}: ${a.detail}` } : {}) }));
  });
  if (spec.differs) results[results.length - 1]!.push(checkDiffers(spec.differs, boots));
  return results;
}

/**
 * Checks one boot against the spec's lines, forbidden lines, exit status and timeout. Ordered expectations are matched
 * left to right with a cursor; an unmatched expectation does not move the cursor, so one missing line yields one failure.
 */
function checkBoot(spec: BootSpec, timeout: number, run: Boot): AssertionResult[] {
  const t = run.transcript;
  const results: AssertionResult[] = [];
  let cursor = 0; // index of the first transcript line not yet consumed by an ordered expectation

  const expectLine = (m: Matcher, kind: 'line' | 'unordered', test: (l: string) => boolean, from: number, used?: Set<number>) => {
    const idx = findFrom(test, t, from, used);
    if (idx >= 0) return { idx, result: { kind, text: matcherText(m), chapterLine: m.line, ok: true, transcriptLine: idx + 1 } as AssertionResult };
    const earlier = findFrom(test, t, 0);
    const where = from === 0 ? 'anywhere in the transcript' : `after transcript line ${from}`;
    let detail = `expected ${matcherText(m)} ${where}, not found`;
    if (earlier >= 0 && earlier < from) detail += ` (it occurs earlier, at transcript line ${earlier + 1}: out of order)`;
    detail += `; transcript around line ${Math.min(from + 1, t.length)}:\n${context(t, from)}`;
    return { idx: -1, result: { kind, text: matcherText(m), chapterLine: m.line, ok: false, detail } as AssertionResult };
  };

  for (const step of spec.steps) {
    if (step.kind === 'line') {
      const test = compile(step.matcher);
      if (typeof test === 'string') {
        results.push({ kind: 'line', text: matcherText(step.matcher), chapterLine: step.matcher.line, ok: false, detail: test });
        continue;
      }
      const { idx, result } = expectLine(step.matcher, 'line', test, cursor);
      results.push(result);
      if (idx >= 0) cursor = idx + 1;
      continue;
    }
    if (step.kind === 'computed') {
      // The runner expands these before checking (computed.ts); one left here was never computed.
      results.push({
        kind: 'line',
        text: `= ${JSON.stringify(step.prefix)} cue export ${step.file}`,
        chapterLine: step.line,
        ok: false,
        detail: 'computed expectation was not expanded (run it through the smoke runner)',
      });
      continue;
    }
    // Unordered group: every member must match a distinct line at or after the cursor, in any order;
    // afterwards the cursor moves past the last line the group used.
    const used = new Set<number>();
    let last = -1;
    for (const m of step.matchers) {
      const test = compile(m);
      if (typeof test === 'string') {
        results.push({ kind: 'unordered', text: matcherText(m), chapterLine: m.line, ok: false, detail: test });
        continue;
      }
      const { idx, result } = expectLine(m, 'unordered', test, cursor, used);
      if (!result.ok) result.detail = `in the unordered group at chapter line ${step.line}: ${result.detail}`;
      results.push(result);
      if (idx >= 0) {
        used.add(idx);
        last = Math.max(last, idx);
      }
    }
    if (last >= 0) cursor = last + 1;
  }

  for (const m of spec.forbid) {
    const text = m.kind === 'exact' ? `! ${m.text}` : `!~ ${m.text}`;
    const test = compile(m);
    if (typeof test === 'string') {
      results.push({ kind: 'forbid', text, chapterLine: m.line, ok: false, detail: test });
      continue;
    }
    const idx = findFrom(test, t, 0);
    if (idx < 0) results.push({ kind: 'forbid', text, chapterLine: m.line, ok: true });
    else
      results.push({
        kind: 'forbid',
        text,
        chapterLine: m.line,
        ok: false,
        transcriptLine: idx + 1,
        detail: `forbidden line found at transcript line ${idx + 1}:\n${context(t, idx)}`,
      });
  }

  const exitOk = !run.timedOut && run.exitStatus === spec.exit;
  results.push({
    kind: 'exit',
    text: `exit: ${spec.exit}`,
    chapterLine: spec.line,
    ok: exitOk,
    ...(exitOk
      ? {}
      : {
          detail: run.timedOut
            ? `expected exit status ${spec.exit}, but the boot timed out`
            : run.exitStatus === null
              ? `expected exit status ${spec.exit}, but QEMU did not exit through isa-debug-exit; last lines:\n${context(t, t.length - 1, t.length - 1, 5, 0)}`
              : `expected exit status ${spec.exit}, got ${run.exitStatus}`,
        }),
  });

  results.push({
    kind: 'timeout',
    text: `timeout: ${timeout}`,
    chapterLine: spec.line,
    ok: !run.timedOut,
    ...(run.timedOut ? { detail: `no exit within ${timeout} s; last lines:\n${context(t, t.length - 1, t.length - 1, 5, 0)}` } : {}),
  });
  return results;
}

function checkDiffers(m: Matcher, boots: Boot[]): AssertionResult {
  const base = { kind: 'differs' as const, text: `differs: ~ ${m.text}`, chapterLine: m.line };
  let re: RegExp;
  try {
    re = new RegExp(m.text);
  } catch (e) {
    return { ...base, ok: false, detail: `invalid regular expression: ${(e as Error).message}` };
  }
  const capture = (lines: string[]) => {
    for (let i = 0; i < lines.length; i++) {
      const mm = re.exec(normalizeLine(lines[i]!));
      if (mm) return { i, value: mm[1] ?? mm[0] };
    }
    return null;
  };
  const [first, second] = boots;
  if (!first || !second) return { ...base, ok: false, detail: 'only one boot was run; `differs` needs two' };
  const a = capture(first.transcript);
  const b = capture(second.transcript);
  if (!a || !b) {
    const which = !a ? 'first' : 'second';
    const lines = !a ? first.transcript : second.transcript;
    return { ...base, ok: false, detail: `no line matched in the ${which} boot; its last lines:\n${context(lines, lines.length - 1, lines.length - 1, 5, 0)}` };
  }
  if (a.value === b.value) {
    return {
      ...base,
      ok: false,
      transcriptLine: b.i + 1,
      detail: `captured ${JSON.stringify(a.value)} in both boots (transcript lines ${a.i + 1} and ${b.i + 1})`,
    };
  }
  return { ...base, ok: true, transcriptLine: b.i + 1 };
}

/** The first line of a failure message: `chapters/x.md:LINE: expected …`. */
export function formatFailure(chapter: string, a: AssertionResult): string {
  const head = `${chapter}:${a.chapterLine}: ${a.kind === 'forbid' ? 'forbidden' : 'expected'} ${a.text}`;
  return a.detail
    ? `${head}\n${a.detail
        .split('\n')
        .map((l, i) => (i === 0 ? `  ${l}` : l))
        .join('\n')}`
    : head;
}
