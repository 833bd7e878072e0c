// A/B runs for kernel work (chapter A.1, "Making it faster"): two capOS builds, each a kernel and its images, booted
// alternately (A, B, A, B, …) so that both see the same machine load, with the medians of every figure and of the
// per-round B ÷ A ratios. `npm run bench -- snapshot DIR` copies the current build to DIR; `npm run bench -- ab DIR_A
// DIR_B [--runs N]` compares two snapshots (or `build` for the current build).
import { cp, mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { Accelerator } from '../smoke/qemu.js';
import { caposRun, FIGURE_ROWS, type CaposBuild, type Figures, type Key } from './guest.js';
import { fmtRatio, fmtUs, median, table } from './measure.js';

export function snapshotBuild(dir: string): CaposBuild {
  return dir === 'build' ? { kernel: 'build/capos/kernel', images: 'build/images' } : { kernel: `${dir}/kernel`, images: `${dir}/images` };
}

/** Copies build/capos/kernel and build/images to `dir` (absolute or relative to the root). */
export async function snapshot(root: string, dir: string): Promise<void> {
  const to = resolve(root, dir);
  await mkdir(to, { recursive: true });
  await cp(join(root, 'build/capos/kernel'), join(to, 'kernel'));
  await cp(join(root, 'build/images'), join(to, 'images'), { recursive: true });
}

export interface AbResult { a: Figures[]; b: Figures[]; errors: string[]; loadAvg: number }

export async function runAb(root: string, a: CaposBuild, b: CaposBuild, accel: Accelerator, runs: number, log: (l: string) => void): Promise<AbResult> {
  const res: AbResult = { a: [], b: [], errors: [], loadAvg: loadavg()[0]! };
  for (let r = 0; r < runs; r++) {
    // Alternate which goes first, so neither always runs right after the other's compute boots.
    for (const which of r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      res[which].push((await caposRun(root, accel, res.errors, which === 'a' ? a : b)).figures);
    }
    log(`  ab: round ${r + 1} of ${runs} done`);
  }
  return res;
}

export function formatAb(r: AbResult, labels: [string, string]): string[] {
  const med = (xs: (number | undefined)[]) => { const v = xs.filter((x): x is number => x !== undefined); return v.length ? median(v) : undefined; };
  const cell = (v: number | undefined, unit: string) => (v === undefined ? 'n/a' : unit === 'ns' ? fmtUs(v / 1000) : unit === 'us' ? fmtUs(v) : `${v.toFixed(0)} ms`);
  const rows = FIGURE_ROWS.filter((x) => x.key !== 'ipc-socket').map((row) => {
    const k: Key = row.key;
    const ratio = med(r.a.map((fa, i) => (fa[k] && r.b[i]?.[k] !== undefined ? r.b[i]![k]! / fa[k]! : undefined)));
    return [`${row.capos} (${row.what})`, cell(med(r.a.map((f) => f[k])), row.unit), cell(med(r.b.map((f) => f[k])), row.unit),
      ratio !== undefined ? fmtRatio(ratio) : 'n/a'];
  });
  return [`A/B: A = ${labels[0]}, B = ${labels[1]}; ${r.a.length} rounds, alternating; medians; load average ${r.loadAvg.toFixed(1)} at the start`,
    ...table(['figure', 'A', 'B', 'B ÷ A (median of rounds)'], rows).map((l) => `  ${l}`)];
}
