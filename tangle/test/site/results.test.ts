// Smoke results as the site reads them: malformed files fail naming the file; the phase board's honesty rules.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadBook, tangleBook } from '../../index.js';
import { loadPhases, phaseBoard } from '../../../site/lib/phases.js';
import { loadResults, smokeViews } from '../../../site/lib/results.js';
import { FIXTURE_BOOK, writeFixtureResults } from './fixture-results.js';

describe('loadResults', () => {
  test('fails naming the file when a result does not validate', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'site-bad-'));
    await writeFile(path.join(dir, 'run-x.json'), JSON.stringify({ schemaVersion: 1, name: 'run-x' }));
    await expect(loadResults(dir)).rejects.toThrow(path.join(dir, 'run-x.json'));
  });

  test('fails naming the file when a result is not JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'site-bad-'));
    await writeFile(path.join(dir, 'run-y.json'), '{ not json');
    await expect(loadResults(dir)).rejects.toThrow(/malformed smoke result .*run-y\.json/);
  });

  test('a missing results directory means no results', async () => {
    expect((await loadResults(path.join(tmpdir(), 'no-such-results-dir'))).size).toBe(0);
  });
});

describe('loadPhases', () => {
  test('a phase list that is not YAML fails naming the file and the line', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'site-phases-'));
    await mkdir(path.join(root, 'chapters'));
    await writeFile(path.join(root, 'chapters', 'phases.yaml'), 'phases:\n  - id: [\n');
    await expect(loadPhases(root)).rejects.toThrow(new RegExp(`^${path.join(root, 'chapters', 'phases.yaml')}: .*at line 3`));
  });
});

describe('phaseBoard', () => {
  test('done needs a stamp and green smokes; a phase without a chapter is planned', async () => {
    const book = await loadBook(FIXTURE_BOOK);
    const dir = await mkdtemp(path.join(tmpdir(), 'site-results-'));
    await writeFixtureResults(dir);
    const views = smokeViews(book, tangleBook(book), await loadResults(dir));
    const board = phaseBoard(await loadPhases(FIXTURE_BOOK), book, views);
    expect(board.map((r) => [r.id, r.status, !!r.appendix])).toEqual([
      ['W.0', 'planned', false],
      ['W.1', 'in-progress', false],
      ['W.2', 'in-progress', false],
      ['A.1', 'planned', true],
    ]);
    expect(board[1]!.claimed).toBe('done');
    expect(board[1]!.note).toContain('fix-fail is failing');
    expect(board[1]!.stamp).toEqual({ commit: '0123abcd', time: '2026-11-20 10:15 UTC' });
    expect(board[2]!.smokes.map((s) => [s.name, s.state, s.href])).toEqual([
      ['fix-stale', 'stale', '/chapters/11-w2-second/#smoke-fix-stale'],
      ['fix-missing', 'missing', '/chapters/11-w2-second/#smoke-fix-missing'],
    ]);
  });

  test('a stamped chapter whose smokes all pass now is done', async () => {
    const book = await loadBook(FIXTURE_BOOK);
    const dir = await mkdtemp(path.join(tmpdir(), 'site-results-'));
    await writeFixtureResults(dir);
    const views = smokeViews(book, tangleBook(book), await loadResults(dir));
    const failing = views.get('fix-fail')!;
    views.set('fix-fail', { ...failing, state: 'pass' });
    const board = phaseBoard(await loadPhases(FIXTURE_BOOK), book, views);
    expect(board[1]!.status).toBe('done');
  });
});
