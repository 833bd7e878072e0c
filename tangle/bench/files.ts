// File throughput through WASI (chapter 16): build/demos/wasi-bench-files.wasm under capos-wasm run, node:wasi and
// wasmtime (PyPI), each in a fresh temporary directory preopened as /bench, `runs` times. The guest times every phase
// with its own monotonic clock, so start-up and compilation are not counted; the figures are medians of the runs.
// Chapter 17b adds a fourth column: the same module inside capOS (TCG), its /bench a subtree of the store on a fresh
// 64 MiB disk, booted once per run from manifests/system-wasi-fs-bench.cue.
// Prints one table and writes results/bench/files.json. Compare only inside one run: the machine is shared.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imagePath } from '../build/images.js';
import { writeAtomic } from '../build/stamp.js';
import { boot } from '../smoke/qemu.js';
import { createDisk, KERNEL } from '../smoke/runner.js';
import { gitState } from '../smoke/git.js';
import { median, runProgram, table } from './measure.js';

const MODULE = 'build/demos/wasi-bench-files.wasm';
const DRIVERS = 'capos-wasm/tests/conformance';
export const FILES_RESULT = 'results/bench/files.json';

export const FILE_RUNNERS: { id: string; label: string; command: string[] }[] = [
  { id: 'capos-wasm', label: 'capos-wasm run (wasmi)', command: ['build/host/capos-wasm', 'run'] },
  { id: 'node', label: 'node:wasi (V8)', command: ['node', '--no-warnings', `${DRIVERS}/node-wasi.mjs`] },
  { id: 'wasmtime', label: 'wasmtime 50 (Cranelift)', command: ['build/venv/wasmtime/bin/python', `${DRIVERS}/wasmtime-run.py`] },
  { id: 'capos', label: 'capOS store (wasmi, TCG)', command: [] },
];

/** The capOS column: one boot of this manifest on a fresh disk is one run. */
export const CAPOS_FILES_MANIFEST = 'manifests/system-wasi-fs-bench.cue';
const CAPOS_DISK_BYTES = 64 * 1024 * 1024;
const CAPOS_PREFIX = '[wasm-host] ';

/** One run inside capOS: the wasm host's console lines without their prefix, and whether the boot ended cleanly. */
async function caposFilesRun(root: string, dir: string): Promise<{ lines: string[]; exitCode: number | null }> {
  const disk = join(dir, 'disk.img');
  await createDisk(disk, CAPOS_DISK_BYTES);
  const out = await boot(
    { kernel: join(root, KERNEL), initrd: join(root, imagePath(CAPOS_FILES_MANIFEST)), disk },
    { accel: 'tcg', timeoutMs: 600_000, cwd: root },
  );
  const lines = out.transcript.filter((l) => l.startsWith(CAPOS_PREFIX)).map((l) => l.slice(CAPOS_PREFIX.length));
  return { lines, exitCode: out.timedOut ? null : out.exitStatus };
}

/** `wasi-bench-files <metric> <value> <unit>` lines as {metric: [value, unit]}. */
export function parseFileFigures(lines: string[]): Map<string, { value: number; unit: string }> {
  const out = new Map<string, { value: number; unit: string }>();
  for (const l of lines) {
    const m = /^wasi-bench-files (\S+) ([\d.]+) (\S+)$/.exec(l);
    if (m) out.set(m[1]!, { value: Number(m[2]), unit: m[3]! });
  }
  return out;
}

export async function benchFiles(root: string, runs: number, log: (l: string) => void): Promise<number> {
  const errors: string[] = [];
  const medians: Record<string, Record<string, { value: number; unit: string }>> = {};
  for (const runner of FILE_RUNNERS) {
    const samples = new Map<string, { values: number[]; unit: string }>();
    for (let r = 0; r < runs; r++) {
      const dir = mkdtempSync(join(tmpdir(), 'capos-bench-files-'));
      try {
        const [cmd, ...pre] = runner.command;
        const out =
          cmd === undefined
            ? await caposFilesRun(root, dir).then((r) => ({ stdout: r.lines, exitCode: r.exitCode, stderr: '' }))
            : await runProgram(cmd, [...pre, '--dir', `${dir}::/bench`, MODULE, '/bench'], root);
        const figures = parseFileFigures(out.stdout);
        if (out.exitCode !== 0 || figures.size === 0) {
          errors.push(`${runner.label}: exit ${out.exitCode}: ${[...out.stdout, out.stderr].join('\n').slice(-300)}`);
          break;
        }
        for (const [metric, f] of figures) {
          const s = samples.get(metric) ?? { values: [], unit: f.unit };
          s.values.push(f.value);
          samples.set(metric, s);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    medians[runner.id] = Object.fromEntries([...samples].map(([m, s]) => [m, { value: median(s.values), unit: s.unit }]));
  }
  const metrics = [...new Set(Object.values(medians).flatMap((m) => Object.keys(m)))];
  log(`\nfile throughput through WASI (chapter 16; medians of ${runs} runs, guest-timed, higher MB/s and lower us are better):`);
  const rows = metrics.map((metric) => {
    const unit = Object.values(medians).find((m) => m[metric])?.[metric]?.unit ?? '';
    return [`${metric} (${unit})`, ...FILE_RUNNERS.map((r) => (medians[r.id]?.[metric] ? String(medians[r.id]![metric]!.value) : '-'))];
  });
  for (const l of table(['metric', ...FILE_RUNNERS.map((r) => r.label)], rows)) log(`  ${l}`);
  for (const e of errors) log(`\nERROR: ${e}`);
  const git = await gitState(root);
  await writeAtomic(
    join(root, FILES_RESULT),
    `${JSON.stringify(
      {
        schemaVersion: 1,
        at: new Date().toISOString(),
        commit: git.commit,
        dirty: git.dirty,
        runs,
        module: MODULE,
        runners: FILE_RUNNERS.map(({ id, label }) => ({ id, label })),
        medians,
        errors,
      },
      null,
      2,
    )}\n`,
  );
  log(`  → ${FILES_RESULT}`);
  return errors.length;
}
