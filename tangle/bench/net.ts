// The W.6 load figures next to a host reference (chapter W.6): the same WASI HTTP server, build/demos/wasi-net.wasm,
// faces the same burst (2,000 requests, 16 at a time, one connection each) inside capOS, through QEMU's forwarded
// port, and natively under upstream wasmi_cli 2.0.0 with --tcplisten. wasmi_cli is bench-only: installed here, once,
// into a cache folder (never by CI set-up). Prints one table; writes results/bench/net.json.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { HostAction } from '../parse/model.js';
import { writeAtomic } from '../build/stamp.js';
import { imagePath } from '../build/images.js';
import { chooseAccelerator } from '../smoke/accel.js';
import { burst, freePort, get, HostActions } from '../smoke/host.js';
import { boot } from '../smoke/qemu.js';
import { KERNEL } from '../smoke/runner.js';
import { table } from './measure.js';

export const WASMI_CLI_VERSION = '2.0.0';
const WASMI_ROOT = join(homedir(), '.cache', 'capos-bench', `wasmi_cli-${WASMI_CLI_VERSION}`);
/** wasmi_cli's executable is called `wasmi`. */
export const WASMI_CLI = join(WASMI_ROOT, 'bin', 'wasmi');
const MODULE = 'build/demos/wasi-net.wasm';
const MANIFEST = 'manifests/system-wasi-net-load.cue';
export const NET_RESULT = 'results/bench/net.json';
const COUNT = 2000;
const CONCURRENCY = 16;

/** Installs wasmi_cli 2.0.0 unless that version is already in the cache (run outside the repo, whose cargo config
 * points crates.io at vendor/). */
export async function ensureWasmiCli(log: (l: string) => void): Promise<void> {
  if (existsSync(WASMI_CLI)) {
    const v = await execa(WASMI_CLI, ['--version'], { reject: false });
    if (v.stdout.includes(WASMI_CLI_VERSION)) return;
  }
  log(`  installing wasmi_cli ${WASMI_CLI_VERSION} into ${WASMI_ROOT} (cargo install, once)`);
  await mkdir(WASMI_ROOT, { recursive: true });
  await execa('nice', ['cargo', 'install', 'wasmi_cli', '--version', WASMI_CLI_VERSION, '--locked', '--root', WASMI_ROOT], {
    cwd: WASMI_ROOT,
    stdio: 'inherit',
    env: { RUSTFLAGS: '' },
  });
}

/** Burst figures parsed from host.ts's lines. */
export interface BurstFigures {
  ok: number;
  errors: number;
  lost: number;
  doubled: number;
  rps: number;
  p50: number;
  p99: number;
  seconds: number;
}

export function parseBurst(lines: string[]): BurstFigures | undefined {
  const counts = lines.map((l) => /answered correctly, (\d+) errors, (\d+) wrong, (-?\d+) lost, (\d+) doubled$/.exec(l)).find(Boolean);
  const ok = lines.map((l) => /: (\d+) answered correctly/.exec(l)).find(Boolean);
  const fig = lines.map((l) => /burst figures: ([\d.]+) requests\/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms, ([\d.]+) s$/.exec(l)).find(Boolean);
  if (!counts || !ok || !fig) return undefined;
  return {
    ok: Number(ok[1]),
    errors: Number(counts[1]) + Number(counts[2]),
    lost: Number(counts[3]),
    doubled: Number(counts[4]),
    rps: Number(fig[1]),
    p50: Number(fig[2]),
    p99: Number(fig[3]),
    seconds: Number(fig[4]),
  };
}

/** The capOS side: boots the load manifest with the forwarded port and runs the same burst as run-wasi-net-load. */
async function capos(root: string): Promise<string[]> {
  const image = { kernel: KERNEL, initrd: imagePath(MANIFEST) };
  const accel = await chooseAccelerator(image, root);
  const hostPort = await freePort();
  const actions: HostAction[] = [
    { kind: 'burst', line: 0, after: '[wasm-host] socket fd 3: listen 80', path: '/n', count: COUNT, concurrency: CONCURRENCY },
    { kind: 'http', line: 0, after: '[host] burst /n finished', path: '/quit' },
  ];
  const host = new HostActions(actions, hostPort);
  const out = await boot({ ...image, net: { hostPort } }, { accel: accel.accel, timeoutMs: 600_000, cwd: root, host });
  if (out.timedOut || out.exitStatus !== 0) throw new Error(`capOS boot failed (${out.timedOut ? 'timeout' : `exit ${out.exitStatus}`})`);
  return out.transcript;
}

/** The host reference: wasmi_cli with the server's listener pre-opened on a free port as fd 3. */
async function wasmi(root: string): Promise<string[]> {
  const port = await freePort();
  const child = execa(WASMI_CLI, ['run', '--tcplisten', `127.0.0.1:${port}`, MODULE, '--quiet'], { cwd: root, reject: false, all: true });
  try {
    // wait until it listens
    for (let i = 0; i < 100; i++) {
      try {
        await get(port, '/n/0', 1000);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const lines = await burst(port, '/n', COUNT, CONCURRENCY);
    await get(port, '/quit').catch(() => undefined);
    return lines;
  } finally {
    const r = await Promise.race([child, new Promise((r) => setTimeout(r, 10_000))]);
    if (r === undefined) child.kill('SIGKILL');
  }
}

export async function benchNet(root: string, log: (l: string) => void): Promise<number> {
  log(`\nHTTP burst, ${COUNT} requests, ${CONCURRENCY} at a time, one connection each (chapter W.6):`);
  const errors: string[] = [];
  const rows: [string, BurstFigures | undefined][] = [];
  try {
    rows.push(['capos-wasm in capOS (wasmi, TCG, via hostfwd)', parseBurst(await capos(root))]);
  } catch (e) {
    errors.push(`capOS: ${(e as Error).message}`);
  }
  try {
    await ensureWasmiCli(log);
    rows.push([`wasmi_cli ${WASMI_CLI_VERSION} --tcplisten (native)`, parseBurst(await wasmi(root))]);
  } catch (e) {
    errors.push(`wasmi_cli: ${(e as Error).message}`);
  }
  const fmt = (f: BurstFigures | undefined) =>
    f ? [String(f.ok), String(f.errors + f.lost), f.rps.toFixed(1), f.p50.toFixed(1), f.p99.toFixed(1), f.seconds.toFixed(1)] : ['-', '-', '-', '-', '-', '-'];
  for (const l of table(
    ['runner', 'ok', 'errors+lost', 'req/s', 'p50 ms', 'p99 ms', 's'],
    rows.map(([n, f]) => [n, ...fmt(f)]),
  ))
    log(`  ${l}`);
  for (const e of errors) log(`  ERROR: ${e}`);
  await writeAtomic(
    join(root, NET_RESULT),
    `${JSON.stringify(
      { schemaVersion: 1, count: COUNT, concurrency: CONCURRENCY, rows: rows.map(([runner, f]) => ({ runner, ...f })), errors, at: new Date().toISOString() },
      null,
      2,
    )}\n`,
  );
  log(`  → ${NET_RESULT}`);
  return errors.length;
}
