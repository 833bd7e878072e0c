// Runs one smoke end to end: create its disk (if it names one), boot each of its boots in order (twice for
// `differs`), check each transcript, and build the SmokeResult; then writes results/smoke/<name>.json atomically.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BootSpec, SmokeSpec, TangledFile } from '../parse/model.js';
import { imagePath } from '../build/images.js';
import { writeAtomic } from '../build/stamp.js';
import { bootSpecs, checkSmoke } from './check.js';
import { checkReplay, createLog, flipImage, logPath, replayStates } from './disk-actions.js';
import { expandComputed } from './computed.js';
import type { GitState } from './git.js';
import { boot, type Accelerator, type BootImage, type BootOutcome } from './qemu.js';
import { freePort, HostActions } from './host.js';
import { Wire } from './wire.js';
import { Origins } from './origins.js';
import { computeInputs, hashInputs, type BootRecord, type SmokeResult } from './result.js';
import { ledgerOfBoots } from './ledger.js';

export const KERNEL = 'build/capos/kernel';

/**
 * The bytes a smoke boots (kernel, then manifest.bin), as hashed into `inputs.image`; undefined when either is not
 * built, so a reader without build/ (a fixture site, a fresh clone) falls back to judging by the chapters.
 */
export function builtImageBytes(root: string, spec: SmokeSpec): Buffer | undefined {
  try {
    return Buffer.concat([readFileSync(join(root, KERNEL)), ...imageManifests(spec).map((m) => readFileSync(join(root, imagePath(m))))]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The first boot's image (what the accelerator probe and `npm run run` boot). */
export function imageFor(spec: SmokeSpec, boot?: BootSpec, disk?: string): BootImage {
  return { kernel: KERNEL, initrd: imagePath((boot ?? spec).manifest), ...(spec.cpu ? { cpu: spec.cpu } : {}), ...(disk ? { disk } : {}) };
}

/** Every manifest a smoke boots, first boot first, each once. */
export function imageManifests(spec: SmokeSpec): string[] {
  return [...new Set(bootSpecs(spec).map((b) => b.manifest))];
}

/** Where a smoke's disk lives while it runs (generated, under build/). */
export function diskPath(name: string): string {
  return `build/disks/${name}.img`;
}

/** A fresh sparse disk of `bytes` zero bytes, replacing any earlier one. */
export async function createDisk(path: string, bytes: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  const f = await open(path, 'w');
  try {
    await f.truncate(bytes);
  } finally {
    await f.close();
  }
}

export interface RunContext {
  root: string;
  tangled: TangledFile[];
  accel: Accelerator;
  git: GitState;
}

export async function runSmoke(spec: SmokeSpec, ctx: RunContext): Promise<SmokeResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const images = await Promise.all([KERNEL, ...imageManifests(spec).map(imagePath)].map((p) => readFile(join(ctx.root, p))));
  const opts = { accel: ctx.accel, timeoutMs: spec.timeout * 1000, cwd: ctx.root };
  const disk = spec.disk ? diskPath(spec.name) : undefined;
  if (spec.disk && disk) await createDisk(join(ctx.root, disk), spec.disk.bytes);
  const specs = bootSpecs(spec);
  const outcomes: BootOutcome[] = [];
  // Which spec each boot ran (a `replay` spec runs once per crash state), and the crash state it booted.
  const ran: number[] = [];
  const replayed: (Awaited<ReturnType<typeof replayStates>>[number] | undefined)[] = [];
  let before: Buffer | undefined;
  for (const [i, b] of specs.entries()) {
    const action = disk ? b.disk : undefined;
    const diskAbs = disk ? join(ctx.root, disk) : '';
    if (action?.kind === 'replay' && disk && before) {
      for (const state of await replayStates(before, join(ctx.root, logPath(disk)))) {
        await writeFile(diskAbs, state.image);
        outcomes.push(await boot(imageFor(spec, b, disk), opts));
        ran.push(i);
        replayed.push(state);
      }
      continue;
    }
    if (action?.kind === 'flip') await flipImage(diskAbs, action.target);
    let image = imageFor(spec, b, disk);
    if (action?.kind === 'log' && disk) {
      before = await readFile(diskAbs);
      await createLog(join(ctx.root, logPath(disk)));
      image = { ...image, diskLog: logPath(disk) };
    }
    if (spec.net === 'wire') {
      // The runner's end of the wire, fresh per boot; host actions belong to the first boot (chapter 19a).
      const wire = await Wire.open();
      const host = new HostActions(i === 0 ? (spec.host ?? []) : [], 0, wire);
      try {
        outcomes.push(await boot({ ...image, wire }, { ...opts, host }));
      } finally {
        await wire.close();
      }
    } else if (spec.net) {
      // A fresh free port per boot; host actions belong to the first boot.
      const hostPort = await freePort();
      const host = new HostActions(i === 0 ? (spec.host ?? []) : [], hostPort);
      const origins = await Origins.start(i === 0 ? (spec.origins ?? []) : [], (line) => host.record([line]));
      try {
        outcomes.push(await boot({ ...image, net: { hostPort, forwards: origins.forwards } }, { ...opts, host }));
      } finally {
        await origins.stop();
      }
    } else outcomes.push(await boot(image, opts));
    ran.push(i);
    replayed.push(undefined);
  }
  // Computed expectations run their tool now, after the boots, so the expected lines are the tool's of this moment.
  const expanded = await expandComputed(ctx.root, spec);
  const expandedSpecs = bootSpecs(expanded.spec);
  const plan = ran.map((i) => expandedSpecs[i]!);
  const checked = checkSmoke({ ...expanded.spec, ...(plan.length > 1 ? { boots: plan.slice(1) } : {}) }, outcomes);
  checked[0]?.unshift(...expanded.problems);
  replayed.forEach((state, i) => {
    if (state) checked[i]!.push(checkReplay(state, outcomes[i]!.transcript, plan[i]!));
  });
  const boots: BootRecord[] = outcomes.map((o, i) => ({
    manifest: plan[i]!.manifest,
    exitStatus: o.exitStatus,
    qemuStatus: o.qemuStatus,
    timedOut: o.timedOut,
    bootMs: o.bootMs,
    transcript: o.transcript,
    assertions: checked[i]!,
    ...(replayed[i] ? { replayPoint: replayed[i]!.point.label } : {}),
  }));
  const inputs = computeInputs(ctx.tangled, spec, Buffer.concat(images));
  return {
    schemaVersion: 2,
    name: spec.name,
    chapter: spec.chapter,
    chapterLine: spec.line,
    manifest: spec.manifest,
    ok: checked.every((list) => list.every((a) => a.ok)),
    accelerator: ctx.accel,
    totalMs: Math.round(performance.now() - t0),
    boots,
    ...(spec.disk ? { diskBytes: spec.disk.bytes } : {}),
    ledger: ledgerOfBoots(boots),
    commit: ctx.git.commit,
    dirty: ctx.git.dirty,
    startedAt,
    inputs,
    inputsHash: hashInputs(inputs),
  };
}

export function resultPath(name: string): string {
  return `results/smoke/${name}.json`;
}

export async function writeResult(root: string, r: SmokeResult): Promise<string> {
  const p = resultPath(r.name);
  await writeAtomic(join(root, p), `${JSON.stringify(r, null, 2)}\n`);
  return p;
}

/** Runs `jobs` with at most `limit` at a time, keeping input order in the output. */
export async function pool<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
