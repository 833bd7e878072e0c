// The status file between `npm run watch` and the dev server's banner: written whole, read back checked.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { parseStatus, readStatus, STATUS_FILE, writeStatus, type WatchStatus } from '../../watch/status.js';

const status: WatchStatus = {
  generation: 3,
  state: 'failed',
  step: 'smoke',
  changed: ['chapters/11-w1-scaffold.md'],
  startedAt: '2026-12-02T15:00:00.000Z',
  finishedAt: '2026-12-02T15:00:09.000Z',
  summary: '1 of 1 smoke failed: run-wasm-host',
  problems: [],
  smokes: [{ name: 'run-wasm-host', where: 'chapters/11-w1-scaffold.md:300', ok: false, failures: ['chapters/11-w1-scaffold.md:305: expected …'] }],
};

test('a written status reads back equal, and the file is never left half-written', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'watch-status-'));
  try {
    await writeStatus(root, status);
    expect(await readStatus(path.join(root, STATUS_FILE))).toEqual(status);
    expect(JSON.parse(await readFile(path.join(root, STATUS_FILE), 'utf8'))).toEqual(status);
    await writeFile(path.join(root, STATUS_FILE), '{"generation": 4, "sta');
    expect(await readStatus(path.join(root, STATUS_FILE))).toBeUndefined();
    expect(await readStatus(path.join(root, 'build/watch/none.json'))).toBeUndefined();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('parseStatus refuses what is not a status, field by field', () => {
  expect(parseStatus(status)).toEqual(status);
  expect(parseStatus({ ...status, state: 'done' })).toBeUndefined();
  expect(parseStatus({ ...status, step: 'boot' })).toBeUndefined();
  expect(parseStatus({ ...status, generation: '3' })).toBeUndefined();
  expect(parseStatus({ ...status, problems: [{ where: 1, message: 'x' }] })).toBeUndefined();
  expect(parseStatus({ ...status, smokes: [{ ...status.smokes[0], failures: [7] }] })).toBeUndefined();
  expect(parseStatus([status])).toBeUndefined();
});
