// Writes the fixture bench reports the site tests build from: one whose inputs hash as the fixture chapters do now
// (current), one whose recorded hash is an older one (stale), and none for the real comparisons (each missing).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashInput, type Report, type ReportTable } from '../../index.js';
import { FIXTURE_BOOK } from './fixture-results.js';

const TABLE: ReportTable = {
  title: 'Fixture workload',
  how: 'Made up for the site test: medians of 3 runs.',
  columns: [{ label: 'figure' }, { label: 'unit' }, { label: 'capOS' }, { label: 'Linux' }],
  rows: [
    ['sequential read', 'KiB/s', 1200, 4800],
    ['sync', 'us', 900, null],
  ],
  chart: { columns: [2, 3], scale: 'row', unitColumn: 1 },
};

export const FIXTURE_REPORTS = { 'fix-current': 'current', 'fix-stale': 'stale' } as const;

export async function writeFixtureReports(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const input = 'chapters/10-w1-first.md';
  const now = await hashInput(FIXTURE_BOOK, input);
  for (const [id, state] of Object.entries(FIXTURE_REPORTS)) {
    const report: Report = {
      schemaVersion: 1,
      id,
      title: `Fixture report (${state})`,
      chapter: input,
      command: `npm run bench -- ${id}`,
      inputs: [{ path: input, sha256: state === 'current' ? now : '0'.repeat(64) }],
      at: '2026-12-02T05:00:00.000Z',
      commit: 'fedcba9876543210',
      dirty: false,
      accelerator: 'tcg',
      machine: { cpus: 2, loadAvg1m: 1.5 },
      tables: [TABLE],
      errors: [],
    };
    await writeFile(path.join(dir, `${id}.json`), `${JSON.stringify(report, null, 2)}\n`);
  }
}
