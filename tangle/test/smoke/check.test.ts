import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Matcher, SmokeSpec, Step } from '../../parse/model.js';
import { checkSmoke as checkBoots, formatFailure, splitTranscript, type Boot } from '../../smoke/check.js';

/** All assertions of a smoke's boots, flattened (one boot unless a list is given). */
const checkSmoke = (s: SmokeSpec, boots: Boot | Boot[]) => checkBoots(s, Array.isArray(boots) ? boots : [boots]).flat();

const fixture = (name: string) => splitTranscript(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));

// Hand-built specs: chapter lines start at 100 so each assertion's line is easy to tell apart.
let nextLine = 100;
const exact = (text: string): Matcher => ({ kind: 'exact', text, line: nextLine++ });
const regex = (text: string): Matcher => ({ kind: 'regex', text, line: nextLine++ });
const line = (m: Matcher): Step => ({ kind: 'line', matcher: m });
function spec(steps: Step[], extra: Partial<SmokeSpec> = {}): SmokeSpec {
  return {
    name: 'run-capos-test',
    manifest: 'manifests/system-test.cue',
    timeout: 10,
    exit: 0,
    steps,
    forbid: [],
    chapter: 'chapters/90-a1-kernel.md',
    line: 90,
    source: 'smoke body',
    ...extra,
  };
}
const ok = (t: string[]) => ({ transcript: t, exitStatus: 0, timedOut: false });

describe('checkSmoke on recorded transcripts', () => {
  it('passes when every line occurs in order (exact lines ignore \\r and trailing blanks)', () => {
    const t = fixture('hello.txt');
    const r = checkSmoke(
      spec([line(exact('[kernel] capOS booting')), line(regex('^\\[hello\\] Hello')), line(exact('[kernel] init exited with 0'))], {
        forbid: [regex('panic')],
      }),
      ok(t),
    );
    expect(r.every((a) => a.ok)).toBe(true);
    expect(r.map((a) => a.kind)).toEqual(['line', 'line', 'line', 'forbid', 'exit', 'timeout']);
    expect(r[1]).toMatchObject({ transcriptLine: 4, chapterLine: expect.any(Number) });
  });

  it('reports a missing line with its chapter line and the transcript around the expected place', () => {
    const t = fixture('hello.txt');
    const missing = exact('[hello] Goodbye');
    const r = checkSmoke(spec([line(exact('[hello] Hello from capOS')), line(missing), line(exact('[kernel] init exited with 0'))]), ok(t));
    const bad = r.filter((a) => !a.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.chapterLine).toBe(missing.line);
    expect(bad[0]!.detail).toContain('after transcript line 4');
    expect(bad[0]!.detail).toContain('5| [init] service hello exited with 0');
    // the cursor did not move, so the following line still matched
    expect(r[2]!.ok).toBe(true);
    expect(formatFailure('chapters/90-a1-kernel.md', bad[0]!)).toMatch(/^chapters\/90-a1-kernel\.md:\d+: expected > \[hello\] Goodbye\n/);
  });

  it('fails an out-of-order line and says where it was seen', () => {
    const t = fixture('hello.txt');
    const r = checkSmoke(spec([line(exact('[init] service hello exited with 0')), line(exact('[hello] Hello from capOS'))]), ok(t));
    expect(r[0]!.ok).toBe(true);
    expect(r[1]!.ok).toBe(false);
    expect(r[1]!.detail).toContain('out of order');
    expect(r[1]!.detail).toContain('transcript line 4');
  });

  it('matches an unordered group in any order, each member on a distinct line', () => {
    const t = fixture('parallel.txt');
    const group: Step = { kind: 'unordered', line: 200, matchers: [exact('[a] up'), exact('[b] up')] };
    const r = checkSmoke(spec([line(exact('[init] starting 2 services')), group, line(regex('service a exited'))]), ok(t));
    expect(r.every((a) => a.ok)).toBe(true);
    // the same line cannot satisfy two members
    const twice: Step = { kind: 'unordered', line: 201, matchers: [exact('[a] up'), exact('[a] up')] };
    const r2 = checkSmoke(spec([twice]), ok(t));
    expect(r2.filter((a) => !a.ok).map((a) => a.kind)).toEqual(['unordered']);
    expect(r2.find((a) => !a.ok)!.detail).toContain('unordered group at chapter line 201');
  });

  it('fails an unordered group whose member only occurs before the group position', () => {
    const t = fixture('parallel.txt');
    const group: Step = { kind: 'unordered', line: 202, matchers: [exact('[b] up'), exact('[a] up')] };
    const r = checkSmoke(spec([line(exact('[b] up')), group]), ok(t));
    expect(r.filter((a) => !a.ok).map((a) => a.text)).toEqual(['> [b] up']);
    expect(r.find((a) => !a.ok)!.detail).toContain('out of order');
  });

  it('fails a forbidden line found anywhere, pointing at it', () => {
    const t = fixture('panic.txt');
    const forbid = regex('^\\[kernel\\] panic');
    const r = checkSmoke(spec([line(exact('[kernel] capOS booting'))], { forbid: [forbid] }), { transcript: t, exitStatus: 127, timedOut: false });
    const f = r.find((a) => a.kind === 'forbid')!;
    expect(f).toMatchObject({ ok: false, transcriptLine: 2, chapterLine: forbid.line });
    expect(f.detail).toContain('> 2| [kernel] panic: page fault at 0x0 in kernel');
  });

  it('fails a wrong exit status', () => {
    const t = fixture('hello.txt');
    const r = checkSmoke(spec([], { exit: 0 }), { transcript: t, exitStatus: 1, timedOut: false });
    expect(r.find((a) => a.kind === 'exit')).toMatchObject({ ok: false, detail: 'expected exit status 0, got 1' });
    const r2 = checkSmoke(spec([], { exit: 0 }), { transcript: t, exitStatus: null, timedOut: false });
    expect(r2.find((a) => a.kind === 'exit')!.detail).toContain('did not exit through isa-debug-exit');
  });

  it('fails on timeout (both the timeout and the exit assertion)', () => {
    const t = fixture('hello.txt').slice(0, 3);
    const r = checkSmoke(spec([line(exact('[kernel] capOS booting'))], { timeout: 5 }), { transcript: t, exitStatus: null, timedOut: true });
    expect(r.find((a) => a.kind === 'timeout')).toMatchObject({ ok: false, text: 'timeout: 5' });
    expect(r.find((a) => a.kind === 'timeout')!.detail).toContain('3| [init] starting 2 services');
    expect(r.find((a) => a.kind === 'exit')!.ok).toBe(false);
  });

  it('differs: the captured group must change between two boots', () => {
    const d = regex('entropy sample ([0-9a-f]+)');
    const first = fixture('parallel.txt');
    const second = fixture('parallel-2.txt');
    const good = checkSmoke(spec([], { differs: d }), [ok(first), ok(second)]);
    expect(good.find((a) => a.kind === 'differs')).toMatchObject({ ok: true, chapterLine: d.line });
    const same = checkSmoke(spec([], { differs: d }), [ok(first), ok(first)]);
    expect(same.find((a) => a.kind === 'differs')!.detail).toContain('"1f2e3d4c" in both boots');
    const absent = checkSmoke(spec([], { differs: d }), [ok(first), ok(fixture('hello.txt'))]);
    expect(absent.find((a) => a.kind === 'differs')!.detail).toContain('second boot');
  });

  it('differs: the second boot must pass every assertion too', () => {
    const d = regex('entropy sample ([0-9a-f]+)');
    const first = fixture('parallel.txt');
    const second = fixture('parallel-2.txt');
    const s = spec([], { differs: d, forbid: [regex('panic')] });
    const clean = checkSmoke(s, [ok(first), ok(second)]);
    expect(clean.every((a) => a.ok)).toBe(true);
    expect(clean.filter((a) => a.text.startsWith('(boot 2) ')).map((a) => a.kind)).toEqual(['forbid', 'exit', 'timeout']);
    const panicked = checkSmoke(s, [ok(first), { transcript: [...second, '[kernel] panic: boom'], exitStatus: 127, timedOut: false }]);
    const bad = panicked.filter((a) => !a.ok);
    expect(bad.map((a) => a.text)).toEqual(['(boot 2) !~ panic', '(boot 2) exit: 0']);
    expect(bad[0]!.detail).toMatch(/^in boot 2: forbidden line found/);
    // a transcript line number counts the transcript of the assertion's own boot
    expect(bad[0]!.transcriptLine).toBe(second.length + 1);
    expect(panicked.find((a) => a.kind === 'differs')!.ok).toBe(true);
  });

  it('boot: sections are checked each against their own boot, with their own exit status', () => {
    const first = fixture('hello.txt');
    const s = spec([line(exact('[kernel] capOS booting'))], {
      boots: [{ manifest: 'manifests/system-other.cue', exit: 3, steps: [line(exact('[reader] read back: ok'))], forbid: [regex('panic')], line: 120 }],
    });
    const per = checkBoots(s, [ok(first), { transcript: ['[reader] read back: ok'], exitStatus: 3, timedOut: false }]);
    expect(per).toHaveLength(2);
    expect(per.flat().every((a) => a.ok)).toBe(true);
    expect(per[1]!.map((a) => a.text)).toEqual(['(boot 2) > [reader] read back: ok', '(boot 2) !~ panic', '(boot 2) exit: 3', '(boot 2) timeout: 10']);
    const wrong = checkBoots(s, [ok(first), { transcript: ['[reader] read back: no'], exitStatus: 0, timedOut: false }]);
    expect(wrong[1]!.filter((a) => !a.ok).map((a) => a.kind)).toEqual(['line', 'exit']);
    const missing = checkBoots(s, [ok(first)]);
    expect(missing[1]).toEqual([expect.objectContaining({ kind: 'exit', ok: false, detail: 'in boot 2: this boot was not run' })]);
  });

  it('reports an invalid regex as a failing assertion', () => {
    const r = checkSmoke(spec([line(regex('(['))]), ok(fixture('hello.txt')));
    expect(r[0]).toMatchObject({ ok: false });
    expect(r[0]!.detail).toContain('invalid regular expression');
  });

  it('reports an empty transcript clearly', () => {
    const r = checkSmoke(spec([line(exact('[kernel] capOS booting'))]), { transcript: [], exitStatus: null, timedOut: false });
    expect(r[0]!.detail).toContain('(the transcript is empty)');
  });
});
