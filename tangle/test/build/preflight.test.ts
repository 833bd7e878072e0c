// A fresh clone's first build stops at once, in one line, naming what `npm run setup` would provide.
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { missingSetup, SETUP_COMMANDS, setupProblem } from '../../build/preflight.js';
import { repoRoot } from '../../cli/root.js';

describe('missingSetup', () => {
  test('a fresh clone lacks cue, the vendored crates, the tools and the go.sum of its Go demos', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fresh-clone-'));
    await mkdir(join(root, 'demos/guest-go'), { recursive: true });
    await writeFile(join(root, 'demos/guest-go/go.mod'), 'module guest\n');
    expect(await missingSetup(root, join(root, 'no-bin'))).toEqual([
      'build/tools/cue',
      '.cargo/config.toml (vendored crates)',
      ...SETUP_COMMANDS,
      'demos/guest-go/go.sum',
    ]);
    expect(await setupProblem(root, 'smoke', join(root, 'no-bin'))).toMatch(
      /^smoke: this clone is not set up \(missing build\/tools\/cue, .*\); run `npm run setup` first$/,
    );
  });

  test('once everything is there, nothing is missing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'set-up-clone-'));
    const bin = join(root, 'bin');
    await mkdir(join(root, 'build/tools'), { recursive: true });
    await mkdir(join(root, '.cargo'));
    await mkdir(bin);
    for (const tool of [join(root, 'build/tools/cue'), ...SETUP_COMMANDS.map((c) => join(bin, c))]) {
      await writeFile(tool, '#!/bin/sh\n');
      await chmod(tool, 0o755);
    }
    await writeFile(join(root, '.cargo/config.toml'), '');
    expect(await missingSetup(root, bin)).toEqual([]);
    expect(await setupProblem(root, 'smoke', bin)).toBeUndefined();
  });

  test('this clone, where setup ran before the tests, is set up', async () => {
    expect(await missingSetup(repoRoot())).toEqual([]);
  });
});
