// A tiny sequencer for the top-level commands (`npm start`, `npm test`): named stages, each a subprocess with its
// output passed through, timed, and a closing summary. A failed stage fails the command; later stages still run
// unless they need the failed one.
import { execa } from 'execa';
import { fmtMs } from '../build/step.js';

export interface Stage {
  name: string;
  cmd: string;
  args: string[];
  /** names of stages that must have passed for this one to run */
  needs?: string[];
  env?: Record<string, string>;
}

export interface StageResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  why?: string;
}

export async function runStages(root: string, title: string, stages: Stage[]): Promise<StageResult[]> {
  const results: StageResult[] = [];
  for (const s of stages) {
    const blocked = (s.needs ?? []).filter((n) => results.find((r) => r.name === n)?.status !== 'passed');
    if (blocked.length > 0) {
      console.log(`\n== ${title}: ${s.name}: skipped (needs ${blocked.join(', ')})`);
      results.push({ name: s.name, status: 'skipped', ms: 0, why: `needs ${blocked.join(', ')}` });
      continue;
    }
    console.log(`\n== ${title}: ${s.name}: ${[s.cmd, ...s.args].join(' ')}`);
    const t0 = performance.now();
    const r = await execa(s.cmd, s.args, { cwd: root, stdio: 'inherit', reject: false, ...(s.env ? { env: s.env } : {}) });
    const ms = performance.now() - t0;
    const ok = r.exitCode === 0;
    console.log(`== ${title}: ${s.name}: ${ok ? 'passed' : `FAILED (exit ${r.exitCode ?? r.signal})`} in ${fmtMs(ms)}`);
    results.push({ name: s.name, status: ok ? 'passed' : 'failed', ms, ...(ok ? {} : { why: `exit ${r.exitCode ?? r.signal}` }) });
  }
  return results;
}

export function printSummary(title: string, results: StageResult[]): void {
  const w = Math.max(...results.map((r) => r.name.length));
  console.log(`\n${title} summary:`);
  for (const r of results) console.log(`  ${r.name.padEnd(w)}  ${r.status.padEnd(7)}  ${r.status === 'skipped' ? r.why : fmtMs(r.ms)}`);
}
