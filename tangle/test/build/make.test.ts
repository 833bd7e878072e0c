// The Makefile's upstream entry points: `make help` lists a `make run-<smoke>` target for every smoke the chapters
// define (read from the book, not from a list kept by hand), and each target is the npm script it wraps.
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { loadBook } from '../../index.js';
import { repoRoot } from '../../cli/root.js';
import { CHECK_TARGETS } from '../../cli/run.js';

const root = repoRoot();

describe('make targets', () => {
  test('make help names every smoke of the book, then run-smoke', async () => {
    const book = await loadBook(root);
    const smokes = book.chapters.flatMap((c) => c.smokes.map((s) => s.name));
    expect(smokes.length).toBeGreaterThan(10);
    const help = await execa('make', ['--no-print-directory', 'help'], { cwd: root });
    const targets = help.stdout.split('\n').map((l) => l.match(/^make (\S+)/)?.[1]);
    expect(targets).toEqual([...smokes, 'run-smoke', ...CHECK_TARGETS.map(([t]) => t)]);
  }, 120_000);

  test('a run target wraps npm run run, and run-smoke the whole harness', async () => {
    const dry = (t: string) => execa('make', ['--no-print-directory', '-n', t], { cwd: root }).then((r) => r.stdout.trim());
    expect(await dry('run-wasi-hello-c')).toBe('npm run run -- run-wasi-hello-c');
    expect(await dry('run-capos-blk')).toBe('npm run run -- run-capos-blk');
    expect(await dry('run-smoke')).toBe('npm run smoke');
    expect(await dry('generated-code-check')).toBe('npm run generated-code-check');
    expect(await dry('clippy')).toBe('npm run clippy');
    expect(await dry('fmt-check')).toBe('npm run fmt -- --check');
    expect((await dry('capos-rt-check')).split('\n')).toEqual([
      'env -u RUSTFLAGS cargo test --manifest-path capos/Cargo.toml --target-dir build/cargo/host -p capos-rt',
      'npm run clippy -- capos-rt',
    ]);
  });

  test('a target no chapter defines fails with the list of smokes', async () => {
    const r = await execa('make', ['--no-print-directory', 'run-no-such-smoke'], { cwd: root, reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/usage: npm run run -- <name>[\s\S]*smokes: run-wasm-host, /);
  }, 120_000);
});
