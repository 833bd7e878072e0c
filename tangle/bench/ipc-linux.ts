// Issues 4 and 8: capOS kernel round trips (NOP, an empty Console.write CALL, Endpoint IPC) and boot-to-init, next to
// a Linux program doing the comparable syscalls and a pipe ping-pong, run under qemu-x86_64 (the same TCG for the
// user side) in the same run, both pinned to one CPU. Native Linux figures are printed for scale only.
import { imagePath } from '../build/images.js';
import type { Accelerator } from '../smoke/qemu.js';
import { KERNEL } from '../smoke/runner.js';
import { parseFigures } from './figures.js';
import { bootTimed, bootToInitUs, fmtRate, fmtRatio, fmtUs, median, runProgram, table, timerScale, tscMHz } from './measure.js';
import { NATIVE } from './native.js';

export const CAPOS_CALL_MANIFEST = 'manifests/system-bench-capos.cue';
export const CAPOS_IPC_MANIFEST = 'manifests/system-capos-ipc-bench.cue';
const LINUX_SYSCALLS = 200_000;
const LINUX_ROUND_TRIPS = 5000; // as many as the capOS endpoint bench makes

/**
 * Best (lowest) time per op over all runs: on a shared machine a run can only be slowed by interference, never sped up,
 * so the fastest run is the least disturbed one. The medians are kept too (…MedianNs).
 */
export interface Pair {
  what: string;
  capos: string;
  linux: string;
  caposNs?: number;
  caposRawNs?: number;
  linuxQemuNs?: number;
  linuxNativeNs?: number;
  caposMedianNs?: number;
  linuxQemuMedianNs?: number;
  linuxNativeMedianNs?: number;
}
/** capOS figures are rescaled per boot by timerScale (raw values kept in caposRawNs / bootToInitRawUs). */
export interface IpcBench {
  runs: number;
  pairs: Pair[];
  bootToInitUs: number[];
  bootToInitRawUs: number[];
  tscMHz: number[];
  referenceMHz: number | null;
  errors: string[];
  /** host wall time (ms) from starting QEMU to the first serial line, and to init's first line, per boot */
  firstLineMs: number[];
  initLineMs: number[];
}

export const ENDPOINT = /^\[bench-client\] endpoint round trips: (\d+) in (\d+) us, (\d+) per second$/;

/** Nanoseconds per Endpoint round trip: the client's fastest window, else its summary line (one value per boot). */
export function endpointNs(t: string[]): number[] {
  const best = nsFigures(t, 'endpoint-roundtrip');
  return best.length ? best : endpointSummaryNs(t);
}

/** Nanoseconds per Endpoint round trip over the whole run, from the client's summary line. */
export function endpointSummaryNs(t: string[]): number[] {
  return t.flatMap((l) => {
    const m = ENDPOINT.exec(l);
    return m ? [(Number(m[2]) * 1000) / Number(m[1])] : [];
  });
}

/** Nanoseconds per operation from `bench <metric>-time N ns` lines (one value per run). */
export function nsFigures(lines: string[], metric: string): number[] {
  return parseFigures(lines.map((l) => (l.startsWith('[') ? l : `[linux] ${l}`)))
    .filter((f) => f.metric === `${metric}-time` && f.unit === 'ns')
    .map((f) => f.value);
}

async function linux(root: string, underQemu: boolean, runs: number, errors: string[]): Promise<string[]> {
  const lines: string[] = [];
  const prog = [NATIVE.ipc, String(LINUX_SYSCALLS), String(LINUX_ROUND_TRIPS)];
  const args = ['-c', '0', ...(underQemu ? ['qemu-x86_64', ...prog] : prog)];
  for (let r = 0; r < runs; r++) {
    const out = await runProgram('taskset', args, root);
    if (out.exitCode !== 0) {
      errors.push(`linux-ipc-bench${underQemu ? ' under qemu-x86_64' : ''} failed (exit ${out.exitCode}): ${out.stderr.slice(-300)}`);
      break;
    }
    lines.push(...out.stdout);
  }
  return lines;
}

interface CaposBoot {
  mhz: number | null;
  transcript: string[];
  firstLineMs?: number;
  initLineMs?: number;
}

export async function benchIpc(root: string, accel: Accelerator, runs: number, log: (l: string) => void, otherMHz: number | null = null): Promise<IpcBench> {
  const errors: string[] = [];
  const boots: CaposBoot[] = [];
  for (const manifest of [CAPOS_CALL_MANIFEST, CAPOS_IPC_MANIFEST]) {
    for (let r = 0; r < runs; r++) {
      const { outcome, lines } = await bootTimed({ kernel: KERNEL, initrd: imagePath(manifest) }, accel, root, 120_000);
      if (outcome.timedOut || outcome.exitStatus !== 0) {
        errors.push(`${manifest}: boot ${r + 1} failed (${outcome.timedOut ? 'timeout' : `exit ${outcome.exitStatus}`})`);
        break;
      }
      const first = lines[0]?.ms,
        init = lines.find((l) => l.line.startsWith('[init] '))?.ms;
      boots.push({
        mhz: tscMHz(outcome.transcript),
        transcript: outcome.transcript,
        ...(first !== undefined ? { firstLineMs: first } : {}),
        ...(init !== undefined ? { initLineMs: init } : {}),
      });
    }
  }
  const seen = boots.flatMap((b) => (b.mhz !== null ? [b.mhz] : []));
  const referenceMHz = seen.length || otherMHz !== null ? Math.min(...seen, ...(otherMHz !== null ? [otherMHz] : [])) : null;
  // Per boot: raw figures as the guest printed them, and rescaled to the reference TSC rate.
  const caposNs = (pick: (t: string[]) => number[]) => ({
    raw: boots.flatMap((b) => pick(b.transcript)),
    scaled: boots.flatMap((b) => pick(b.transcript).map((v) => v * timerScale(b.mhz, referenceMHz))),
  });
  const bootRaw = boots.flatMap((b) => {
    const v = bootToInitUs(b.transcript);
    return v === null ? [] : [v];
  });
  const bootScaled = boots.flatMap((b) => {
    const v = bootToInitUs(b.transcript);
    return v === null ? [] : [v * timerScale(b.mhz, referenceMHz)];
  });

  log(`  ipc: ${boots.length} capOS boots done; running linux-ipc-bench under qemu-x86_64 and natively`);
  const qemuLines = await linux(root, true, runs, errors);
  const nativeLines = await linux(root, false, runs, errors);
  const best = (xs: number[]) => (xs.length ? Math.min(...xs) : undefined);
  const med = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const pair = (what: string, capos: string, c: { raw: number[]; scaled: number[] }, linuxName: string, metric: string): Pair => {
    const p: Pair = { what, capos, linux: linuxName };
    const qs = nsFigures(qemuLines, metric),
      ns = nsFigures(nativeLines, metric);
    const v = best(c.scaled),
      raw = best(c.raw),
      q = best(qs),
      n = best(ns);
    if (v !== undefined) p.caposNs = v;
    if (raw !== undefined) p.caposRawNs = raw;
    if (q !== undefined) p.linuxQemuNs = q;
    if (n !== undefined) p.linuxNativeNs = n;
    const [cm, qm, nm] = [med(c.scaled), med(qs), med(ns)];
    if (cm !== undefined) p.caposMedianNs = cm;
    if (qm !== undefined) p.linuxQemuMedianNs = qm;
    if (nm !== undefined) p.linuxNativeMedianNs = nm;
    return p;
  };
  const pairs = [
    pair(
      'kernel entry, no work',
      'NOP',
      caposNs((t) => nsFigures(t, 'nop-call')),
      'getppid()',
      'getppid-syscall',
    ),
    pair(
      'call on a kernel object',
      'Console.write(empty)',
      caposNs((t) => nsFigures(t, 'console-write-empty-call')),
      'write(/dev/null, 0)',
      'write-empty-syscall',
    ),
    pair('IPC round trip', 'Endpoint CALL/RETURN', caposNs(endpointNs), 'pipe ping-pong', 'pipe-roundtrip'),
    pair('IPC round trip, socket', 'Endpoint CALL/RETURN', caposNs(endpointNs), 'Unix socket round trip', 'unix-roundtrip'),
  ];
  for (const p of pairs) if (p.caposNs === undefined || p.linuxQemuNs === undefined) errors.push(`no figure for ${p.what}`);
  return {
    runs,
    pairs,
    bootToInitUs: bootScaled,
    bootToInitRawUs: bootRaw,
    tscMHz: seen,
    referenceMHz,
    errors,
    firstLineMs: boots.flatMap((b) => (b.firstLineMs !== undefined ? [b.firstLineMs] : [])),
    initLineMs: boots.flatMap((b) => (b.initLineMs !== undefined ? [b.initLineMs] : [])),
  };
}

export function formatIpc(b: IpcBench, accel: Accelerator): string[] {
  const cell = (ns?: number) => (ns === undefined ? 'n/a' : `${fmtUs(ns / 1000)} ${fmtRate(1e9 / ns)}`);
  const rows = b.pairs.map((p) => [
    p.what,
    p.capos,
    cell(p.caposNs),
    p.linux,
    cell(p.linuxQemuNs),
    p.caposNs !== undefined && p.linuxQemuNs !== undefined ? fmtRatio(p.caposNs / p.linuxQemuNs) : 'n/a',
    cell(p.linuxNativeNs),
  ]);
  const out = [`Kernel round trips (best of ${b.runs} runs per op; capOS under qemu-system ${accel}, Linux user side under qemu-x86_64, both on 1 CPU):`];
  out.push(...table(['figure', 'capOS', `capOS (${accel})`, 'Linux', 'Linux (qemu-x86_64)', 'capOS ÷ Linux', 'Linux native'], rows).map((l) => `  ${l}`));
  if (b.bootToInitUs.length) {
    out.push(
      `  boot to init (PVH entry → init, kernel TSC): median ${fmtUs(median(b.bootToInitUs))} ` +
        `(min ${fmtUs(Math.min(...b.bootToInitUs))}, max ${fmtUs(Math.max(...b.bootToInitUs))}, ${b.bootToInitUs.length} boots, ${accel}; ` +
        `as printed: median ${fmtUs(median(b.bootToInitRawUs))})`,
    );
  }
  out.push(
    `  capOS figures are Timer-timed, rescaled per boot to ${b.referenceMHz ?? '?'} MHz (lowest kernel TSC calibration seen; ` +
      `this run's calibrations: ${b.tscMHz.join(', ')} MHz). Best as printed by the guests: ` +
      b.pairs.map((p) => `${p.capos} ${p.caposRawNs !== undefined ? fmtUs(p.caposRawNs / 1000) : 'n/a'}`).join(', '),
  );
  out.push("  (qemu-x86_64 runs Linux's syscalls natively on the host kernel, so the ratio is an upper bound for capOS; see chapter A.4)");
  return out;
}
