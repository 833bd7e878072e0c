// `npm run clippy` against a scratch workspace holding a copy of capos-abi (no dependencies, so it builds in seconds):
// clean as it is, and a warning added to it fails the run, since warnings are denied.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clippyRuns, runClippy } from '../../check/clippy.js';
import { repoRoot } from '../../cli/root.js';

const root = repoRoot();
let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'clippy-'));
  await cp(join(root, 'capos/abi'), join(scratch, 'capos/abi'), { recursive: true });
  await writeFile(join(scratch, 'capos/Cargo.toml'), '[workspace]\nresolver = "2"\nmembers = ["abi"]\n');
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('runClippy', () => {
  test('runs only the groups whose packages exist, with warnings denied', async () => {
    const runs = await clippyRuns(scratch);
    expect(runs.map((r) => r.name)).toEqual(['capos host']);
    expect(runs[0]!.args.slice(-3)).toEqual(['--', '-D', 'warnings']);
  });

  test('a clippy warning fails it, the clean crate passes', async () => {
    const lines: string[] = [];
    expect(await runClippy(scratch, undefined, (l) => lines.push(l))).toBe(0);
    const lib = join(scratch, 'capos/abi/src/lib.rs');
    // clippy::needless_return, a warn-by-default style lint
    await writeFile(lib, `${await readFile(lib, 'utf8')}\npub fn clippy_fixture() -> u32 {\n    return 1;\n}\n`);
    expect(await runClippy(scratch, undefined, (l) => lines.push(l))).not.toBe(0);
    expect(lines.join('\n')).toContain('clippy: capos host: FAILED');
  }, 120_000);
});
