// A build step: a name, the inputs that decide whether it must run, and what it does. The runner skips a step whose
// input hash matches its stamp and whose recorded outputs all exist, and prints every step with its timing.
import { join } from 'node:path';
import { exists, FileDigests, hashInputs, readStamp, writeStamp } from './stamp.js';

export interface BuildStep {
  name: string;
  /** repo-relative files whose contents decide the stamp */
  inputs(): Promise<string[]>;
  /** other things that decide the stamp: command lines, tool versions, flags */
  extra: string[];
  /** does the work and returns the repo-relative outputs it produced */
  run(): Promise<string[]>;
}

export interface StepReport {
  name: string;
  status: 'built' | 'up to date';
  ms: number;
  outputs: string[];
}

export type Log = (line: string) => void;

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `digests` is shared by the steps of one run (tangle/build/plan.ts); a step run alone gets its own. */
export async function runStep(root: string, step: BuildStep, log: Log, force = false, digests = new FileDigests()): Promise<StepReport> {
  const t0 = performance.now();
  const hash = await hashInputs(root, await step.inputs(), step.extra, digests);
  const old = await readStamp(root, step.name);
  if (!force && old && old.hash === hash) {
    const present = await Promise.all(old.outputs.map((o) => exists(join(root, o))));
    if (present.every(Boolean)) {
      const ms = performance.now() - t0;
      log(`  ${step.name}: up to date (${fmtMs(ms)})`);
      return { name: step.name, status: 'up to date', ms, outputs: old.outputs };
    }
  }
  log(`  ${step.name}: building …`);
  const outputs = await step.run();
  // stamp with the inputs as they are after the run: tools may create inputs (cargo writes a missing Cargo.lock)
  const after = await hashInputs(root, await step.inputs(), step.extra, digests);
  await writeStamp(root, step.name, { hash: after, outputs, at: new Date().toISOString() });
  const ms = performance.now() - t0;
  log(`  ${step.name}: built in ${fmtMs(ms)}${outputs.length ? ` → ${outputs.join(', ')}` : ''}`);
  return { name: step.name, status: 'built', ms, outputs };
}
