// Write tangled files: only those whose bytes changed, each through a temp file and a rename,
// and all-or-nothing across the set. Everything is staged first; if staging fails the temps are
// removed and the tree is left byte-identical; if a rename fails the renamed files are restored.
// Nothing is deleted that this run did not write.
import { mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { MapRange, TangledFile } from '../parse/model.js';
import { badRelativePath } from '../parse/paths.js';

export const MAP_PATH = 'build/tangle-map.json';

export interface WriteOptions {
  check?: boolean;
}
export interface WriteResult {
  written: string[];
  unchanged: string[];
}

interface Planned {
  path: string;
  content: string;
  old: string | null;
  mode: number;
  temp?: string;
}

export class WriteError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write ${path}: ${(cause as Error).message ?? String(cause)}; nothing was changed`, { cause });
    this.name = 'WriteError';
  }
}

/** `written` lists the files that changed (in check mode: that would change, i.e. drift). */
export async function writeTangled(root: string, files: readonly TangledFile[], options: WriteOptions = {}): Promise<WriteResult> {
  const written: string[] = [];
  const unchanged: string[] = [];
  const changed: Planned[] = [];
  for (const file of files) {
    const bad = badRelativePath(file.path);
    if (bad) throw new WriteError(file.path, new Error(`refusing ${bad}`));
    const old = await readExisting(root, file.path);
    if (old === file.content) {
      unchanged.push(file.path);
      continue;
    }
    written.push(file.path);
    changed.push({ path: file.path, content: file.content, old, mode: /^#!\s*\//.test(file.content) ? 0o755 : 0o644 });
  }
  if (options.check) return { written, unchanged };

  const map = mapJson(files);
  const oldMap = await readExisting(root, MAP_PATH);
  if (oldMap !== map) changed.push({ path: MAP_PATH, content: map, old: oldMap, mode: 0o644 });
  await commit(root, changed);
  return { written, unchanged };
}

/** Files the previous run's tangle map lists that no chapter writes any more (left in place). */
export async function staleFiles(root: string, files: readonly TangledFile[]): Promise<string[]> {
  const old = await readExisting(root, MAP_PATH).catch(() => null);
  if (old === null) return [];
  let previous: Record<string, unknown>;
  try {
    previous = JSON.parse(old) as Record<string, unknown>;
  } catch {
    return [];
  }
  const current = new Set(files.map((f) => f.path));
  return Object.keys(previous)
    .filter((path) => !current.has(path))
    .sort();
}

export function mapJson(files: readonly TangledFile[]): string {
  const map: Record<string, MapRange[]> = {};
  for (const file of files) map[file.path] = file.ranges;
  return `${JSON.stringify(map, null, 1)}\n`;
}

/** Where `path` is staged: next to it (so the rename stays on one file system), hidden, per process. */
export function tempPathFor(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.${process.pid}.tmp-tangle`);
}

async function readExisting(root: string, path: string): Promise<string | null> {
  try {
    return await readFile(join(root, path), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new WriteError(path, error);
  }
}

async function commit(root: string, planned: Planned[]): Promise<void> {
  const createdDirs: string[] = [];
  try {
    for (const item of planned) {
      const target = join(root, item.path);
      const made = await mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
        throw new WriteError(item.path, error);
      });
      if (made) createdDirs.push(made);
      item.temp = join(root, tempPathFor(item.path));
      await writeFile(item.temp, item.content, { mode: await modeFor(target, item.mode), flag: 'w' }).catch((error: unknown) => {
        throw new WriteError(item.path, error);
      });
    }
  } catch (error) {
    await removeTemps(planned);
    await removeDirs(createdDirs);
    throw error;
  }
  const done: Planned[] = [];
  try {
    for (const item of planned) {
      await rename(item.temp!, join(root, item.path)).catch((error: unknown) => {
        throw new WriteError(item.path, error);
      });
      done.push(item);
    }
  } catch (error) {
    await restore(root, done);
    await removeTemps(planned.filter((item) => !done.includes(item)));
    await removeDirs(createdDirs);
    throw error;
  }
}

/** Keep the mode of a file we replace (someone may have made a script executable). */
async function modeFor(target: string, fallback: number): Promise<number> {
  try {
    return (await stat(target)).mode & 0o777;
  } catch {
    return fallback;
  }
}

async function removeTemps(planned: Planned[]): Promise<void> {
  for (const item of planned) if (item.temp) await unlink(item.temp).catch(() => undefined);
}

/** Remove the directories this run created, deepest first, only while they are empty. */
async function removeDirs(createdDirs: string[]): Promise<void> {
  for (const top of [...createdDirs].reverse()) await rmdirTree(top);
}

async function rmdirTree(dir: string): Promise<void> {
  // mkdir -p made a chain of empty directories under `top`; rmdir refuses non-empty ones.
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await rmdirTree(join(dir, entry.name));
  await rmdir(dir).catch(() => undefined);
}

async function restore(root: string, done: Planned[]): Promise<void> {
  for (const item of done.reverse()) {
    const target = join(root, item.path);
    if (item.old === null) await unlink(target).catch(() => undefined);
    else await writeFile(target, item.old).catch(() => undefined);
  }
}
