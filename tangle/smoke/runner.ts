// Runs one smoke end to end: boot its image (twice for `differs`), check the transcript, and build the
// SmokeResult; then writes results/smoke/<name>.json atomically.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SmokeSpec, TangledFile } from '../parse/model.js';
import { imagePath } from '../build/images.js';
import { writeAtomic } from '../build/stamp.js';
import { checkSmoke } from './check.js';
import type { GitState } from './git.js';
import { boot, type Accelerator, type BootImage } from './qemu.js';
import { computeInputs, hashInputs, type SmokeResult } from './result.js';

export const KERNEL = 'build/capos/kernel';

/**
 * The bytes a smoke boots (kernel, then manifest.bin), as hashed into `inputs.image`; undefined when either is not
 * built, so a reader without build/ (a fixture site, a fresh clone) falls back to judging by the chapters.
 */
export function builtImageBytes(root: string, spec: SmokeSpec): Buffer | undefined {
  const image = imageFor(spec);
  try {
    return Buffer.concat([readFileSync(join(root, image.kernel)), readFileSync(join(root, image.initrd))]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function imageFor(spec: SmokeSpec): BootImage {
  return { kernel: KERNEL, initrd: imagePath(spec.manifest), ...(spec.cpu ? { cpu: spec.cpu } : {}) };
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
  const image = imageFor(spec);
  const [kernel, initrd] = await Promise.all([readFile(join(ctx.root, image.kernel)), readFile(join(ctx.root, image.initrd))]);
  const opts = { accel: ctx.accel, timeoutMs: spec.timeout * 1000, cwd: ctx.root };
  const first = await boot(image, opts);
  const second = spec.differs ? await boot(image, opts) : undefined;
  const assertions = checkSmoke(spec, {
    transcript: first.transcript, exitStatus: first.exitStatus, timedOut: first.timedOut,
    ...(second ? { second: { transcript: second.transcript, exitStatus: second.exitStatus, timedOut: second.timedOut } } : {}),
  });
  const inputs = computeInputs(ctx.tangled, spec, Buffer.concat([kernel, initrd]));
  return {
    schemaVersion: 1,
    name: spec.name,
    chapter: spec.chapter,
    chapterLine: spec.line,
    manifest: spec.manifest,
    ok: assertions.every((a) => a.ok),
    assertions,
    exitStatus: first.exitStatus,
    qemuStatus: first.qemuStatus,
    timedOut: first.timedOut,
    accelerator: ctx.accel,
    bootMs: first.bootMs,
    totalMs: Math.round(performance.now() - t0),
    transcript: first.transcript,
    ...(second ? { transcript2: second.transcript } : {}),
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
  await writeAtomic(join(root, p), JSON.stringify(r, null, 2) + '\n');
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
