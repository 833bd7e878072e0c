// Seed corpora from the book's own artifacts: built manifests, cue's JSON for them, the demo modules. Each seed is
// copied into the target's corpus under its content hash, so seeding twice adds nothing.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { SeedSource } from './targets.js';

async function filesUnder(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = await readdir(dir, { recursive: true, encoding: 'utf8' });
  return names
    .filter((n) => keep(basename(n)))
    .map((n) => join(dir, n))
    .sort();
}

/** The seed inputs of one kind, as bytes. `maxLen` drops inputs libFuzzer would truncate anyway. */
export async function seedInputs(root: string, source: SeedSource, maxLen: number): Promise<Buffer[]> {
  switch (source) {
    case 'none':
      return [];
    case 'manifest-bin':
      return readAll(await filesUnder(join(root, 'build/images'), (n) => n === 'manifest.bin'), maxLen);
    case 'demo-wasm':
      return readAll(await filesUnder(join(root, 'build/demos'), (n) => n.endsWith('.wasm')), maxLen);
    case 'manifest-json': {
      const cue = join(root, 'build/tools/cue');
      const manifests = await filesUnder(join(root, 'manifests'), (n) => /^system.*\.cue$/.test(n));
      const out: Buffer[] = [];
      for (const file of manifests) {
        // as mkmanifest runs it: in the file's folder, so the CUE module and its imports resolve
        const r = await execa(cue, ['export', '--out', 'json', basename(file)], { cwd: dirname(file), reject: false });
        if (r.exitCode === 0 && r.stdout.length <= maxLen) out.push(Buffer.from(r.stdout));
      }
      return out;
    }
  }
}

async function readAll(files: string[], maxLen: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const f of files) {
    if ((await stat(f)).size <= maxLen) out.push(await readFile(f));
  }
  return out;
}

/** Writes each input into `dir` named by its SHA-1 (libFuzzer's own naming); returns how many were new. */
export async function addToCorpus(dir: string, inputs: Buffer[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  let added = 0;
  for (const bytes of inputs) {
    const path = join(dir, createHash('sha1').update(bytes).digest('hex'));
    if (!existsSync(path)) {
      await writeFile(path, bytes);
      added++;
    }
  }
  return added;
}
