// Biome with the repository's biome.jsonc, on a scratch tree: the TypeScript as it is passes, a lint finding fails
// `npm run fmt -- --check`, and so does a formatting difference.
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { runBiome } from '../../check/fmt.js';
import { repoRoot } from '../../cli/root.js';

const root = repoRoot();
const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tree(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'biome-'));
  scratch.push(dir);
  await mkdir(join(dir, 'tangle'));
  await copyFile(join(root, 'biome.jsonc'), join(dir, 'biome.jsonc'));
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'tangle/a.ts'), source);
  return dir;
}

describe('runBiome', () => {
  test('the repository passes', async () => {
    expect(await runBiome(root, true, () => {})).toBe(0);
  });

  test('a lint finding fails the check, naming the file and the rule', async () => {
    const lines: string[] = [];
    const dir = await tree('export function last(xs: number[]): number {\n  let n;\n  n = xs.length;\n  return n;\n}\n');
    expect(await runBiome(dir, true, (l) => lines.push(l), ['tangle'])).not.toBe(0);
    expect(lines.join('\n')).toMatch(/tangle\/a\.ts:2:\d+ lint\/suspicious\/noImplicitAnyLet/);
  });

  test('a formatting difference fails the check', async () => {
    const lines: string[] = [];
    const dir = await tree('export const pair = {a:1, b:"two"};\n');
    expect(await runBiome(dir, true, (l) => lines.push(l), ['tangle'])).not.toBe(0);
    expect(lines.join('\n')).toMatch(/tangle\/a\.ts format/);
    expect(await runBiome(dir, false, () => {}, ['tangle'])).toBe(0);
    expect(await runBiome(dir, true, () => {}, ['tangle'])).toBe(0);
  });
});
