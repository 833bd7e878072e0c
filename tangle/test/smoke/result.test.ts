import { describe, expect, it } from 'vitest';
import type { SmokeSpec, TangledFile } from '../../parse/model.js';
import { changedInputs, computeInputs, hashInputs, validateSmokeResult, type SmokeResult } from '../../smoke/result.js';
import { summaryTable, failures } from '../../smoke/report.js';

const inputs = { smoke: 'a', tangled: 'b', image: 'c' };
const good: SmokeResult = {
  schemaVersion: 2,
  name: 'run-capos-hello',
  chapter: 'chapters/90-a1-kernel.md',
  chapterLine: 40,
  manifest: 'manifests/system-capos-hello.cue',
  ok: false,
  accelerator: 'tcg',
  totalMs: 150,
  boots: [
    {
      manifest: 'manifests/system-capos-hello.cue',
      exitStatus: 1,
      qemuStatus: 3,
      timedOut: false,
      bootMs: 120,
      transcript: ['[kernel] boot', '[init] x', '[hello] hi'],
      assertions: [
        { kind: 'line', text: '> [hello] hi', chapterLine: 42, ok: true, transcriptLine: 3 },
        { kind: 'exit', text: 'exit: 0', chapterLine: 40, ok: false, detail: 'expected exit status 0, got 1' },
      ],
    },
  ],
  commit: 'abcd1234',
  dirty: false,
  startedAt: '2026-11-26T06:00:00.000Z',
  inputs,
  inputsHash: hashInputs(inputs),
};

describe('validateSmokeResult', () => {
  it('accepts a well-formed result', () => {
    expect(validateSmokeResult(JSON.parse(JSON.stringify(good)), 'r.json')).toEqual(good);
  });
  it('names the file and the bad field', () => {
    const bad = JSON.parse(JSON.stringify(good));
    bad.boots[0].assertions[1].chapterLine = '40';
    expect(() => validateSmokeResult(bad, 'results/smoke/x.json')).toThrow('results/smoke/x.json: boots[0].assertions[1].chapterLine: expected a number');
    expect(() => validateSmokeResult({ ...good, boots: [] }, 'f.json')).toThrow('f.json: boots: expected a non-empty list');
    const noTranscript = JSON.parse(JSON.stringify(good));
    delete noTranscript.boots[0].transcript;
    expect(() => validateSmokeResult(noTranscript, 'f.json')).toThrow('f.json: boots[0].transcript: expected a list of strings');
    const noAccel = { ...good, accelerator: 'hvf' };
    expect(() => validateSmokeResult(noAccel, 'f.json')).toThrow('f.json: accelerator:');
    const { commit: _c, ...noCommit } = good;
    expect(() => validateSmokeResult(noCommit, 'f.json')).toThrow('f.json: commit: expected a string, got nothing (field missing)');
    expect(() => validateSmokeResult({ ...good, schemaVersion: 1 }, 'f.json')).toThrow('f.json: schemaVersion: expected 2');
    expect(() => validateSmokeResult({ ...good, inputs: { smoke: 'a', tangled: 'b' } }, 'f.json')).toThrow('f.json: inputs.image');
    expect(() => validateSmokeResult([], 'f.json')).toThrow('f.json: (root)');
  });
  it('refuses a result whose derived fields disagree with the rest, so it cannot show as passing', () => {
    expect(() => validateSmokeResult({ ...good, ok: true }, 'f.json')).toThrow('f.json: ok: is true, but an assertion failed');
    const allOk = { ...good, boots: good.boots.map((b) => ({ ...b, assertions: b.assertions.map((a) => ({ ...a, ok: true })) })) };
    expect(() => validateSmokeResult(allOk, 'f.json')).toThrow('f.json: ok: is false, but every assertion passed');
    expect(() => validateSmokeResult({ ...good, inputsHash: 'd' }, 'f.json')).toThrow('f.json: inputsHash: does not match');
    expect(() => validateSmokeResult({ ...good, inputs: { ...inputs, smoke: 'z' } }, 'f.json')).toThrow('f.json: inputsHash: does not match');
  });
});

describe('computeInputs', () => {
  const spec = {
    name: 's',
    manifest: 'manifests/system-m.cue',
    timeout: 1,
    exit: 0,
    steps: [],
    forbid: [],
    chapter: 'c',
    line: 1,
    source: '> a\n',
  } as SmokeSpec;
  const manifest = { path: 'manifests/system-m.cue', content: '"build/demos/a.wasm"', ranges: [] };
  const files: TangledFile[] = [{ path: 'demos/a/b.c', content: 'B', ranges: [] }, { path: 'demos/a/a.c', content: 'A', ranges: [] }, manifest];
  it('hashes the smoke source, the tangled files independent of order, and the image', () => {
    const x = computeInputs(files, spec, Buffer.from('img'));
    expect(computeInputs([...files].reverse(), spec, Buffer.from('img'))).toEqual(x);
    expect(x.smoke).toMatch(/^[0-9a-f]{64}$/);
    expect(computeInputs(files, { ...spec, source: '> b\n' }).smoke).not.toBe(x.smoke);
    expect(
      computeInputs([{ path: 'demos/a/a.cB', content: '', ranges: [] }, { path: 'demos/a/b.c', content: '', ranges: [] }, manifest], spec).tangled,
    ).not.toBe(x.tangled);
    expect(computeInputs(files, spec).image).toBe('');
    expect(hashInputs(x)).not.toBe(hashInputs({ ...x, image: '' }));
  });
});

describe('changedInputs', () => {
  const recorded = { smoke: 's', tangled: 't', image: 'i' };
  it('names each input that changed', () => {
    expect(changedInputs(recorded, recorded)).toEqual([]);
    expect(changedInputs(recorded, { smoke: 'S', tangled: 'T', image: 'I' })).toEqual([
      'the smoke block',
      'the tangled files it depends on',
      'the booted image (kernel or manifest.bin)',
    ]);
  });
  it('compares the image only when the reader could hash it', () => {
    expect(changedInputs(recorded, { ...recorded, image: '' })).toEqual([]);
  });
});

describe('report', () => {
  it('prints a table row per result and failures with chapter:line', () => {
    const t = summaryTable([good]);
    expect(t.split('\n')[2]).toMatch(/^run-capos-hello\s+FAIL\s+1\/2\s+1\s+tcg\s+120 ms\s+150 ms$/);
    expect(failures(good)).toEqual(['chapters/90-a1-kernel.md:40: expected exit: 0\n  expected exit status 0, got 1']);
  });
});
