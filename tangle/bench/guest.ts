// Issue 23: the fair reference. Debian's cloud kernel booted in the same qemu-system-x86_64 command line as capOS
// (tangle/bench/linux-guest), running linux-ipc-bench (getppid, write of 0 bytes, pipe and Unix-socket round trips)
// and the wasm compute programs on the host runner (capos-wasm run). Each run boots the guest and then the four capOS
// systems that measure the same things, so every capOS figure has a guest figure taken minutes apart at most; the
// ratios are medians of the per-run ratios. The qemu-user figures of the other comparisons form a second column.
import type { Accelerator } from '../smoke/qemu.js';
import { DEFAULT_CPU } from '../smoke/qemu.js';
import { imagePath } from '../build/images.js';
import { KERNEL } from '../smoke/runner.js';
import { parseFigures } from './figures.js';
import { CAPOS_CALL_MANIFEST, CAPOS_IPC_MANIFEST, endpointNs, endpointSummaryNs, nsFigures, type IpcBench } from './ipc-linux.js';
import { bootLinuxGuest, BEGIN, prepareLinuxGuest, type LinuxGuestImage } from './linux-guest/index.js';
import { bootTimed, fmtRatio, fmtUs, median, table, timerScale, tscMHz, type TimedLine } from './measure.js';
import { NATIVE } from './native.js';
import { benchManifest, PROGRAMS, wasmFile, type Program, type WasmBench } from './wasm.js';
import type { ReportTable } from './report.js';

const SYSCALLS = 200_000;
const ROUND_TRIPS = 5000; // as many as the capOS endpoint bench makes
const HOST_RUNNER = 'build/host/capos-wasm';

/** The figures both sides report, by key: ns per op for the round trips, µs of QEMU CPU time for compute. */
export type Key = 'entry' | 'call' | 'ipc' | 'ipc-socket' | 'compute-c' | 'compute-rust' | 'first-line';
export type Figures = Partial<Record<Key, number>>;
export interface PairedRun {
  guest: Figures;
  capos: Figures;
  caposTscMHz: number[];
}
export interface GuestBench {
  image: LinuxGuestImage | null;
  runs: PairedRun[];
  errors: string[];
}

const computeKey = (p: Program): Key => (p === 'c' ? 'compute-c' : 'compute-rust');

export function guestSpec(root: string) {
  const at = (p: string) => `${root}/${p}`;
  return {
    programs: [
      { host: at(NATIVE.ipc), guestPath: '/bench/linux-ipc-bench' },
      { host: at(HOST_RUNNER), guestPath: '/bench/capos-wasm', withLibraries: true },
      ...PROGRAMS.map((p) => ({ host: at(wasmFile(p)), guestPath: `/bench/wasi-bench-${p}.wasm`, mode: 0o644 })),
    ],
    commands: [`/bench/linux-ipc-bench ${SYSCALLS} ${ROUND_TRIPS}`, ...PROGRAMS.map((p) => `/bench/capos-wasm run /bench/wasi-bench-${p}.wasm`)],
  };
}

/** µs of QEMU CPU time between a program's `start` and `compute` lines (the same interval on both sides). */
export function computeCpuUs(program: Program, lines: TimedLine[]): number | undefined {
  const start = lines.find((l) => l.line.endsWith(`wasi-bench-${program} start`));
  const end = lines.find((l) => new RegExp(`wasi-bench-${program} compute \\d+ us$`).test(l.line));
  return start?.cpuNs !== undefined && end?.cpuNs !== undefined ? (end.cpuNs - start.cpuNs) / 1000 : undefined;
}

/** One guest boot's figures: linux-ipc-bench's ns lines, each program's compute interval, the first /init line. */
export function parseGuestRun(lines: TimedLine[]): Figures {
  const ns: Record<string, number> = {};
  for (const f of parseFigures(lines.map((l) => `[linux-guest] ${l.line}`))) {
    if (f.unit === 'ns' && f.metric.endsWith('-time')) ns[f.metric.slice(0, -'-time'.length)] = f.value;
  }
  const out: Figures = {};
  const put = (k: Key, v: number | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  put('entry', ns['getppid-syscall']);
  put('call', ns['write-empty-syscall']);
  put('ipc', ns['pipe-roundtrip']);
  put('ipc-socket', ns['unix-roundtrip']);
  for (const p of PROGRAMS) put(computeKey(p), computeCpuUs(p, lines));
  put('first-line', lines.find((l) => l.line === BEGIN)?.ms);
  return out;
}

/** Where a capOS build lives: the kernel and the images directory (build/ by default; a snapshot for A/B runs). */
export interface CaposBuild {
  kernel: string;
  images: string;
}
export const CURRENT_BUILD: CaposBuild = { kernel: KERNEL, images: 'build/images' };

/** Boots one capOS system; null (and an error) when it fails. */
async function bootCapos(root: string, build: CaposBuild, manifest: string, accel: Accelerator, errors: string[]) {
  const initrd = imagePath(manifest).replace(/^build\/images\//, `${build.images}/`);
  const { outcome, lines } = await bootTimed({ kernel: build.kernel, initrd }, accel, root, 600_000);
  if (outcome.timedOut || outcome.exitStatus !== 0) {
    errors.push(`${manifest}: boot failed (${outcome.timedOut ? 'timeout' : `exit ${outcome.exitStatus}`})`);
    return null;
  }
  return { lines, transcript: outcome.transcript, mhz: tscMHz(outcome.transcript) };
}

/** The capOS figures timed on its Timer (rescaled per boot); compute and first-line are host-side measures. */
const TIMER_TIMED: Key[] = ['entry', 'call', 'ipc', 'ipc-socket'];

/** The capOS side of one run: NOP and Console CALL, Endpoint round trip, both compute programs, init's first line. */
export async function caposRun(
  root: string,
  accel: Accelerator,
  errors: string[],
  build: CaposBuild = CURRENT_BUILD,
  skipCompute = false,
  means = false,
): Promise<{ figures: Figures; mhz: number[] }> {
  const figures: Figures = {};
  const mhz: number[] = [];
  const calls = await bootCapos(root, build, CAPOS_CALL_MANIFEST, accel, errors);
  if (calls) {
    // `means`: the mean over all windows (what builds from before the windows printed as -time).
    const pick = (m: string) =>
      means && nsFigures(calls.transcript, `${m}-mean`).length ? nsFigures(calls.transcript, `${m}-mean`) : nsFigures(calls.transcript, m);
    const [nop] = pick('nop-call'),
      [call] = pick('console-write-empty-call');
    if (nop !== undefined) figures.entry = nop;
    if (call !== undefined) figures.call = call;
    const init = calls.lines.find((l) => l.line.startsWith('[init] '))?.ms;
    if (init !== undefined) figures['first-line'] = init;
    if (calls.mhz !== null) mhz.push(calls.mhz);
  }
  const ipc = await bootCapos(root, build, CAPOS_IPC_MANIFEST, accel, errors);
  const [ep] = ipc ? (means ? endpointSummaryNs(ipc.transcript) : endpointNs(ipc.transcript)) : [];
  if (ep !== undefined) {
    figures.ipc = ep;
    figures['ipc-socket'] = ep;
  }
  if (ipc && ipc.mhz !== null) mhz.push(ipc.mhz);
  for (const p of skipCompute ? [] : PROGRAMS) {
    const b = await bootCapos(root, build, benchManifest(p), accel, errors);
    const v = b ? computeCpuUs(p, b.lines) : undefined;
    if (v !== undefined) figures[computeKey(p)] = v;
  }
  return { figures, mhz };
}

export async function benchGuest(root: string, accel: Accelerator, runs: number, log: (l: string) => void): Promise<GuestBench> {
  const errors: string[] = [];
  let image: LinuxGuestImage;
  try {
    image = await prepareLinuxGuest(guestSpec(root), { log });
  } catch (e) {
    return { image: null, runs: [], errors: [`linux guest: ${e instanceof Error ? e.message : String(e)}`] };
  }
  log(`  linux guest: ${image.kernelPackage}, ${image.busyboxPackage}; ${runs} runs, each a guest boot and four capOS boots`);
  const raw: { guest: Figures; capos: { figures: Figures; mhz: number[] } }[] = [];
  for (let r = 0; r < runs; r++) {
    const b = await bootLinuxGuest({ kernel: image.kernel, initrd: image.initrd }, accel, root, 900_000);
    if (b.outcome.timedOut || b.status !== 0) {
      errors.push(
        `linux guest boot ${r + 1} failed (${b.outcome.timedOut ? 'timeout' : `status ${b.status ?? 'missing'}`}):\n` +
          b.outcome.transcript
            .slice(-8)
            .map((l) => `    ${l}`)
            .join('\n'),
      );
      break;
    }
    raw.push({ guest: parseGuestRun(b.lines), capos: await caposRun(root, accel, errors) });
    log(`  linux guest: run ${r + 1} of ${runs} done`);
  }
  // capOS's round trips are Timer-timed: rescale each run to the lowest calibration seen (see timerScale).
  const all = raw.flatMap((x) => x.capos.mhz);
  const ref = all.length ? Math.min(...all) : null;
  const paired: PairedRun[] = raw.map(({ guest, capos }) => {
    const scale = timerScale(capos.mhz.length ? Math.max(...capos.mhz) : null, ref);
    const figures: Figures = { ...capos.figures };
    for (const k of TIMER_TIMED) if (figures[k] !== undefined) figures[k] = figures[k]! * scale;
    return { guest, capos: figures, caposTscMHz: capos.mhz };
  });
  return { image, runs: paired, errors };
}

/** One row: medians of each side, the median of the per-run ratios, and the qemu-user counterpart. */
export interface GuestRow {
  key: Key;
  what: string;
  capos: string;
  linux: string;
  unit: 'ns' | 'us' | 'ms';
  caposMedian?: number;
  guestMedian?: number;
  ratioMedian?: number;
  qemuUser?: number;
  runs: number;
}

const ROWS: { key: Key; what: string; capos: string; linux: string; unit: GuestRow['unit'] }[] = [
  { key: 'entry', what: 'kernel entry, no work', capos: 'NOP', linux: 'getppid()', unit: 'ns' },
  { key: 'call', what: 'call on a kernel object', capos: 'Console.write(empty)', linux: 'write(/dev/null, 0)', unit: 'ns' },
  { key: 'ipc', what: 'IPC round trip', capos: 'Endpoint CALL/RETURN', linux: 'pipe ping-pong', unit: 'ns' },
  { key: 'ipc-socket', what: 'IPC round trip, socket', capos: 'Endpoint CALL/RETURN', linux: 'Unix socket round trip', unit: 'ns' },
  { key: 'compute-c', what: 'compute, C (QEMU CPU time)', capos: 'capOS + wasmi', linux: 'capos-wasm run', unit: 'us' },
  { key: 'compute-rust', what: 'compute, Rust (QEMU CPU time)', capos: 'capOS + wasmi', linux: 'capos-wasm run', unit: 'us' },
  { key: 'first-line', what: 'boot: QEMU start to first user line', capos: 'init', linux: '/init', unit: 'ms' },
];

const medianOf = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length ? median(v) : undefined;
};

export const FIGURE_ROWS = ROWS;

export function guestRows(g: GuestBench, ipc?: IpcBench, wasm?: WasmBench): GuestRow[] {
  const qemuUser = (key: Key): number | undefined => {
    const pair = ipc?.pairs.find((p) => ROWS.find((r) => r.key === key)?.linux === p.linux);
    if (pair) return pair.linuxQemuMedianNs;
    const prog = key === 'compute-c' ? 'c' : key === 'compute-rust' ? 'rust' : undefined;
    return prog ? wasm?.rows.find((r) => r.program === prog && r.runner === 'host-qemu-user')?.timeUs : undefined;
  };
  return ROWS.map((r) => {
    const c = medianOf(g.runs.map((x) => x.capos[r.key])),
      l = medianOf(g.runs.map((x) => x.guest[r.key]));
    const ratio = medianOf(g.runs.map((x) => (x.capos[r.key] !== undefined && x.guest[r.key] ? x.capos[r.key]! / x.guest[r.key]! : undefined)));
    const q = qemuUser(r.key);
    return {
      ...r,
      runs: g.runs.length,
      ...(c !== undefined ? { caposMedian: c } : {}),
      ...(l !== undefined ? { guestMedian: l } : {}),
      ...(ratio !== undefined ? { ratioMedian: ratio } : {}),
      ...(q !== undefined ? { qemuUser: q } : {}),
    };
  });
}

export interface Target {
  what: string;
  value?: number;
  limit: number;
  sense: 'max' | 'min';
  unit: '×' | 'ms';
}

/** The issue's targets, judged on this run's medians (ratios: medians of per-run ratios). */
export function targets(g: GuestBench): Target[] {
  const per = (f: (r: PairedRun) => number | undefined) => medianOf(g.runs.map(f));
  const div = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const out: Target[] = [
    { what: 'ring NOP ÷ guest getppid', value: per((r) => div(r.capos.entry, r.guest.entry)), limit: 2, sense: 'max', unit: '×' },
    { what: 'Endpoint CALL/RETURN ÷ ring NOP', value: per((r) => div(r.capos.ipc, r.capos.entry)), limit: 4, sense: 'max', unit: '×' },
    { what: 'Endpoint CALL/RETURN ÷ guest pipe ping-pong', value: per((r) => div(r.capos.ipc, r.guest.ipc)), limit: 0.25, sense: 'max', unit: '×' },
  ];
  for (const p of PROGRAMS) {
    const k = computeKey(p);
    out.push({
      what: `compute ${p === 'c' ? 'C' : 'Rust'}: guest time ÷ capOS time`,
      value: per((r) => div(r.guest[k], r.capos[k])),
      limit: 0.97,
      sense: 'min',
      unit: '×',
    });
  }
  out.push({ what: "boot: QEMU start to init's first line", value: per((r) => r.capos['first-line']), limit: 100, sense: 'max', unit: 'ms' });
  return out;
}

/** The comparison as the published report's tables: the figures side by side (charted per row), then the targets. */
export function guestTables(g: GuestBench, ipc?: IpcBench, wasm?: WasmBench): ReportTable[] {
  if (g.runs.length === 0) return [];
  const rows = guestRows(g, ipc, wasm);
  const v = (x: number | undefined) => (x === undefined ? null : Number(x.toPrecision(4)));
  const figures: ReportTable = {
    title: 'capOS beside a Linux guest (same qemu-system-x86_64 line)',
    how:
      `Medians of ${g.runs.length} runs, each a Linux guest boot (${g.image?.kernelPackage ?? 'Linux'}) followed by the capOS boots measuring ` +
      "the same things; ratio: median of per-run ratios; round trips on each side's own clock, capOS rescaled to the lowest TSC calibration; " +
      "compute is QEMU's CPU time between the start and compute lines on both sides.",
    columns: [
      { label: 'figure' },
      { label: 'unit' },
      { label: 'capOS' },
      { label: 'capOS median' },
      { label: 'Linux' },
      { label: 'guest median' },
      { label: 'capOS ÷ guest' },
      { label: 'qemu-x86_64 (user mode)' },
    ],
    rows: rows.map((r) => [
      r.what,
      r.unit,
      r.capos,
      v(r.caposMedian),
      r.linux,
      v(r.guestMedian),
      r.ratioMedian !== undefined ? fmtRatio(r.ratioMedian) : null,
      r.key === 'first-line' ? null : v(r.qemuUser),
    ]),
    chart: { columns: [3, 5], scale: 'row', unitColumn: 1 },
  };
  const goals: ReportTable = {
    title: 'Targets (issue 23)',
    how: "Each target judged on this run's medians; ratios are medians of the per-run ratios.",
    columns: [{ label: 'target' }, { label: 'value' }, { label: 'limit' }, { label: 'met' }],
    rows: targets(g).map((t) => [
      t.what,
      t.value === undefined ? null : t.unit === 'ms' ? `${t.value.toFixed(0)} ms` : fmtRatio(t.value),
      `${t.sense === 'max' ? '≤' : '≥'} ${t.limit}${t.unit === 'ms' ? ' ms' : '×'}`,
      t.value === undefined ? null : (t.sense === 'max' ? t.value <= t.limit : t.value >= t.limit) ? 'met' : 'not met',
    ]),
  };
  return [figures, goals];
}

function cell(v: number | undefined, unit: GuestRow['unit']): string {
  if (v === undefined) return 'n/a';
  return unit === 'ns' ? fmtUs(v / 1000) : unit === 'us' ? fmtUs(v) : `${v.toFixed(0)} ms`;
}

export function formatGuest(g: GuestBench, ipc: IpcBench | undefined, wasm: WasmBench | undefined, accel: Accelerator, loadAvg: number): string[] {
  const out = [
    `Linux guest (same emulator): ${g.image ? g.image.kernelPackage : 'not available'}; both sides booted with ` +
      `qemu-system-x86_64 -accel ${accel} -cpu ${DEFAULT_CPU} -m 512M; ${g.runs.length} runs, each a guest boot followed by the ` +
      `capOS boots measuring the same things; medians; load average ${loadAvg.toFixed(1)} on 2 cores at the start`,
  ];
  if (g.runs.length === 0) return [...out, '  (no guest figures: see errors)'];
  const rows = guestRows(g, ipc, wasm);
  out.push(
    ...table(
      ['figure', 'capOS', `capOS (${accel})`, 'Linux', `guest (${accel})`, 'capOS ÷ guest', 'qemu-x86_64', 'capOS ÷ qemu-user'],
      rows.map((r) => [
        r.what,
        r.capos,
        cell(r.caposMedian, r.unit),
        r.linux,
        cell(r.guestMedian, r.unit),
        r.ratioMedian !== undefined ? fmtRatio(r.ratioMedian) : 'n/a',
        r.key === 'first-line' ? '' : cell(r.qemuUser, r.unit),
        r.caposMedian !== undefined && r.qemuUser !== undefined && r.key !== 'first-line' ? fmtRatio(r.caposMedian / r.qemuUser) : '',
      ]),
    ).map((l) => `  ${l}`),
  );
  out.push('  targets (issue 23):');
  for (const t of targets(g)) {
    const v = t.value === undefined ? 'n/a' : t.unit === 'ms' ? `${t.value.toFixed(0)} ms` : fmtRatio(t.value);
    const met = t.value === undefined ? '' : (t.sense === 'max' ? t.value <= t.limit : t.value >= t.limit) ? 'met' : 'NOT met';
    out.push(`    ${t.what.padEnd(46)} ${v.padStart(8)}  ${(t.sense === 'max' ? '≤ ' : '≥ ') + t.limit + (t.unit === 'ms' ? ' ms' : '×')}  ${met}`);
  }
  out.push(
    "  (capOS ÷ guest is the median of per-run ratios; round trips on each side's own clock, capOS rescaled to the lowest TSC " +
      "calibration; compute is QEMU's CPU time between the start and compute lines on both sides; chapter A.4, Part 3)",
  );
  return out;
}
