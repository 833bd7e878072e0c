// Chapter W.8's comparisons: the CUE evaluator (build/demos/wasi-cue-evaluator.wasm) on the manifest archive, run with
// `capos-wasm instances` natively, under node:wasi, and the host's native `cue export` on the same file. Each run's
// stdout must equal `cue export`'s before its time counts. Wall time and peak RSS come from /usr/bin/time.
// The capOS figures come from the generic collector's boots of manifests/system-bench-cue.cue (its `bench` lines).
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeAtomic } from '../build/stamp.js';
import { CUE } from '../smoke/computed.js';
import { median, table } from './measure.js';

const MODULE = 'build/demos/wasi-cue-evaluator.wasm';
const ARCHIVE = 'build/archives/cue-manifest.tar';
const INPUT_DIR = 'manifests';
const INPUT = 'system-wasi-cue-evaluator.cue';
const HOST_RUNNER = 'build/host/capos-wasm';
const SCRATCH = 'build/bench/cue';

const NODE_WASI = `import { readFileSync, openSync } from 'node:fs'; import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: ['cue'], env: {}, stdin: openSync(process.argv[2], 'r'), returnOnExit: true });
const m = await WebAssembly.compile(readFileSync(process.argv[1]));
const i = await WebAssembly.instantiate(m, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(i);`;

export interface CueRow {
  runner: string;
  wallMs: number;
  peakRssKiB: number;
  runs: number;
}

/** The `capos-wasm instances` folder for one instance `cue` with the manifest archive on stdin. */
async function instanceDir(root: string): Promise<string> {
  const dir = join(root, SCRATCH);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'wasm.instances'), 'capos-wasm instances 1\ncue console timer wallclock random module=37748736 memory=1024 table=32768\n');
  await writeFile(join(dir, 'wasm.0.module'), await readFile(join(root, MODULE)));
  await writeFile(join(dir, 'wasm.0.args'), 'cue\0');
  await writeFile(join(dir, 'wasm.0.stdin'), await readFile(join(root, ARCHIVE)));
  return dir;
}

/** One timed run: wall ms and peak RSS in KiB (GNU time's %M), and stdout. */
async function timed(cmd: string, args: string[], cwd: string): Promise<{ wallMs: number; rssKiB: number; stdout: string; code: number }> {
  const t0 = performance.now();
  const r = await execa('/usr/bin/time', ['-f', 'rss-kib %M', cmd, ...args], { cwd, reject: false, timeout: 300_000 });
  const wallMs = performance.now() - t0;
  const rss = /rss-kib (\d+)/.exec(r.stderr)?.[1];
  return { wallMs, rssKiB: Number(rss ?? 0), stdout: r.stdout, code: r.exitCode ?? -1 };
}

export async function benchCue(root: string, runs: number, log: (l: string) => void): Promise<{ rows: CueRow[]; errors: string[]; moduleBytes: number }> {
  const errors: string[] = [];
  const moduleBytes = (await stat(join(root, MODULE))).size;
  const expected = (await execa(join(root, CUE), ['export', INPUT], { cwd: join(root, INPUT_DIR) })).stdout;
  const dir = await instanceDir(root);
  const prefix = '[wasm-host] ';
  const runners: { label: string; cmd: string; args: string[]; cwd: string; output: (s: string) => string }[] = [
    { label: 'host cue export (native Go)', cmd: join(root, CUE), args: ['export', INPUT], cwd: join(root, INPUT_DIR), output: (s) => s },
    {
      label: 'node:wasi (V8)',
      cmd: 'node',
      args: ['--no-warnings', '--input-type=module', '-e', NODE_WASI, join(root, MODULE), join(root, ARCHIVE)],
      cwd: root,
      output: (s) => s,
    },
    {
      label: 'capos-wasm instances, native',
      cmd: join(root, HOST_RUNNER),
      args: ['instances', dir],
      cwd: root,
      output: (s) =>
        s
          .split('\n')
          .filter((l) => !/^\[wasm-host\] cue exited with/.test(l))
          .map((l) => (l.startsWith(prefix) ? l.slice(prefix.length) : l))
          .join('\n'),
    },
  ];
  const rows: CueRow[] = [];
  for (const r of runners) {
    const walls: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = await timed(r.cmd, r.args, r.cwd);
      if (t.code !== 0 || r.output(t.stdout).trimEnd() !== expected.trimEnd()) {
        errors.push(`${r.label}: exit ${t.code} or output differs from cue export`);
        break;
      }
      walls.push(t.wallMs);
      rss.push(t.rssKiB);
    }
    if (walls.length > 0) rows.push({ runner: r.label, wallMs: Math.round(median(walls)), peakRssKiB: Math.round(median(rss)), runs: walls.length });
    log(`  cue: ${r.label}: ${walls.length ? `${Math.round(median(walls))} ms` : 'failed'}`);
  }
  await writeAtomic(
    join(root, 'results/bench/cue-compare.json'),
    `${JSON.stringify(
      { schemaVersion: 1, at: new Date().toISOString(), module: MODULE, moduleBytes, input: `${INPUT_DIR}/${INPUT}`, rows, errors },
      null,
      2,
    )}\n`,
  );
  return { rows, errors, moduleBytes };
}

export function formatCue(b: { rows: CueRow[]; moduleBytes: number }): string[] {
  return [
    `CUE evaluator (chapter W.8), ${(b.moduleBytes / 1e6).toFixed(1)} MB module, input manifests/${INPUT}:`,
    ...table(
      ['runner', 'wall (median)', 'peak RSS', 'runs'],
      b.rows.map((r) => [r.runner, `${r.wallMs} ms`, `${(r.peakRssKiB / 1024).toFixed(0)} MiB`, String(r.runs)]),
    ),
  ];
}
