// Shared test helpers: fixture paths, scratch copies of fixtures, and a byte-exact tree hash.
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A scratch copy of a fixture book, so tests that write never touch the fixtures. */
export async function scratchCopy(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tangle-${name}-`));
  await cp(fixture(name), dir, { recursive: true });
  return dir;
}

/** Every file and directory under `root` with the sha256 of each file's bytes. */
export async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const key = relative(root, path);
      if (entry.isDirectory()) {
        out[`${key}/`] = 'dir';
        await walk(path);
      } else
        out[key] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
    }
  }
  await walk(root);
  return out;
}

/** Runs a WASI module under node:wasi with no arguments or environment: what it wrote to stdout, and its exit code. */
export async function runUnderNodeWasi(file: string): Promise<{ stdout: string; code: number }> {
  const out = join(mkdtempSync(join(tmpdir(), 'wasi-out-')), 'stdout');
  writeFileSync(out, '');
  const fd = openSync(out, 'w');
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, stdout: fd, returnOnExit: true });
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(file)), wasi.getImportObject() as WebAssembly.Imports);
  const code = wasi.start(instance);
  closeSync(fd);
  return { stdout: readFileSync(out, 'utf8'), code };
}
