// End to end without the real kernel: a scratch repo whose build/capos/kernel is the tiny PVH guest, booted in real
// QEMU (TCG) by runSmoke, checked, written as results/smoke/<name>.json and read back through the validator.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SmokeSpec } from '../../parse/model.js';
import { runSmoke, writeResult } from '../../smoke/runner.js';
import { validateSmokeResult } from '../../smoke/result.js';
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
  name: 'run-t', manifest: 'manifests/system-t.cue', timeout: 20, exit: 0, chapter: 'chapters/90-a1-kernel.md', line: 10,
  source: '> [kernel] up\n> [kernel] init exited with 0\n!~ panic\n',
  steps: [{ kind: 'line', matcher: { kind: 'exact', text: '[kernel] up', line: 12 } },
    { kind: 'line', matcher: { kind: 'exact', text: '[kernel] init exited with 0', line: 13 } }],
  forbid: [{ kind: 'regex', text: 'panic', line: 14 }],
};
const git = { commit: 'abcd1234', dirty: true };

describe('runSmoke', () => {
  it('boots, checks, and writes a result that validates', async () => {
    const root = scratch('[kernel] up\n[kernel] init exited with 0\n', 0);
    const r = await runSmoke(spec, { root, tangled: [], accel: 'tcg', git });
    expect(r.ok).toBe(true);
    expect(r).toMatchObject({ exitStatus: 0, qemuStatus: 1, timedOut: false, accelerator: 'tcg', commit: 'abcd1234', dirty: true });
    expect(r.transcript).toEqual(['[kernel] up', '[kernel] init exited with 0']);
    expect(r.inputs.image).toMatch(/^[0-9a-f]{64}$/);
    const file = await writeResult(root, r);
    expect(file).toBe('results/smoke/run-t.json');
    expect(validateSmokeResult(JSON.parse(readFileSync(join(root, file), 'utf8')), file)).toEqual(r);
  }, 30000);

  it('fails with chapter lines when the guest panics with status 127', async () => {
    const root = scratch('[kernel] up\n[kernel] panic: oops\n', 127);
    const r = await runSmoke(spec, { root, tangled: [], accel: 'tcg', git });
    expect(r.ok).toBe(false);
    expect(r.exitStatus).toBe(127);
    expect(r.assertions.filter((a) => !a.ok).map((a) => [a.kind, a.chapterLine])).toEqual([['line', 13], ['forbid', 14], ['exit', 10]]);
  }, 30000);

  it('boots twice for differs and records the second transcript', async () => {
    const root = scratch('[kernel] seed 1\n', 0);
    const r = await runSmoke({ ...spec, steps: [], forbid: [], differs: { kind: 'regex', text: 'seed (\\d+)', line: 15 } },
      { root, tangled: [], accel: 'tcg', git });
    expect(r.transcript2).toEqual(['[kernel] seed 1']);
    // the fixture prints the same seed both times, so differs must fail
    expect(r.assertions.find((a) => a.kind === 'differs')).toMatchObject({ ok: false, chapterLine: 15 });
  }, 30000);
});
