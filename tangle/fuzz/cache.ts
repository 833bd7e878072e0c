// A content-keyed cache of the built fuzz binaries, outside the clone (chapter A.9, "Running the fuzzers").
// cargo fingerprints the book's own crates by absolute path, so a fresh clone rebuilds them even with a shared
// target directory. Here the key is a hash of what determines the binaries: every file of every path package the
// fuzz workspace compiles, the cargo configuration, the tools' versions and the build's flags. An entry is a folder
// `<bins>/<key>/` holding the binaries and a manifest of their sizes and hashes, written last; a folder whose
// manifest is missing, unreadable or does not match its files is not an entry.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { execa } from 'execa';

/** Bumped when the key's recipe or the entry's layout changes, so old entries stop matching. */
export const CACHE_FORMAT = 'capos-fuzz-bins 1';

/** What a key is computed from, passed in whole: no key input is read from anywhere else. */
export interface KeyInputs {
  root: string;
  /** folders (relative to root) whose every file is an input: the fuzz crate and its path dependencies */
  packageDirs: string[];
  /** paths (relative to root) under those folders that are not inputs, e.g. the kept crash inputs */
  skip: string[];
  /** single files (relative to root) that are inputs if present, e.g. the cargo configuration */
  extraFiles: string[];
  /** named facts: tool versions, build flags, the environment the build sees */
  facts: Record<string, string>;
}

/** The path packages of a `cargo metadata` answer (those without a registry source), as folders relative to root. */
export function pathPackageDirs(metadata: { packages: { source: string | null; manifest_path: string }[] }, root: string): string[] {
  const dirs = metadata.packages.filter((p) => p.source === null).map((p) => relative(root, join(p.manifest_path, '..')).split(sep).join('/'));
  return [...new Set(dirs)].sort();
}

/** Asks cargo (offline) which path packages the fuzz workspace in `fuzzDir` compiles. */
export async function cargoPathPackages(root: string, fuzzDir: string): Promise<string[]> {
  const r = await execa(
    'cargo',
    ['metadata', '--format-version', '1', '--offline', '--filter-platform', 'x86_64-unknown-linux-gnu', '--manifest-path', join(fuzzDir, 'Cargo.toml')],
    { cwd: root },
  );
  return pathPackageDirs(JSON.parse(r.stdout), root);
}

/** Build output and hidden folders are never inputs. */
function skippedName(name: string): boolean {
  return name === 'target' || name.startsWith('.');
}

/** Every file under `dir` (relative to root, '/'-separated), minus skipped names and `skip` paths. */
async function filesUnder(root: string, dir: string, skip: Set<string>): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (skippedName(e.name) || skip.has(path)) continue;
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(join(root, path))).isDirectory());
    if (isDir) out.push(...(await filesUnder(root, path, skip)));
    else out.push(path);
  }
  return out;
}

/** The input files of a key, sorted and without duplicates (nested packages share files). */
export async function inputFiles(inputs: KeyInputs): Promise<string[]> {
  const skip = new Set(inputs.skip);
  const files = new Set<string>();
  for (const dir of inputs.packageDirs) for (const f of await filesUnder(inputs.root, dir, skip)) files.add(f);
  for (const f of inputs.extraFiles) if (existsSync(join(inputs.root, f))) files.add(f);
  return [...files].sort();
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The key: a hash over the facts and over every input file's path and content. */
export async function cacheKey(inputs: KeyInputs): Promise<string> {
  const h = createHash('sha256').update(`${CACHE_FORMAT}\n`);
  for (const name of Object.keys(inputs.facts).sort()) h.update(`fact ${name}=${JSON.stringify(inputs.facts[name])}\n`);
  for (const f of await inputFiles(inputs)) h.update(`file ${f} ${sha256(await readFile(join(inputs.root, f)))}\n`);
  return h.digest('hex').slice(0, 32);
}

/** A command's output as a fact; a missing tool is a fact too ("absent"), and the build would then fail anyway. */
async function toolVersion(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : 'absent';
}

/** The environment variables cargo and rustc take flags or profile settings from, as the build sees them. */
export function buildEnvFacts(env: NodeJS.ProcessEnv): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && /^(RUSTFLAGS|RUSTC|RUSTC_WRAPPER|CARGO_ENCODED_RUSTFLAGS|CARGO_BUILD_.*|CARGO_PROFILE_.*)$/.test(name)) {
      facts[`env ${name}`] = value;
    }
  }
  return facts;
}

/** `$CARGO_HOME/config.toml` (cargo reads it on every build; it may set flags), or "absent". */
export async function cargoHomeConfigFact(env: NodeJS.ProcessEnv): Promise<string> {
  const path = join(env.CARGO_HOME ?? join(homedir(), '.cargo'), 'config.toml');
  return existsSync(path) ? sha256(await readFile(path)) : 'absent';
}

/** The tools behind a build: the toolchain's rustc and cargo, cargo-fuzz, and the build scripts' compilers. */
export async function toolFacts(toolchain: string, cargoFuzzVersion: string): Promise<Record<string, string>> {
  return {
    rustc: await toolVersion('rustc', [`+${toolchain}`, '-vV']),
    cargo: await toolVersion('cargo', [`+${toolchain}`, '-V']),
    'cargo-fuzz': cargoFuzzVersion,
    // capos-schema's build script runs capnp, capos-wasm's runs wat2wasm
    capnp: await toolVersion('capnp', ['--version']),
    wat2wasm: await toolVersion('wat2wasm', ['--version']),
  };
}

interface Manifest {
  format: string;
  key: string;
  files: { name: string; size: number; sha256: string }[];
}

/** True when `dir` holds a whole entry for `key`: a readable manifest naming exactly `names`, each file matching. */
async function entryIsWhole(dir: string, key: string, names: string[]): Promise<boolean> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return false;
  }
  if (manifest.format !== CACHE_FORMAT || manifest.key !== key) return false;
  const listed = manifest.files.map((f) => f.name).sort();
  if (listed.join('\n') !== [...names].sort().join('\n')) return false;
  for (const f of manifest.files) {
    const path = join(dir, f.name);
    if (!existsSync(path) || (await stat(path)).size !== f.size) return false;
    if (sha256(await readFile(path)) !== f.sha256) return false;
  }
  return true;
}

/**
 * The entry folder for `key` if it is whole. A folder under the key's name that is not whole (a copy cut short,
 * a damaged file) is removed, so that the build after the miss can store a good one there.
 */
export async function lookup(binsDir: string, key: string, names: string[]): Promise<string | undefined> {
  const dir = join(binsDir, key);
  if (!existsSync(dir)) return undefined;
  if (await entryIsWhole(dir, key, names)) return dir;
  await rm(dir, { recursive: true, force: true });
  return undefined;
}

/** Copies an entry's binaries into `destDir` (a fresh copy each, so nothing written there can alter the entry). */
export async function install(entryDir: string, names: string[], destDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  for (const name of names) {
    const dest = join(destDir, name);
    await rm(dest, { force: true });
    await copyFile(join(entryDir, name), dest);
    await chmod(dest, 0o755);
  }
}

/**
 * Stores the binaries `files` (name to built path) under `key`: copied into a temporary folder beside the entries,
 * the manifest written last, then renamed into place in one step. `stillOurs`, asked after the copy, may veto the
 * store (the target directory is shared, and another clone's build may have replaced the binaries meanwhile).
 * When another run stored the key first, its entry stays and this copy is dropped. Returns whether it stored.
 */
export async function store(
  binsDir: string,
  key: string,
  files: Record<string, string>,
  stillOurs: () => Promise<boolean> = async () => true,
): Promise<boolean> {
  await mkdir(binsDir, { recursive: true });
  const tmp = join(binsDir, `.tmp-${key}-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  try {
    const manifest: Manifest = { format: CACHE_FORMAT, key, files: [] };
    for (const [name, path] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
      await copyFile(path, join(tmp, name));
      const bytes = await readFile(join(tmp, name));
      manifest.files.push({ name, size: bytes.length, sha256: sha256(bytes) });
    }
    if (!(await stillOurs())) return false;
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmp, join(binsDir, key));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * True when cargo's dep-info beside each binary (`<name>.d`) names sources of the crate in this clone, i.e. the
 * binaries there were built from this tree and not by a build in another clone sharing the target directory.
 */
export async function builtFrom(releaseDir: string, names: string[], crateDir: string): Promise<boolean> {
  for (const name of names) {
    const d = join(releaseDir, `${name}.d`);
    if (!existsSync(d)) return false;
    const paths = (await readFile(d, 'utf8')).split(/\s+/);
    if (!paths.some((p) => p.startsWith(`${crateDir}/`))) return false;
  }
  return true;
}
