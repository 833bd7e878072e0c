// The Linux guest's initramfs: busybox as every command, an /init shell script that the caller writes, and the
// programs to run, each with the shared libraries `ldd` says it needs copied to the same paths (so a dynamically
// linked host runner runs unchanged). Written as gzip-compressed cpio newc into the cache, named by the hash of its
// contents, so an unchanged set of programs is not packed again.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { writeCpio, type CpioEntry } from './cpio.js';

/** A host file placed in the guest at `guestPath` (absolute); `withLibraries` copies what `ldd` lists for it too. */
export interface GuestProgram {
  host: string;
  guestPath: string;
  mode?: number;
  withLibraries?: boolean;
}

export interface InitramfsSpec {
  busybox: string;
  /** the shell script run as /init (busybox sh); it must end by powering the guest off */
  init: string;
  programs: GuestProgram[];
}

export class InitramfsError extends Error {}

// Directories busybox --install -s fills, plus the mount points the init script uses.
const BASE_DIRS = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'run'];

/** Absolute paths of the shared libraries (and the dynamic loader) a binary needs; [] for a static binary. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const r = await execa('ldd', [binary], { reject: false, encoding: 'utf8' });
  const out = String(r.stdout) + String(r.stderr);
  if (/not a dynamic executable|statically linked/.test(out)) return [];
  if (r.exitCode !== 0) throw new InitramfsError(`ldd ${binary} failed: ${out.trim().slice(-300)}`);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    if (/=> not found/.test(line)) throw new InitramfsError(`${binary} needs a library the host lacks: ${line.trim()}`);
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return [...new Set(libs)];
}

function addParents(path: string, dirs: Set<string>, entries: CpioEntry[]): void {
  const parent = posix.dirname(path);
  if (parent === '.' || dirs.has(parent)) return;
  addParents(parent, dirs, entries);
  dirs.add(parent);
  entries.push({ kind: 'dir', path: parent });
}

/** The archive's entries, parents before children. */
export async function initramfsEntries(spec: InitramfsSpec): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  for (const d of BASE_DIRS) {
    dirs.add(d);
    entries.push({ kind: 'dir', path: d });
  }
  // The kernel opens /dev/console for /init's stdio before any devtmpfs is mounted, so the node must be in the archive.
  entries.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ kind: 'file', path: 'bin/busybox', data: await readFile(spec.busybox), mode: 0o755 });
  entries.push({ kind: 'file', path: 'init', data: new TextEncoder().encode(spec.init), mode: 0o755 });
  const files = new Map<string, { host: string; mode: number }>();
  for (const p of spec.programs) {
    if (!p.guestPath.startsWith('/')) throw new InitramfsError(`guest path must be absolute: ${p.guestPath}`);
    if (!existsSync(p.host)) throw new InitramfsError(`no such file for the guest: ${p.host} (build it first)`);
    files.set(p.guestPath.slice(1), { host: p.host, mode: p.mode ?? 0o755 });
    if (p.withLibraries) for (const lib of await sharedLibraries(p.host)) files.set(lib.slice(1), { host: lib, mode: 0o755 });
  }
  for (const [path, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    addParents(path, dirs, entries);
    entries.push({ kind: 'file', path, data: await readFile(f.host), mode: f.mode }); // readFile follows symlinks
  }
  return entries;
}

/** Packs the initramfs into `<cacheDir>/initramfs/<hash>.cpio.gz` (reused when present) and returns its path. */
export async function buildInitramfs(spec: InitramfsSpec, cacheDir: string): Promise<string> {
  const archive = writeCpio(await initramfsEntries(spec));
  const hash = createHash('sha256').update(archive).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'initramfs');
  const out = join(dir, `${hash}.cpio.gz`);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, gzipSync(archive, { level: 6 }));
  await rename(tmp, out);
  await prune(dir, 4);
  return out;
}

/** Keeps the `keep` newest archives: each differs only in the benchmark programs, so old ones are garbage. */
async function prune(dir: string, keep: number): Promise<void> {
  const all = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.cpio.gz')).map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })));
  for (const { f } of all.sort((a, b) => b.t - a.t).slice(keep)) await rm(join(dir, f), { force: true });
}
