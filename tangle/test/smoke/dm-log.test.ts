import { describe, expect, it } from 'vitest';
import { applyPoint, durableImage, LOG_MAGIC, LogError, parseLog, replayPoints, type LogEntry } from '../../smoke/dm-log.js';
import { crc32c, flip, newestGeneration, superblocks } from '../../smoke/store-image.js';

/** A blklogwrites log of `entries` (a flush is an entry with no sectors and the flush flag). */
function log(entries: LogEntry[], superCount = entries.length): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(512);
  head.writeBigUInt64LE(LOG_MAGIC, 0);
  head.writeBigUInt64LE(1n, 8);
  head.writeBigUInt64LE(BigInt(superCount), 16);
  head.writeUInt32LE(512, 24);
  parts.push(head);
  for (const e of entries) {
    const h = Buffer.alloc(512);
    if (e.kind === 'write') {
      h.writeBigUInt64LE(BigInt(e.sector), 0);
      h.writeBigUInt64LE(BigInt(e.data.length / 512), 8);
      parts.push(h, e.data);
    } else {
      h.writeBigUInt64LE(1n, 16);
      parts.push(h);
    }
  }
  parts.push(Buffer.alloc(4096));
  return Buffer.concat(parts);
}

const sector = (n: number, byte: number) => ({ kind: 'write' as const, sector: n, data: Buffer.alloc(512, byte) });
const flush = { kind: 'flush' as const };

describe('parseLog', () => {
  it('reads writes and flushes in order, and stops at a blank header past a stale entry count', () => {
    const entries = [sector(3, 1), flush, sector(4, 2)];
    expect(parseLog(log(entries))).toEqual(entries);
    expect(parseLog(log(entries, 1))).toEqual(entries);
  });

  it('refuses what is not such a log', () => {
    expect(() => parseLog(Buffer.alloc(1024))).toThrow(LogError);
    const bad = log([sector(1, 1)]);
    bad.writeBigUInt64LE(4n, 512 + 16);
    expect(() => parseLog(bad)).toThrow(/discard and mark/);
  });
});

describe('replayPoints', () => {
  const entries = [sector(1, 1), sector(2, 2), sector(3, 3), flush, sector(0, 9), flush, sector(5, 5)];
  const points = replayPoints(entries);

  it('has a point after each flush and three (or two) per stretch of unflushed writes', () => {
    expect(points.map((p) => p.label)).toEqual([
      'flush 0 + 3 unflushed writes (before its flush): first 2 kept',
      'flush 0 + 3 unflushed writes (before its flush): reversed, the first dropped',
      'flush 0 + 3 unflushed writes (before its flush): the last one torn in its first sector',
      'after flush 1',
      'flush 1 + 1 unflushed write (before its flush): first 1 kept',
      'flush 1 + 1 unflushed write (before its flush): the last one torn in its first sector',
      'after flush 2',
      'flush 2 + 1 unflushed write (never flushed): first 1 kept',
      'flush 2 + 1 unflushed write (never flushed): the last one torn in its first sector',
    ]);
  });

  it('builds each image from the base: dropped writes stay old, a torn sector is half new', () => {
    const base = Buffer.alloc(8 * 512, 0xee);
    const at = (img: Buffer, s: number) => [img[s * 512], img[s * 512 + 511]];
    const reversed = applyPoint(base, points[1]!);
    expect([at(reversed, 1), at(reversed, 2), at(reversed, 3)]).toEqual([
      [0xee, 0xee],
      [2, 2],
      [3, 3],
    ]);
    const torn = applyPoint(base, points[5]!);
    expect([torn[0], torn[255], torn[256], torn[511]]).toEqual([9, 9, 0xee, 0xee]);
    expect(at(durableImage(base, points[5]!), 0)).toEqual([0xee, 0xee]);
    expect(at(durableImage(base, points[6]!), 0)).toEqual([9, 9]);
    expect(base.every((b) => b === 0xee)).toBe(true);
  });
});

/** A superblock sector as capos/storefs writes it (layout.rs). */
function superblock(generation: number, meta: number[]): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from('capOSst1', 'latin1').copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(4096, 12);
  b.writeUInt32LE(64, 16);
  b.writeBigUInt64LE(BigInt(generation), 24);
  b.writeUInt32LE(meta.length, 48);
  for (const [i, m] of meta.entries()) b.writeUInt32LE(m, 56 + 4 * i);
  b.writeUInt32LE(crc32c(b.subarray(0, 508)), 508);
  return b;
}

describe('store-image', () => {
  it('crc32c is CRC-32C', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('takes the newest valid superblock; a torn one does not count', () => {
    const image = Buffer.alloc(64 * 4096);
    superblock(6, [3]).copy(image, 0);
    superblock(7, [4]).copy(image, 512);
    expect(superblocks(image).map((s) => s.generation)).toEqual([7, 6]);
    image.fill(0, 512 + 256, 1024);
    expect(newestGeneration(image)).toBe(6);
    expect(newestGeneration(Buffer.alloc(4096))).toBe(0);
  });

  it('flips a byte of the newest metadata block', () => {
    const image = Buffer.alloc(64 * 4096);
    superblock(2, [5]).copy(image, 512);
    expect(flip(image, { meta: true })).toBe(5);
    expect(image[5 * 4096 + 100]).toBe(0x5a);
  });
});
