import { describe, expect, it } from 'vitest';
import { formatHint, grantField, unusedGrants } from '../../lint/manifests.js';
import { parseLedger } from '../../smoke/ledger.js';
import { hashInputs, validateSmokeResult, type SmokeResult } from '../../smoke/result.js';

function result(name: string, manifest: string, transcripts: string[][]): SmokeResult {
  const inputs = { smoke: 's', tangled: 't', image: '' };
  const boots = transcripts.map((transcript) => ({ manifest, exitStatus: 0, qemuStatus: 1, timedOut: false, bootMs: 1, transcript, assertions: [] }));
  const json = {
    schemaVersion: 2,
    name,
    chapter: 'chapters/99-a10-authority-ledger.md',
    chapterLine: 40,
    manifest,
    ok: true,
    accelerator: 'tcg',
    totalMs: 1,
    boots,
    ledger: transcripts.flatMap((t, i) => parseLedger(t, i)),
    commit: 'c',
    dirty: false,
    startedAt: 'now',
    inputs,
    inputsHash: hashInputs(inputs),
  };
  // Through the validator, as the lint reads them: the ledger field survives a round trip through JSON.
  return validateSmokeResult(JSON.parse(JSON.stringify(json)), `${name}.json`);
}

describe('unusedGrants', () => {
  it('reports a grant only when every run of its manifest left it untouched', () => {
    const a = result('run-a', 'manifests/system-a.cue', [
      ['[wasm-host] ledger one grants console dir:/my%20data timer', '[wasm-host] ledger one cap console fd_write=1'],
    ]);
    // A second smoke of the same manifest uses the timer: only the directory stays a hint.
    const b = result('run-b', 'manifests/system-a.cue', [
      [
        '[wasm-host] ledger one grants console dir:/my%20data timer',
        '[wasm-host] ledger one cap timer clock_time_get=1',
        '[wasm-host] ledger one cap console fd_write=1',
      ],
    ]);
    const hints = unusedGrants([a, b]);
    expect(hints.map((h) => [h.smoke, h.instance, h.caps])).toEqual([['run-a', 'one', ['dir:/my%20data']]]);
    expect(formatHint(hints[0]!)).toBe(
      'chapters/99-a10-authority-ledger.md:40: run-a: instance one of wasm-host (manifests/system-a.cue) was granted dir:/my%20data (caps.preopens."/my data") and never used it. Fix: drop the grant if no run needs it. [unused-grant]',
    );
    // Without the second smoke, both unused grants are one hint for the instance.
    expect(formatHint(unusedGrants([a])[0]!)).toContain(
      'was granted dir:/my%20data (caps.preopens."/my data"), timer (caps.timer) and never used them. Fix: drop each',
    );
  });

  it('keeps manifests, services and instances apart, and a boot names its own manifest', () => {
    const r = result('run-c', 'manifests/system-c.cue', [
      ['[svc] ledger x grants random'],
      ['[svc] ledger x grants random', '[svc] ledger x cap random random_get=1'],
    ]);
    r.boots[1]!.manifest = 'manifests/system-c2.cue';
    expect(unusedGrants([r]).map((h) => h.manifest)).toEqual(['manifests/system-c.cue']);
    expect(grantField('socket:3')).toBe('grants.sockets');
    expect(grantField('wallclock')).toBe('caps.wallclock');
  });

  it('refuses a ledger field that is not one', () => {
    const bad = { ...JSON.parse(JSON.stringify(result('run-d', 'm', [['[s] ledger i grants -']]))), ledger: [{ boot: 5 }] };
    expect(() => validateSmokeResult(bad, 'run-d.json')).toThrow(/ledger\[0\]\.boot: expected a boot index below 1/);
  });
});
