// The disk actions of `boot:` lines (appendix A.7): a `log` boot records its disk's writes and flushes through
// QEMU's blklogwrites; a `replay` boot is repeated once per crash state derived from that log, each on a copy of
// the image from before the logged boot; a `flip=` boot first flips one byte of the store's volume. Each replayed
// boot gets one host-side check, computed from the image itself: the store mounted the newest generation whose
// superblock is valid in that image, and no older one than the last generation that was durable at that point.
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import type { BootSpec } from '../parse/model.js';
import { applyPoint, durableImage, parseLog, replayPoints, type ReplayPoint } from './dm-log.js';
import type { AssertionResult } from './result.js';
import { flip, newestGeneration } from './store-image.js';

/** Where the log of a smoke's `log` boot goes (generated, under build/). */
export function logPath(disk: string): string {
  return disk.replace(/\.img$/, '.log');
}

/** A fresh sparse log file (blklogwrites writes into it; 256 MiB of room). */
export async function createLog(path: string): Promise<void> {
  await rm(path, { force: true });
  const f = await open(path, 'w');
  try {
    await f.truncate(256 << 20);
  } finally {
    await f.close();
  }
}

/** The crash states of a recorded boot: each point's image, and what it must mount. */
export interface ReplayState {
  point: ReplayPoint;
  image: Buffer;
  newest: number;
  durable: number;
}

export async function replayStates(before: Buffer, log: string): Promise<ReplayState[]> {
  const points = replayPoints(parseLog(await readFile(log)));
  return points.map((point) => {
    const image = applyPoint(before, point);
    return { point, image, newest: newestGeneration(image), durable: newestGeneration(durableImage(before, point)) };
  });
}

/** The host-side check of one replayed boot: the generation the store says it mounted. */
export function checkReplay(state: ReplayState, transcript: string[], spec: BootSpec): AssertionResult {
  const want = state.newest;
  const text = `replay ${state.point.label}: the store mounts generation ${want} (the newest valid superblock), none older than ${state.durable} (durable then)`;
  const at = transcript.findIndex((l) => /\] mounted generation \d+/.test(l));
  const got = at < 0 ? undefined : Number(/mounted generation (\d+)/.exec(transcript[at]!)![1]);
  const ok = got !== undefined && got === want && got >= state.durable;
  return {
    kind: 'replay',
    text,
    chapterLine: spec.line,
    ok,
    ...(at >= 0 ? { transcriptLine: at + 1 } : {}),
    ...(ok ? {} : { detail: got === undefined ? 'no "mounted generation" line in the transcript' : `the store mounted generation ${got}` }),
  };
}

/** Applies a `flip=` action to the image at `path`; returns the block it corrupted. */
export async function flipImage(path: string, target: { meta: true } | { file: string }): Promise<number> {
  const image = await readFile(path);
  const block = flip(image, target);
  await writeFile(path, image);
  return block;
}
