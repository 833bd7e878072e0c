// End to end without the real kernel: a scratch repo whose build/capos/kernel is the tiny PVH guest, booted in real
// QEMU (TCG) by runSmoke, checked, written as results/smoke/<name>.json and read back through the validator.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SmokeSpec } from '../../parse/model.js';
import { runSmoke, writeResult } from '../../smoke/runner.js';
import { allAssertions, validateSmokeResult } from '../../smoke/result.js';
import { pvhGuest } from './pvh-fixture.js';

function scratch(text: string, exit: number | null): string {
  const root = mkdtempSync(join(tmpdir(), 'capos-runner-test-'));
  mkdirSync(join(root, 'build/capos'), { recursive: true });
  mkdirSync(join(root, 'build/images/system-t'), { recursive: true });
  writeFileSync(join(root, 'build/capos/kernel'), pvhGuest(text, exit));
  writeFileSync(join(root, 'build/images/system-t/manifest.bin'), Buffer.from('manifest bytes'));
  return root;
}

const spec: SmokeSpec = {
  name: 'run-t',
  manifest: 'manifests/system-t.cue',
  timeout: 20,
  exit: 0,
  chapter: 'chapters/90-a1-kernel.md',
  line: 10,
  source: '> [kernel] up\n> [kernel] init exited with 0\n!~ panic\n',
  steps: [
    { kind: 'line', matcher: { kind: 'exact', text: '[kernel] up', line: 12 } },
    { kind: 'line', matcher: { kind: 'exact', text: '[kernel] init exited with 0', line: 13 } },
  ],
  forbid: [{ kind: 'regex', text: 'panic', line: 14 }],
};
const git = { commit: 'abcd1234', dirty: true };

describe('runSmoke', () => {
  it('boots, checks, and writes a result that validates', async () => {
    const root = scratch('[kernel] up\n[kernel] init exited with 0\n', 0);
    const r = await runSmoke(spec, { root, tangled: [], accel: 'tcg', git });
    expect(r.ok).toBe(true);
    expect(r).toMatchObject({ accelerator: 'tcg', commit: 'abcd1234', dirty: true });
    expect(r.boots).toHaveLength(1);
    expect(r.boots[0]).toMatchObject({ exitStatus: 0, qemuStatus: 1, timedOut: false, manifest: spec.manifest });
    expect(r.boots[0]!.transcript).toEqual(['[kernel] up', '[kernel] init exited with 0']);
    expect(r.inputs.image).toMatch(/^[0-9a-f]{64}$/);
    const file = await writeResult(root, r);
    expect(file).toBe('results/smoke/run-t.json');
    expect(validateSmokeResult(JSON.parse(readFileSync(join(root, file), 'utf8')), file)).toEqual(r);
  }, 30000);

  it('fails with chapter lines when the guest panics with status 127', async () => {
    const root = scratch('[kernel] up\n[kernel] panic: oops\n', 127);
    const r = await runSmoke(spec, { root, tangled: [], accel: 'tcg', git });
    expect(r.ok).toBe(false);
    expect(r.boots[0]!.exitStatus).toBe(127);
    expect(
      allAssertions(r)
        .filter((a) => !a.ok)
        .map((a) => [a.kind, a.chapterLine]),
    ).toEqual([
      ['line', 13],
      ['forbid', 14],
      ['exit', 10],
    ]);
  }, 30000);

  it('boots twice for differs and records both boots', async () => {
    const root = scratch('[kernel] seed 1\n', 0);
    const r = await runSmoke(
      { ...spec, steps: [], forbid: [], differs: { kind: 'regex', text: 'seed (\\d+)', line: 15 } },
      { root, tangled: [], accel: 'tcg', git },
    );
    expect(r.boots.map((b) => b.transcript)).toEqual([['[kernel] seed 1'], ['[kernel] seed 1']]);
    // the fixture prints the same seed both times, so differs must fail
    expect(r.boots[1]!.assertions.find((a) => a.kind === 'differs')).toMatchObject({ ok: false, chapterLine: 15 });
  }, 30000);

  it('creates the disk fresh, attaches it to every boot and records one boots entry per boot: section', async () => {
    const root = scratch('[kernel] up\n[kernel] init exited with 0\n', 0);
    mkdirSync(join(root, 'build/disks'), { recursive: true });
    writeFileSync(join(root, 'build/disks/run-t.img'), 'left over from an earlier run');
    const second = { manifest: 'manifests/system-t.cue', exit: 0, steps: [spec.steps[1]!], forbid: [], line: 16 };
    const r = await runSmoke({ ...spec, disk: { bytes: 1 << 20, text: '1M' }, boots: [second] }, { root, tangled: [], accel: 'tcg', git });
    expect(r.ok, JSON.stringify(allAssertions(r).filter((a) => !a.ok))).toBe(true);
    expect(r.boots.map((b) => b.manifest)).toEqual(['manifests/system-t.cue', 'manifests/system-t.cue']);
    expect(r.boots[1]!.assertions.map((a) => a.text)).toEqual(['(boot 2) > [kernel] init exited with 0', '(boot 2) exit: 0', '(boot 2) timeout: 20']);
    expect(r.diskBytes).toBe(1 << 20);
    // a fresh sparse image of the requested size replaced the old file
    const disk = readFileSync(join(root, 'build/disks/run-t.img'));
    expect(disk.length).toBe(1 << 20);
    expect(disk.every((b) => b === 0)).toBe(true);
  }, 60000);
});
