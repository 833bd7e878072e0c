// One shape for every benchmark's published figures: a Report is a few tables, each with how its figures were taken,
// plus where and when they were taken (commit, accelerator, load) and which inputs they depend on. `npm run bench`
// writes one per comparison to results/bench/reports/<id>.json; the site's /performance/ page renders them, and
// marks a report stale when any of its inputs (files or folders, hashed when measured) differ now
// (site/lib/performance.ts). A bench's own
// results/bench/<name>.json keeps its raw runs; the report holds what a reader compares.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from '../build/stamp.js';
import { gitState } from '../smoke/git.js';
import { table } from './measure.js';

export const REPORTS_DIR = 'results/bench/reports';

export type Cell = number | string | null;

export interface ReportColumn {
  label: string;
  unit?: string;
}

export interface ReportChart {
  columns: number[];
  scale: 'row' | 'table';
  unit?: string;
  unitColumn?: number;
}

export interface ReportTable {
  title: string;
  /** How the figures were measured, in a sentence or two. */
  how: string;
  columns: ReportColumn[];
  /** rows[i][0] is the row's label; the rest line up with columns[1..]. */
  rows: Cell[][];
  /** Columns drawn as bars, one group per row: scaled to the row's largest value (`row`, for rows of different units)
   *  or the table's (`table`, one unit for all); the unit is `unit`, or each row's cell in `unitColumn`. */
  chart?: ReportChart;
}

/** What every published comparison is: which bench, in which chapter, made by which command. */
export interface ReportKind {
  id: string;
  title: string;
  chapter: string;
  command: string;
  inputs: string[];
}

/** An input as it was when the figures were taken: its path and the hash of its contents (see hashInput). */
export interface InputHash {
  path: string;
  sha256: string | null;
}

export interface Report extends Omit<ReportKind, 'inputs'> {
  schemaVersion: 1;
  inputs: InputHash[];
  at: string;
  commit: string | null;
  dirty: boolean;
  accelerator: string;
  machine: { cpus: number; loadAvg1m: number };
  tables: ReportTable[];
  errors: string[];
}

/** The comparisons `npm run bench` publishes; the performance page lists each, measured or not. */
export const REPORT_KINDS = {
  'linux-guest': {
    id: 'linux-guest',
    title: 'The kernel beside a Linux guest in the same emulator',
    chapter: 'chapters/93-a4-benchmarks.md',
    command: 'npm run bench -- guest',
    inputs: [
      'capos/kernel',
      'capos/kcore',
      'capos/rt',
      'capos/services/bench',
      'capos/services/ipc-endpoint',
      'chapters/93-a4-benchmarks.md',
      'tangle/bench/guest.ts',
      'tangle/bench/linux-guest',
    ],
  },
  'system-bench-blk': {
    id: 'system-bench-blk',
    title: 'The virtio-blk driver: throughput and flush latency',
    chapter: 'chapters/95-a6-devices.md',
    command: 'npm run bench -- system-bench-blk',
    inputs: ['capos/kernel', 'capos/rt', 'capos/drivers/virtio-blk', 'capos/drivers/virtio-hal', 'capos/services/blk-client', 'chapters/95-a6-devices.md'],
  },
  store: {
    id: 'store',
    title: 'The store beside ext4 in a Linux guest',
    chapter: 'chapters/96-a7-store.md',
    command: 'npm run bench -- store',
    inputs: [
      'chapters/96-a7-store.md',
      'capos/storefs',
      'capos/services/store',
      'capos/services/store-client',
      'capos/drivers/virtio-blk',
      'capos/kernel',
      'capos/rt',
      'tangle/bench/store.ts',
      'tangle/bench/linux-guest',
    ],
  },
  cue: {
    id: 'cue',
    title: 'The CUE evaluator: natively, under node:wasi and under capos-wasm',
    chapter: 'chapters/18-w8-cue.md',
    command: 'npm run bench -- cue',
    inputs: [
      'chapters/18-w8-cue.md',
      'chapters/11-w1-scaffold.md',
      'chapters/12-w2-preview1.md',
      'chapters/12a-w2-memory-stdio.md',
      'chapters/12b-w2-ending-limits.md',
      'chapters/15-w5-fd-table.md',
      'chapters/16-w5-host-runner.md',
      'tangle/bench/cue.ts',
    ],
  },
} as const satisfies Record<string, ReportKind>;

export type ReportId = keyof typeof REPORT_KINDS;

/** The published comparison with this id, if it is one. */
export function reportKind(id: string): ReportKind | undefined {
  return Object.values(REPORT_KINDS).find((k: ReportKind) => k.id === id);
}

export async function makeReport(
  root: string,
  which: ReportId | ReportKind,
  accelerator: string,
  tables: ReportTable[],
  errors: string[],
  loadAvg1m = loadavg()[0]!,
): Promise<Report> {
  const git = await gitState(root);
  const kind: ReportKind = typeof which === 'string' ? REPORT_KINDS[which] : which;
  const inputs = await Promise.all(kind.inputs.map(async (path) => ({ path, sha256: await hashInput(root, path) })));
  return {
    schemaVersion: 1,
    ...kind,
    inputs,
    at: new Date().toISOString(),
    commit: git.commit,
    dirty: git.dirty,
    accelerator,
    machine: { cpus: cpus().length, loadAvg1m: Number(loadAvg1m.toFixed(2)) },
    tables,
    errors,
  };
}

/** Folders never hashed: what builds and tools write inside a source tree. */
const SKIP = new Set(['.git', 'node_modules', 'target']);

async function listFiles(root: string, rel: string): Promise<string[] | null> {
  try {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    const out: string[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (SKIP.has(e.name)) continue;
      if (e.isDirectory()) out.push(...((await listFiles(root, `${rel}/${e.name}`)) ?? []));
      else if (e.isFile()) out.push(`${rel}/${e.name}`);
    }
    return out;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return [rel];
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** SHA-256 over a file's bytes, or over every file of a folder (relative path and bytes, in name order); null when the
 *  path does not exist. The same function decides staleness on the site, so a report is current exactly when every
 *  input hashes as it did. */
export async function hashInput(root: string, path: string): Promise<string | null> {
  const files = await listFiles(root, path);
  if (files === null) return null;
  const h = createHash('sha256');
  for (const f of files)
    h.update(`${f}\0`)
      .update(await readFile(join(root, f)))
      .update('\0');
  return h.digest('hex');
}

export const reportPath = (id: string) => `${REPORTS_DIR}/${id}.json`;

export async function writeReport(root: string, report: Report): Promise<string> {
  const file = reportPath(report.id);
  await writeAtomic(join(root, file), `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** A cell as the terminal and the page show it. */
export function showCell(c: Cell): string {
  if (c === null) return 'n/a';
  if (typeof c === 'string') return c;
  return Number.isInteger(c) ? String(c) : c.toFixed(Math.abs(c) >= 100 ? 0 : Math.abs(c) >= 10 ? 1 : 2);
}

/** The report as terminal lines: each table with its title and how, then the errors. */
export function formatReport(r: Report): string[] {
  const out = [`${r.title} (${r.command}; ${r.accelerator}, load ${r.machine.loadAvg1m.toFixed(1)} on ${r.machine.cpus} cores at the start)`];
  for (const t of r.tables) {
    out.push(`  ${t.title}:`);
    const header = t.columns.map((c) => (c.unit ? `${c.label} (${c.unit})` : c.label));
    out.push(
      ...table(
        header,
        t.rows.map((row) => row.map(showCell)),
      ).map((l) => `    ${l}`),
    );
    out.push(`    (${t.how})`);
  }
  for (const e of r.errors) out.push(`  ERROR: ${e}`);
  return out;
}

export class ReportError extends Error {}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCell = (c: unknown): c is Cell => c === null || typeof c === 'number' || typeof c === 'string';
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** Reads a parsed report file field by field into a Report; an error names the file and the field. */
export function validateReport(json: unknown, file: string): Report {
  const fail = (field: string, want: string): never => {
    throw new ReportError(`${file}: ${field} must be ${want}`);
  };
  if (!isObject(json)) return fail('the file', 'a JSON object');
  const str = (k: string): string => {
    const v = json[k];
    return typeof v === 'string' ? v : fail(k, 'a string');
  };
  if (json.schemaVersion !== 1) fail('schemaVersion', '1');
  const commit = json.commit === null || typeof json.commit === 'string' ? json.commit : fail('commit', 'a string or null');
  const dirty = typeof json.dirty === 'boolean' ? json.dirty : fail('dirty', 'true or false');
  const inputs = Array.isArray(json.inputs)
    ? json.inputs.map(
        (x: unknown, i): InputHash =>
          isObject(x) && typeof x.path === 'string' && (x.sha256 === null || typeof x.sha256 === 'string')
            ? { path: x.path, sha256: x.sha256 }
            : fail(`inputs[${i}]`, '{path, sha256}'),
      )
    : fail('inputs', 'a list');
  const errors = isStrings(json.errors) ? json.errors : fail('errors', 'a list of strings');
  const m = json.machine;
  const machine =
    isObject(m) && typeof m.cpus === 'number' && typeof m.loadAvg1m === 'number'
      ? { cpus: m.cpus, loadAvg1m: m.loadAvg1m }
      : fail('machine', '{cpus, loadAvg1m}');
  const tables = Array.isArray(json.tables) ? json.tables.map((t: unknown, i) => readTable(t, `tables[${i}]`, fail)) : fail('tables', 'a list');
  return {
    schemaVersion: 1,
    id: str('id'),
    title: str('title'),
    chapter: str('chapter'),
    command: str('command'),
    inputs,
    at: str('at'),
    commit,
    dirty,
    accelerator: str('accelerator'),
    machine,
    tables,
    errors,
  };
}

function readTable(t: unknown, at: string, fail: (field: string, want: string) => never): ReportTable {
  if (!isObject(t) || typeof t.title !== 'string' || typeof t.how !== 'string') return fail(at, 'a table with title and how');
  const columns = Array.isArray(t.columns)
    ? t.columns.map((c: unknown, i): ReportColumn => {
        if (!isObject(c) || typeof c.label !== 'string' || (c.unit !== undefined && typeof c.unit !== 'string'))
          return fail(`${at}.columns[${i}]`, '{label, unit?}');
        return typeof c.unit === 'string' ? { label: c.label, unit: c.unit } : { label: c.label };
      })
    : fail(`${at}.columns`, 'a list');
  const width = columns.length;
  const rows = Array.isArray(t.rows)
    ? t.rows.map((r: unknown, i): Cell[] =>
        Array.isArray(r) && r.length === width && r.every(isCell) ? r : fail(`${at}.rows[${i}]`, `${width} numbers, strings or nulls`),
      )
    : fail(`${at}.rows`, 'a list');
  const table: ReportTable = { title: t.title, how: t.how, columns, rows };
  const ch = t.chart;
  if (ch === undefined) return table;
  const index = (c: unknown, field: string) =>
    typeof c === 'number' && Number.isInteger(c) && c >= 1 && c < width ? c : fail(field, `an index from 1 to ${width - 1}`);
  if (!isObject(ch) || !Array.isArray(ch.columns) || (ch.scale !== 'row' && ch.scale !== 'table') || (ch.unit !== undefined && typeof ch.unit !== 'string'))
    return fail(`${at}.chart`, '{columns, scale: row or table, unit?, unitColumn?}');
  const chart: ReportChart = { columns: ch.columns.map((c: unknown) => index(c, `${at}.chart.columns`)), scale: ch.scale };
  if (typeof ch.unit === 'string') chart.unit = ch.unit;
  if (ch.unitColumn !== undefined) chart.unitColumn = index(ch.unitColumn, `${at}.chart.unitColumn`);
  return { ...table, chart };
}
