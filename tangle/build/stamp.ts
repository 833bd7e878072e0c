// Input hashing and stamp files: a step is up to date when the hash of its inputs equals the one stored under
// build/.stamps/<step>.json and every output it recorded still exists.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export interface Stamp {
  hash: string;
  outputs: string[];
  at: string;
}

export const STAMP_DIR = 'build/.stamps';

/** Lists files under `dir` (repo-relative paths, sorted), skipping `skip` directory names (e.g. target). */
export async function listFiles(root: string, dir: string, skip: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  async function walk(abs: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      if (skip.has(e.name)) continue;
      const p = join(abs, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  }
  await walk(join(root, dir));
  return out.sort();
}

/**
 * sha256 digests of file contents, each kept while the file's identity (device, inode, size, modification time in
 * nanoseconds) stays the same. One is made per build run and passed to every step, so the binaries every image step
 * lists as inputs are read and hashed once per run, not once per image.
 */
export class FileDigests {
  private readonly known = new Map<string, { id: string; digest: Buffer }>();

  /** The digest of the file's bytes, or undefined when there is no such file. */
  async of(path: string): Promise<Buffer | undefined> {
    let st: BigIntStats;
    try {
      st = await stat(path, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    const seen = this.known.get(path);
    if (seen?.id === id) return seen.digest;
    const digest = createHash('sha256')
      .update(await readFile(path))
      .digest();
    this.known.set(path, { id, digest });
    return digest;
  }
}

/** sha256 over the strings in `extra` and the (path, content digest) of every file; a missing file hashes as missing. */
export async function hashInputs(root: string, files: string[], extra: string[] = [], digests = new FileDigests()): Promise<string> {
  const h = createHash('sha256');
  for (const x of extra) h.update(x).update('\0');
  for (const f of [...new Set(files)].sort()) {
    h.update(f).update('\0');
    const digest = await digests.of(join(root, f));
    h.update(digest ?? '\u0001missing');
    h.update('\0');
  }
  return h.digest('hex');
}

function stampPath(root: string, step: string): string {
  return join(root, STAMP_DIR, `${step.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

export async function readStamp(root: string, step: string): Promise<Stamp | null> {
  try {
    const j = JSON.parse(await readFile(stampPath(root, step), 'utf8')) as Partial<Stamp>;
    if (typeof j.hash !== 'string' || !Array.isArray(j.outputs)) return null;
    return { hash: j.hash, outputs: j.outputs.filter((o): o is string => typeof o === 'string'), at: String(j.at ?? '') };
  } catch {
    return null;
  }
}

export async function writeStamp(root: string, step: string, stamp: Stamp): Promise<void> {
  await writeAtomic(stampPath(root, step), `${JSON.stringify(stamp, null, 2)}\n`);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** temp file + rename, so a reader never sees half a file; a failed write leaves no temp file behind */
export async function writeAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
