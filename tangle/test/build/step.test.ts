// The incremental rule: a step runs when its inputs or extra strings change or a recorded output is gone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { FileDigests, hashInputs } from '../../build/stamp.js';
import { runStep, type BuildStep } from '../../build/step.js';

function copyStep(root: string, extra: string[], counter: { n: number }): BuildStep {
  return {
    name: 'copy',
    extra,
    inputs: async () => ['in.txt'],
    async run() {
      counter.n++;
      writeFileSync(join(root, 'out.txt'), 'copied');
      return ['out.txt'];
    },
  };
}

describe('runStep', () => {
  it('skips unchanged inputs and reruns on input, flag or output changes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'capos-step-test-'));
    const c = { n: 0 };
    const log: string[] = [];
    writeFileSync(join(root, 'in.txt'), 'a');
    expect((await runStep(root, copyStep(root, ['-O'], c), (l) => log.push(l))).status).toBe('built');
    expect((await runStep(root, copyStep(root, ['-O'], c), (l) => log.push(l))).status).toBe('up to date');
    writeFileSync(join(root, 'in.txt'), 'b');
    expect((await runStep(root, copyStep(root, ['-O'], c), (l) => log.push(l))).status).toBe('built');
    expect((await runStep(root, copyStep(root, ['-O2'], c), (l) => log.push(l))).status).toBe('built');
    rmSync(join(root, 'out.txt'));
    expect((await runStep(root, copyStep(root, ['-O2'], c), (l) => log.push(l))).status).toBe('built');
    expect((await runStep(root, copyStep(root, ['-O2'], c), (l) => log.push(l))).status).toBe('up to date');
    expect(c.n).toBe(4);
    expect(log.filter((l) => l.includes('up to date'))).toHaveLength(2);
  });
});

describe('FileDigests', () => {
  it('hashes a file once while it is unchanged, and again when it is rewritten, even at the same size', async () => {
    const root = mkdtempSync(join(tmpdir(), 'capos-digest-test-'));
    try {
      const file = join(root, 'binary');
      const digests = new FileDigests();
      writeFileSync(file, 'abc');
      const first = await digests.of(file);
      expect(first).toEqual(createHash('sha256').update('abc').digest());
      expect(await digests.of(file)).toBe(first); // the same Buffer: not read again
      writeFileSync(file, 'abd');
      expect(await digests.of(file)).toEqual(createHash('sha256').update('abd').digest());
      expect(await digests.of(join(root, 'missing'))).toBeUndefined();
      // one run's shared digests give the hash a fresh one gives
      expect(await hashInputs(root, ['binary', 'missing'], ['x'], digests)).toBe(await hashInputs(root, ['binary', 'missing'], ['x']));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
