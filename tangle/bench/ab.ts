// A/B runs for kernel work (chapter A.1, "Making it faster"): two capOS builds, each a kernel and its images, booted
// alternately (A, B, A, B, …) so that both see the same machine load, with the medians of every figure and of the
// per-round ratios. `npm run bench -- snapshot DIR` copies the current build to DIR; `npm run bench -- ab DIR_A DIR_B
// [DIR_C …] [--runs N] [--quick]` compares snapshots (or `build` for the current build), each with the one before it.
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

export interface AbResult {
  labels: string[];
  runs: Figures[][];
  errors: string[];
  loadAvg: number;
}

/**
 * Boots every build once per round, rotating which goes first, so that all see the same machine load. `quick` skips
 * the two compute boots (they take most of a round) for work that only touches the kernel's round trips.
 */
export async function runAb(
  root: string,
  builds: { label: string; build: CaposBuild }[],
  accel: Accelerator,
  runs: number,
  log: (l: string) => void,
  quick = false,
): Promise<AbResult> {
  const res: AbResult = { labels: builds.map((b) => b.label), runs: builds.map(() => []), errors: [], loadAvg: loadavg()[0]! };
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < builds.length; j++) {
      const i = (r + j) % builds.length;
      // Means over all windows: builds from before the windowed benches printed only those.
      res.runs[i]!.push((await caposRun(root, accel, res.errors, builds[i]!.build, quick, true)).figures);
    }
    log(`  ab: round ${r + 1} of ${runs} done`);
  }
  return res;
}

export function formatAb(r: AbResult): string[] {
  const med = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  const cell = (v: number | undefined, unit: string) =>
    v === undefined ? 'n/a' : unit === 'ns' ? fmtUs(v / 1000) : unit === 'us' ? fmtUs(v) : `${v.toFixed(0)} ms`;
  const rows = FIGURE_ROWS.filter((x) => x.key !== 'ipc-socket').map((row) => {
    const k: Key = row.key;
    const cells = [`${row.capos} (${row.what})`];
    r.runs.forEach((runs, i) => {
      cells.push(cell(med(runs.map((f) => f[k])), row.unit));
      if (i === 0) return;
      // this build ÷ the previous one, per round, then the median
      const prev = r.runs[i - 1]!;
      const ratio = med(runs.map((f, n) => (f[k] !== undefined && prev[n]?.[k] ? f[k]! / prev[n]![k]! : undefined)));
      cells.push(ratio !== undefined ? fmtRatio(ratio) : 'n/a');
    });
    return cells;
  });
  const header = ['figure', ...r.labels.flatMap((l, i) => (i === 0 ? [l] : [l, `÷ ${r.labels[i - 1]}`]))];
  return [
    `A/B: ${r.labels.join(', ')}; ${r.runs[0]?.length ?? 0} rounds, each booting every build in rotated order; round trips are ` +
      `each boot's mean over all its windows; medians ` +
      `(ratios: medians of the per-round ratios to the previous build); load average ${r.loadAvg.toFixed(1)} at the start`,
    ...table(header, rows).map((l) => `  ${l}`),
  ];
}
