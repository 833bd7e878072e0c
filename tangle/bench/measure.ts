// Small helpers the comparison benchmarks share: run a Linux program and time it, boot an image and timestamp each
// serial line as it arrives, medians, and number formatting for the printed tables.
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { boot, type Accelerator, type BootImage, type BootOutcome } from '../smoke/qemu.js';
import { median } from './figures.js';

export { median };

export interface ProcessRun {
  stdout: string[];
  exitCode: number | null;
  wallMs: number;
  stderr: string;
}

/** Runs one program to completion (no shell), with a hard timeout; output split into lines. */
export async function runProgram(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<ProcessRun> {
  const t0 = performance.now();
  const r = await execa(cmd, args, { cwd, reject: false, timeout: timeoutMs, stdin: 'ignore', encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.failed && r.exitCode === undefined && !r.timedOut && r.signal === undefined) {
    throw new Error(`could not start ${cmd}: ${r.shortMessage ?? r.message}`);
  }
  const out = typeof r.stdout === 'string' ? r.stdout : '';
  return { stdout: out.split('\n').filter((l) => l !== ''), exitCode: r.exitCode ?? null, wallMs, stderr: typeof r.stderr === 'string' ? r.stderr : '' };
}

/**
 * CPU time (ns) the process has used so far, all its threads together, from /proc/<pid>/task/<tid>/schedstat (first
 * field: time on a CPU). On a shared machine the wall clock also counts time spent waiting for a core; CPU time does
 * not. null when the process is gone or /proc is unavailable.
 */
export function cpuNs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let sum = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return sum;
  } catch {
    return null;
  }
}

/** The pid of our child process running `comm` (as /proc/<pid>/stat names it), or undefined. */
export function childPid(comm: string): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid && name === comm) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** A line of output with the host wall time (ms since start) and the process's CPU time (ns) when it arrived. */
export interface TimedLine {
  ms: number;
  line: string;
  cpuNs?: number;
}

/** Runs a program, timestamping each stdout line as it arrives (wall and CPU), with a hard timeout. */
export async function runTimed(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs = 300_000,
): Promise<{ lines: TimedLine[]; exitCode: number | null; wallMs: number; stderr: string }> {
  const t0 = performance.now();
  const child = execa(cmd, args, { cwd, reject: false, timeout: timeoutMs, stdin: 'ignore', buffer: { stdout: false, stderr: true }, encoding: 'utf8' });
  const lines: TimedLine[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const ms = performance.now() - t0;
    const cpu = cpuNs(child.pid);
    pending += chunk.toString('utf8');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      lines.push({ ms, line: pending.slice(0, nl), ...(cpu !== null ? { cpuNs: cpu } : {}) });
      pending = pending.slice(nl + 1);
    }
  });
  const r = await child;
  if (pending) lines.push({ ms: performance.now() - t0, line: pending });
  if (r.failed && r.exitCode === undefined && !r.timedOut && r.signal === undefined) {
    throw new Error(`could not start ${cmd}: ${r.shortMessage ?? r.message}`);
  }
  return { lines, exitCode: r.exitCode ?? null, wallMs: performance.now() - t0, stderr: typeof r.stderr === 'string' ? r.stderr : '' };
}

/** Boots an image and records, for every serial line, the host time (ms since the boot started) it arrived and QEMU's CPU time then. */
export async function bootTimed(image: BootImage, accel: Accelerator, cwd: string, timeoutMs: number): Promise<{ outcome: BootOutcome; lines: TimedLine[] }> {
  const lines: TimedLine[] = [];
  let pending = '';
  let pid: number | undefined;
  const t0 = performance.now();
  const outcome = await boot(image, {
    accel,
    timeoutMs,
    cwd,
    onOutput(chunk) {
      const ms = performance.now() - t0;
      pid ??= childPid('qemu-system-x86');
      const cpu = cpuNs(pid);
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        lines.push({ ms, line: pending.slice(0, nl).replace(/\r$/, ''), ...(cpu !== null ? { cpuNs: cpu } : {}) });
        pending = pending.slice(nl + 1);
      }
    },
  });
  return { outcome, lines };
}

/** `[kernel] boot to init: N us` from a transcript, or null. */
export function bootToInitUs(transcript: string[]): number | null {
  for (const l of transcript) {
    const m = /^\[kernel\] boot to init: (\d+) us$/.exec(l);
    if (m) return Number(m[1]);
  }
  return null;
}

/** The kernel's TSC calibration, from `[kernel] memory: N MiB, tsc M MHz`, or null. */
export function tscMHz(transcript: string[]): number | null {
  for (const l of transcript) {
    const m = /^\[kernel\] .*\btsc (\d+) MHz$/.exec(l);
    if (m) return Number(m[1]);
  }
  return null;
}

/**
 * The kernel converts TSC ticks to ns with a frequency it calibrates once per boot over a 5 ms PIT window. Under TCG
 * on a loaded host that window sometimes counts too many ticks (seen: 2608 MHz in quiet boots, up to 5887 MHz in
 * busy ones), so that boot's Timer runs slow. A calibration error only ever overestimates, so the lowest value seen
 * in a run is the best estimate of the true rate, and a figure the guest timed is rescaled by calibrated / lowest.
 */
export function timerScale(calibratedMHz: number | null, referenceMHz: number | null): number {
  return calibratedMHz && referenceMHz ? calibratedMHz / referenceMHz : 1;
}

export function fmtUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(1)} ms`;
  return `${us.toFixed(us < 10 ? 2 : 1)} µs`;
}

export function fmtRate(perSecond: number): string {
  return perSecond >= 10_000 ? `${Math.round(perSecond / 1000).toLocaleString('en-US')}k/s` : `${Math.round(perSecond)}/s`;
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×` : 'n/a';
}

/** Lays out rows as columns: first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}
