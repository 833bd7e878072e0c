// The comparisons of chapter A.4, run by `npm run bench` after its generic figures (or alone with
// `npm run bench -- compare`): the WASI compute benchmark on five runners, the kernel round trips against Linux
// under qemu-x86_64, and both against a Linux guest in the same emulator (issue 23). Prints the tables and writes
// every figure to results/bench/latest.json.
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { buildAll } from '../build/plan.js';
import { imagePath, imageStem } from '../build/images.js';
import { writeAtomic } from '../build/stamp.js';
import { chooseAccelerator } from '../smoke/accel.js';
import { gitState } from '../smoke/git.js';
import { KERNEL } from '../smoke/runner.js';
import { benchGuest, formatGuest, guestRows, guestTables } from './guest.js';
import { makeReport, writeReport } from './report.js';
import { benchIpc, formatIpc } from './ipc-linux.js';
import { buildNative } from './native.js';
import { benchManifest, benchWasm, formatWasm, lowestTscMHz, PROGRAMS } from './wasm.js';

export const LATEST = 'results/bench/latest.json';

/** The wasm bench manifests belong to this comparison, not to the generic `bench <metric>` collector. */
export function isComparisonManifest(manifest: string): boolean {
  return PROGRAMS.some((p) => [false, true].some((unmetered) => imageStem(benchManifest(p, unmetered)) === imageStem(manifest)));
}

export interface CompareOptions {
  build?: boolean;
  runs?: number;
  log?: (l: string) => void;
}

/** Only the Linux-guest comparison (`npm run bench -- guest`), without the qemu-user column; returns the failures. */
export async function runGuestComparison(root: string, opts: CompareOptions = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(l));
  if (opts.build) await buildAll(root, {});
  await buildNative(root);
  const accel = await chooseAccelerator({ kernel: KERNEL, initrd: imagePath(benchManifest('c')) }, root);
  const load = loadavg()[0]!;
  const guest = await benchGuest(root, accel.accel, Math.max(opts.runs ?? 5, 5), log);
  log('');
  for (const l of formatGuest(guest, undefined, undefined, accel.accel, load)) log(l);
  for (const e of guest.errors) log(`\nERROR: ${e}`);
  log(`  → ${await writeReport(root, await makeReport(root, 'linux-guest', accel.accel, guestTables(guest), guest.errors, load))}`);
  return guest.errors.length;
}

/** Returns the number of failures (0 = every figure measured and every checksum agreed). */
export async function runComparisons(root: string, opts: CompareOptions = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const runs = opts.runs ?? 3;
  const t0 = performance.now();
  if (opts.build) await buildAll(root, {});
  await buildNative(root);
  const accel = await chooseAccelerator({ kernel: KERNEL, initrd: imagePath(benchManifest('c')) }, root);
  log(`\ncomparisons (chapter A.4): accelerator ${accel.accel} (${accel.reason}); ${runs} runs each`);
  const load = loadavg()[0]!;
  const wasm = await benchWasm(root, accel.accel, runs, log);
  // Boots of the round-trip systems take about a second each, so they get more runs than the wasm programs.
  const ipc = await benchIpc(root, accel.accel, Math.max(runs, 5), log, lowestTscMHz(wasm));
  // Issue 23: the same figures from a Linux guest in the same emulator (medians of at least five boots).
  const guest = await benchGuest(root, accel.accel, Math.max(runs, 5), log);
  log('');
  for (const l of formatWasm(wasm, accel.accel, ipc.referenceMHz)) log(l);
  log('');
  for (const l of formatIpc(ipc, accel.accel)) log(l);
  log('');
  for (const l of formatGuest(guest, ipc, wasm, accel.accel, load)) log(l);
  const errors = [...wasm.errors, ...ipc.errors, ...guest.errors];
  for (const e of errors) log(`\nERROR: ${e}`);
  const git = await gitState(root);
  await writeAtomic(
    join(root, LATEST),
    `${JSON.stringify(
      {
        schemaVersion: 1,
        at: new Date().toISOString(),
        commit: git.commit,
        dirty: git.dirty,
        accelerator: accel.accel,
        acceleratorReason: accel.reason,
        machine: { cpus: cpus().length, loadAvg1mAtStart: Number(load.toFixed(2)) },
        runsEach: runs,
        wasm: {
          unit: 'us',
          clock: 'guest clock_time_get(MONOTONIC); capOS: kernel Timer (TSC); serialUs: host time between serial lines',
          rows: wasm.rows,
          checksums: wasm.checksums,
        },
        kernel: {
          unit: 'ns per round trip (best of runs; …MedianNs: medians)',
          runs: ipc.runs,
          pairs: ipc.pairs,
          bootToInitUs: ipc.bootToInitUs,
          bootToInitRawUs: ipc.bootToInitRawUs,
          tscMHz: ipc.tscMHz,
          referenceMHz: ipc.referenceMHz,
          firstLineMs: ipc.firstLineMs,
          initLineMs: ipc.initLineMs,
        },
        linuxGuest: {
          kernel: guest.image?.kernelPackage ?? null,
          busybox: guest.image?.busyboxPackage ?? null,
          unit: 'us (medians)',
          rows: guestRows(guest, ipc, wasm),
          runs: guest.runs,
        },
        errors,
        totalMs: Math.round(performance.now() - t0),
      },
      null,
      2,
    )}\n`,
  );
  log(`  → ${LATEST} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  log(`  → ${await writeReport(root, await makeReport(root, 'linux-guest', accel.accel, guestTables(guest, ipc, wasm), guest.errors, load))}`);
  return errors.length;
}
