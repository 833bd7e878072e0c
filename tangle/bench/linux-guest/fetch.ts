// The Linux guest's parts that come from Debian, fetched at bench time (never by `npm test`): the cloud kernel that the
// `linux-image-cloud-amd64` metapackage depends on, and `busybox-static` for the initramfs. Each is fetched with
// `apt-get download` (no root needed, nothing installed), unpacked with `dpkg-deb -x`, and cached outside the clone
// under a directory named for the exact package and version, so a second run reuses it and a new version is a new key.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export class GuestFetchError extends Error {}

/** One unpacked Debian package in the cache. */
export interface DebPackage {
  name: string;
  version: string;
  dir: string;
}

/** `$CAPOS_BENCH_CACHE`, else `$XDG_CACHE_HOME/capos-bench`, else `~/.cache/capos-bench`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAPOS_BENCH_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'capos-bench');
}

async function apt(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await execa(cmd, args, { reject: false, encoding: 'utf8', timeout: 300_000, ...(cwd ? { cwd } : {}) });
  if (r.exitCode !== 0) {
    throw new GuestFetchError(`${cmd} ${args.join(' ')} failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr).trim().slice(-400)}`);
  }
  return String(r.stdout);
}

/** The versioned kernel package a metapackage depends on, e.g. linux-image-cloud-amd64 → linux-image-6.1.0-57-cloud-amd64. */
export async function resolveDependency(meta: string, pattern: RegExp): Promise<string> {
  const out = await apt('apt-cache', ['depends', meta]);
  for (const line of out.split('\n')) {
    const m = /^\s*Depends:\s*(\S+)/.exec(line);
    if (m && pattern.test(m[1]!)) return m[1]!;
  }
  throw new GuestFetchError(`apt-cache depends ${meta} names no package matching ${pattern}; run apt-get update?`);
}

/** The version apt would download for a package (its candidate). */
export async function candidateVersion(name: string): Promise<string> {
  const out = await apt('apt-cache', ['policy', name]);
  const m = /Candidate:\s*(\S+)/.exec(out);
  if (!m || m[1] === '(none)') throw new GuestFetchError(`apt-cache policy ${name}: no candidate version; run apt-get update?`);
  return m[1]!;
}

/** Downloads and unpacks one package into `<cache>/<name>_<version>/root` unless it is there already. */
export async function fetchDeb(name: string, cache = defaultCacheDir(), log: (l: string) => void = () => {}): Promise<DebPackage> {
  const version = await candidateVersion(name);
  const key = `${name}_${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`;
  const dir = join(cache, key, 'root');
  if (existsSync(dir)) return { name, version, dir };
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, `.${key}-`));
  try {
    log(`  linux guest: apt-get download ${name}=${version} → ${join(cache, key)}`);
    await apt('apt-get', ['download', `${name}=${version}`], tmp);
    const debs = (await readdir(tmp)).filter((f) => f.endsWith('.deb'));
    if (debs.length !== 1) throw new GuestFetchError(`apt-get download ${name} left ${debs.length} .deb files in ${tmp}`);
    await apt('dpkg-deb', ['-x', join(tmp, debs[0]!), join(tmp, 'root')]);
    await mkdir(join(cache, key), { recursive: true });
    await rename(join(tmp, 'root'), dir); // atomic: a half-unpacked package never sits under its key
    return { name, version, dir };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface GuestKernel {
  package: DebPackage;
  vmlinuz: string;
}

/** Debian's cloud kernel: the package linux-image-cloud-amd64 depends on, and the vmlinuz inside it. */
export async function fetchCloudKernel(cache = defaultCacheDir(), log: (l: string) => void = () => {}): Promise<GuestKernel> {
  const name = await resolveDependency('linux-image-cloud-amd64', /^linux-image-6\.1\.0-[0-9]+-cloud-amd64$/);
  const pkg = await fetchDeb(name, cache, log);
  const boot = join(pkg.dir, 'boot');
  const vmlinuz = (await readdir(boot)).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new GuestFetchError(`${name} ${pkg.version} has no boot/vmlinuz-* (looked in ${boot})`);
  return { package: pkg, vmlinuz: join(boot, vmlinuz) };
}

/** busybox-static's statically linked /bin/busybox. */
export async function fetchBusybox(cache = defaultCacheDir(), log: (l: string) => void = () => {}): Promise<{ package: DebPackage; binary: string }> {
  const pkg = await fetchDeb('busybox-static', cache, log);
  const binary = join(pkg.dir, 'bin/busybox');
  if (!existsSync(binary)) throw new GuestFetchError(`busybox-static ${pkg.version} has no bin/busybox (looked in ${pkg.dir})`);
  return { package: pkg, binary };
}
