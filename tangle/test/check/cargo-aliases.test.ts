// capos/.cargo/config.toml's `cargo build-demos-capos` builds what `npm run build` builds for capOS, the same way:
// every native program but the kernel, with the build's target and RUSTFLAGS (tangle/build/cargo.ts).
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { CAPOS_RUSTFLAGS, CAPOS_TARGET, isCaposPackageDir } from '../../build/cargo.js';
import { repoRoot } from '../../cli/root.js';

const root = repoRoot();

async function alias(name: string): Promise<string> {
  const config = await readFile(join(root, 'capos/.cargo/config.toml'), 'utf8');
  const line = config.split('\n').find((l) => l.startsWith(`${name} = [`));
  if (!line) throw new Error(`no alias ${name} in capos/.cargo/config.toml`);
  return line;
}

describe('cargo aliases', () => {
  test('build-demos-capos: every capOS program but the kernel, target and RUSTFLAGS as the build', async () => {
    const line = await alias('build-demos-capos');
    const flags = JSON.parse(/'build\.rustflags=(\[.*?\])'/.exec(line)?.[1] ?? '[]') as string[];
    expect(flags.join(' ')).toBe(CAPOS_RUSTFLAGS);
    expect(line).toContain(`"--target", "${CAPOS_TARGET}"`);
    const pkgs = [...line.matchAll(/"-p", "([^"]+)"/g)].map((m) => m[1]).sort();
    const meta = await execa('cargo', ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', 'capos/Cargo.toml'], { cwd: root });
    const programs = (JSON.parse(meta.stdout) as { packages: { name: string; manifest_path: string; targets: { kind: string[] }[] }[] }).packages
      .filter((p) => {
        const dir = relative(root, dirname(p.manifest_path)).split(sep).join('/');
        return isCaposPackageDir(dir) && dir !== 'capos/kernel';
      })
      .filter((p) => p.targets.some((t) => t.kind.includes('bin')))
      .map((p) => p.name)
      .sort();
    expect(pkgs).toEqual(programs);
  });

  test('test-config and test-lib are host tests into the folder npm run test:cargo uses', async () => {
    for (const name of ['test-config', 'test-lib']) expect(await alias(name)).toMatch(/^[\w-]+ = \["test", "--target-dir", "\.\.\/build\/cargo\/host", /);
  });
});
