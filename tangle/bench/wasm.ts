// Issue 5's benchmark: one compute-heavy WASI program (C and Rust, chapter A.4) on five runners. Every run's time is
// the program's own `compute N us` line (clock_time_get(MONOTONIC) around the work; on capOS that is the kernel's
// Timer cap); capOS boots also get the serial-timestamp interval between the `start` and `compute` lines as a
// cross-check. Every run's checksum must equal every other's for the same program, or the figures are refused.
import { imagePath } from '../build/images.js';
import type { Accelerator } from '../smoke/qemu.js';
import { KERNEL } from '../smoke/runner.js';
import { bootTimed, fmtRatio, fmtUs, median, runTimed, table, timerScale, tscMHz, type TimedLine } from './measure.js';
import { NATIVE } from './native.js';

export type Program = 'c' | 'rust';
export type Runner = 'native' | 'node' | 'host' | 'host-qemu-user' | 'capos' | 'capos-unmetered';

export const PROGRAMS: Program[] = ['c', 'rust'];
export const RUNNERS: { id: Runner; label: string }[] = [
  { id: 'native', label: 'native build' },
  { id: 'node', label: 'node:wasi (V8)' },
  { id: 'host', label: 'capos-wasm run, native' },
  { id: 'host-qemu-user', label: 'capos-wasm run, qemu-x86_64' },
  { id: 'capos', label: 'capOS + wasmi' },
  // The same boot with the guest's `limits` grant at fuel=unmetered (appendix A.5): the cost of fuel metering.
  { id: 'capos-unmetered', label: 'capOS + wasmi, fuel off' },
];
const HOST_RUNNER = 'build/host/capos-wasm';
export const wasmFile = (p: Program) => `build/demos/wasi-bench-${p}.wasm`;
export const benchManifest = (p: Program, unmetered = false) => `manifests/system-bench-wasi-${p}${unmetered ? '-unmetered' : ''}.cue`;

// Node's own WASI, preview1; argv[1] is the module (node -e puts the first extra argument there).
const NODE_WASI = `import { readFileSync } from 'node:fs'; import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: [process.argv[1]], env: {}, returnOnExit: true });
const m = await WebAssembly.compile(readFileSync(process.argv[1]));
const i = await WebAssembly.instantiate(m, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(i);`;

/**
 * computeUs: the guest's own clock around the work; cpuUs: the runner process's CPU time between the arrival of the
 * `start` and `compute` lines; serialUs (capOS): host wall time between those two serial lines.
 */
export interface WasmRun {
  computeUs: number;
  checksum: string;
  wallMs: number;
  cpuUs?: number;
  serialUs?: number;
  tscMHz?: number;
}
/** timeUs: the figure the ratios use: CPU time when every run has it, else the guest's clock (see chapter A.4). */
export interface WasmRow {
  program: Program;
  runner: Runner;
  label: string;
  runs: WasmRun[];
  timeUs: number;
  clock: 'cpu' | 'guest';
  computeUs: number;
  wallMs: number;
  serialUs?: number;
  checksum: string;
}
export interface WasmBench {
  rows: WasmRow[];
  checksums: Record<Program, string[]>;
  errors: string[];
}

/** The program's result lines, wherever they sit in a line (capOS prefixes `[wasm-host] `). */
export function parseGuest(program: Program, lines: string[]): { checksum?: string; computeUs?: number } {
  const out: { checksum?: string; computeUs?: number } = {};
  for (const l of lines) {
    const c = new RegExp(`wasi-bench-${program} checksum ([0-9a-f]{16})$`).exec(l);
    if (c) out.checksum = c[1]!;
    const t = new RegExp(`wasi-bench-${program} compute (\\d+) us$`).exec(l);
    if (t) out.computeUs = Number(t[1]);
  }
  return out;
}

function command(program: Program, runner: Exclude<Runner, 'capos' | 'capos-unmetered'>): [string, string[]] {
  switch (runner) {
    case 'native':
      return [NATIVE[program], []];
    case 'node':
      return ['node', ['--no-warnings', '--input-type=module', '-e', NODE_WASI, wasmFile(program)]];
    case 'host':
      return [HOST_RUNNER, ['run', wasmFile(program)]];
    case 'host-qemu-user':
      return ['qemu-x86_64', [HOST_RUNNER, 'run', wasmFile(program)]];
  }
}

/** CPU and wall time between the arrival of the program's `start` line and its `compute` line. */
function interval(program: Program, lines: TimedLine[]): { cpuUs?: number; wallUs?: number } {
  const start = lines.find((l) => l.line.endsWith(`wasi-bench-${program} start`));
  const end = lines.find((l) => new RegExp(`wasi-bench-${program} compute \\d+ us$`).test(l.line));
  if (!start || !end) return {};
  return { wallUs: (end.ms - start.ms) * 1000, ...(start.cpuNs !== undefined && end.cpuNs !== undefined ? { cpuUs: (end.cpuNs - start.cpuNs) / 1000 } : {}) };
}

async function runOnce(root: string, program: Program, runner: Runner, accel: Accelerator): Promise<WasmRun> {
  if (runner === 'capos' || runner === 'capos-unmetered') {
    const manifest = benchManifest(program, runner === 'capos-unmetered');
    const { outcome, lines } = await bootTimed({ kernel: KERNEL, initrd: imagePath(manifest) }, accel, root, 300_000);
    const g = parseGuest(program, outcome.transcript);
    if (outcome.timedOut || outcome.exitStatus !== 0 || g.checksum === undefined || g.computeUs === undefined) {
      throw new Error(
        `capOS boot of ${manifest} failed (${outcome.timedOut ? 'timeout' : `exit ${outcome.exitStatus}`}):\n` +
          outcome.transcript
            .slice(-8)
            .map((l) => `    ${l}`)
            .join('\n'),
      );
    }
    const { cpuUs, wallUs } = interval(program, lines);
    const mhz = tscMHz(outcome.transcript);
    return {
      computeUs: g.computeUs,
      checksum: g.checksum,
      wallMs: outcome.bootMs,
      ...(cpuUs !== undefined ? { cpuUs } : {}),
      ...(wallUs !== undefined ? { serialUs: wallUs } : {}),
      ...(mhz !== null ? { tscMHz: mhz } : {}),
    };
  }
  const [cmd, args] = command(program, runner);
  const r = await runTimed(cmd, args, root);
  const out = r.lines.map((l) => l.line);
  const g = parseGuest(program, out);
  if (r.exitCode !== 0 || g.checksum === undefined || g.computeUs === undefined) {
    throw new Error(`${cmd} ${args.slice(-1)[0] ?? ''} failed (exit ${r.exitCode}): ${[...out, r.stderr].join('\n').slice(-400)}`);
  }
  const { cpuUs } = interval(program, r.lines);
  return { computeUs: g.computeUs, checksum: g.checksum, wallMs: r.wallMs, ...(cpuUs !== undefined ? { cpuUs } : {}) };
}

export async function benchWasm(root: string, accel: Accelerator, runs: number, log: (l: string) => void): Promise<WasmBench> {
  const rows: WasmRow[] = [];
  const errors: string[] = [];
  const checksums: Record<Program, string[]> = { c: [], rust: [] };
  for (const program of PROGRAMS) {
    for (const { id, label } of RUNNERS) {
      const done: WasmRun[] = [];
      for (let r = 0; r < runs; r++) {
        try {
          done.push(await runOnce(root, program, id, accel));
        } catch (e) {
          errors.push(`${program} on ${label}: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
      }
      if (done.length === 0) continue;
      checksums[program].push(...done.map((d) => d.checksum));
      const serial = done.flatMap((d) => (d.serialUs !== undefined ? [d.serialUs] : []));
      const computeUs = median(done.map((d) => d.computeUs));
      const cpu = done.flatMap((d) => (d.cpuUs !== undefined ? [d.cpuUs] : []));
      const cpuUs = cpu.length === done.length ? median(cpu) : undefined;
      const serialUs = serial.length ? median(serial) : undefined;
      rows.push({
        program,
        runner: id,
        label,
        runs: done,
        computeUs,
        timeUs: cpuUs ?? computeUs,
        clock: cpuUs !== undefined ? 'cpu' : 'guest',
        wallMs: median(done.map((d) => d.wallMs)),
        checksum: done[0]!.checksum,
        ...(serialUs !== undefined ? { serialUs } : {}),
      });
      log(`  wasm ${program} ${label}: ${fmtUs(cpuUs ?? computeUs)} (${done.length} runs)`);
    }
  }
  for (const program of PROGRAMS) {
    const distinct = [...new Set(checksums[program])];
    if (distinct.length > 1) {
      const who = rows.filter((r) => r.program === program).map((r) => `${r.label}: ${[...new Set(r.runs.map((x) => x.checksum))].join('/')}`);
      errors.push(`CHECKSUM MISMATCH for ${program}: ${who.join('; ')}`);
    }
  }
  return { rows, checksums, errors };
}

/** The lowest kernel TSC calibration among the capOS boots (see timerScale), or null. */
export function lowestTscMHz(b: WasmBench): number | null {
  const all = b.rows.flatMap((r) => r.runs.flatMap((x) => (x.tscMHz !== undefined ? [x.tscMHz] : [])));
  return all.length ? Math.min(...all) : null;
}

export function formatWasm(b: WasmBench, accel: Accelerator, referenceMHz: number | null): string[] {
  const out: string[] = [];
  for (const program of PROGRAMS) {
    const rows = b.rows.filter((r) => r.program === program);
    const by = (id: Runner) => rows.find((r) => r.runner === id);
    const native = by('native');
    const user = by('host-qemu-user');
    const body = rows.map((r) => [
      r.runner === 'capos' || r.runner === 'capos-unmetered' ? `${r.label} (${accel})` : r.label,
      fmtUs(r.timeUs) + (r.clock === 'cpu' ? '' : ' (wall)'),
      fmtUs(r.computeUs),
      r.serialUs !== undefined ? fmtUs(r.serialUs) : '',
      native ? fmtRatio(r.timeUs / native.timeUs) : 'n/a',
      user && (r.runner === 'capos' || r.runner === 'host-qemu-user') ? fmtRatio(r.timeUs / user.timeUs) : '',
      r.checksum,
    ]);
    out.push(`${program === 'c' ? 'C' : 'Rust'} (demos/wasi-bench-${program}; median of ${Math.max(...rows.map((r) => r.runs.length))} runs):`);
    out.push(...table(['runner', 'CPU time', 'guest clock', 'serial Δ', '÷ native', '÷ qemu-user wasmi', 'checksum'], body).map((l) => `  ${l}`));
    const capos = by('capos');
    if (capos) {
      const corrected = median(capos.runs.map((x) => x.computeUs * timerScale(x.tscMHz ?? null, referenceMHz)));
      out.push(
        `  capOS guest Timer said ${fmtUs(capos.computeUs)} (median), ${fmtUs(corrected)} rescaled to ${referenceMHz ?? '?'} MHz; ` +
          `kernel TSC calibrations ${capos.runs.map((x) => x.tscMHz ?? '?').join(', ')} MHz`,
      );
    }
    const unmetered = by('capos-unmetered');
    if (capos && unmetered) {
      // Both from the same run of this command, so the ratio is fair on a busy machine.
      const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
      out.push(
        `  fuel metering (appendix A.5): CPU time ${fmtUs(capos.timeUs)} metered vs ${fmtUs(unmetered.timeUs)} unmetered, ` +
          `${pct(capos.timeUs, unmetered.timeUs)}; guest clock ${pct(capos.computeUs, unmetered.computeUs)} (medians)`,
      );
    }
    out.push('');
  }
  const same = PROGRAMS.map((p) => [...new Set(b.checksums[p])]);
  out.push(
    b.errors.some((e) => e.startsWith('CHECKSUM'))
      ? 'checksums: MISMATCH (see errors)'
      : `checksums: all ${b.checksums.c.length + b.checksums.rust.length} runs agree per program` +
          (same[0]!.length === 1 && same[1]!.length === 1 && same[0]![0] === same[1]![0] ? `, and C and Rust agree with each other (${same[0]![0]})` : ''),
  );
  return out;
}
