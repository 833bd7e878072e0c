// The published report shape: input hashes that change exactly when an input does, the validator's errors, the
// terminal form.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport, hashInput, validateReport, type Report } from '../../bench/report.js';

const REPORT: Report = {
  schemaVersion: 1,
  id: 'x',
  title: 'X beside Y',
  chapter: 'chapters/x.md',
  command: 'npm run bench -- x',
  inputs: [{ path: 'chapters/x.md', sha256: null }],
  at: '2026-12-02T05:00:00.000Z',
  commit: 'abc',
  dirty: true,
  accelerator: 'tcg',
  machine: { cpus: 2, loadAvg1m: 3.25 },
  errors: ['run 2: no figure'],
  tables: [
    {
      title: 'T',
      how: 'medians',
      columns: [{ label: 'figure' }, { label: 'capOS', unit: 'us' }],
      rows: [
        ['a', 1.5],
        ['b', null],
      ],
      chart: { columns: [1], scale: 'table', unit: 'us' },
    },
  ],
};

describe('hashInput', () => {
  it('changes when a file in a folder changes, is added or renamed, and is null for a missing path', async () => {
    const root = mkdtempSync(join(tmpdir(), 'report-'));
    mkdirSync(join(root, 'd/sub'), { recursive: true });
    writeFileSync(join(root, 'd/a'), '1');
    writeFileSync(join(root, 'd/sub/b'), '2');
    const first = await hashInput(root, 'd');
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashInput(root, 'd')).toBe(first);
    mkdirSync(join(root, 'd/target'));
    writeFileSync(join(root, 'd/target/out'), 'build output is not an input');
    expect(await hashInput(root, 'd')).toBe(first);
    writeFileSync(join(root, 'd/sub/b'), '3');
    const second = await hashInput(root, 'd');
    expect(second).not.toBe(first);
    writeFileSync(join(root, 'd/c'), '');
    expect(await hashInput(root, 'd')).not.toBe(second);
    expect(await hashInput(root, 'd/a')).not.toBe(await hashInput(root, 'd'));
    expect(await hashInput(root, 'nothing')).toBeNull();
  });
});

describe('validateReport', () => {
  it('accepts a report and gives back the same fields', () => {
    expect(validateReport(JSON.parse(JSON.stringify(REPORT)), 'r.json')).toEqual(REPORT);
  });
  it('names the file and the field that is wrong', () => {
    const bad = (patch: Record<string, unknown>) => () => validateReport({ ...JSON.parse(JSON.stringify(REPORT)), ...patch }, 'r.json');
    expect(bad({ schemaVersion: 2 })).toThrow('r.json: schemaVersion must be 1');
    expect(bad({ inputs: ['chapters/x.md'] })).toThrow('r.json: inputs[0] must be {path, sha256}');
    expect(bad({ tables: [{ ...REPORT.tables[0], rows: [['a']] }] })).toThrow('r.json: tables[0].rows[0] must be 2 numbers, strings or nulls');
    expect(bad({ tables: [{ ...REPORT.tables[0], chart: { columns: [0], scale: 'table' } }] })).toThrow('tables[0].chart.columns must be an index from 1 to 1');
    expect(bad({ tables: [{ ...REPORT.tables[0], chart: { columns: [1], scale: 'log' } }] })).toThrow('tables[0].chart must be');
  });
});

describe('formatReport', () => {
  it('prints each table with units, n/a for a missing figure, how it was measured, then the errors', () => {
    expect(formatReport(REPORT)).toEqual([
      'X beside Y (npm run bench -- x; tcg, load 3.3 on 2 cores at the start)',
      '  T:',
      '    figure  capOS (us)',
      '    ------  ----------',
      '    a             1.50',
      '    b              n/a',
      '    (medians)',
      '  ERROR: run 2: no figure',
    ]);
  });
});
