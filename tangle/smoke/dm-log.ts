// The write log of one boot, as QEMU's `blklogwrites` block driver records it (the format of Linux's dm-log-writes):
// sector 0 holds a superblock (magic, version, entry count, sector size), then each entry is one header sector
// (target sector, sector count, flags, data length; little-endian u64s) followed by its data sectors. From the log,
// `replayPoints` derives the crash states the store must survive (appendix A.7).

export const LOG_MAGIC = 0x6a736677736872n;
const FLUSH = 1n;
const FUA = 2n;
const DISCARD = 4n;
const MARK = 8n;

export type LogEntry = { kind: 'write'; sector: number; data: Buffer } | { kind: 'flush' };

export class LogError extends Error {}

/** Parses a blklogwrites log. Entries are read until the superblock's count, or until a blank header if the
 * superblock was not rewritten at the end (QEMU updates it every `log-super-update-interval` entries). */
export function parseLog(log: Buffer): LogEntry[] {
  if (log.length < 512 || log.readBigUInt64LE(0) !== LOG_MAGIC) throw new LogError('not a dm-log-writes log (no magic at sector 0)');
  const sectorSize = log.readUInt32LE(24);
  if (sectorSize !== 512) throw new LogError(`log sector size ${sectorSize}, expected 512`);
  const count = Number(log.readBigUInt64LE(16));
  const out: LogEntry[] = [];
  let at = 512;
  for (let i = 0; at + 512 <= log.length; i++) {
    const sector = log.readBigUInt64LE(at);
    const sectors = Number(log.readBigUInt64LE(at + 8));
    const flags = log.readBigUInt64LE(at + 16);
    // data_len counts a mark's text only; a write's data is its sectors, in the log sectors after the header.
    const dataLen = Number(log.readBigUInt64LE(at + 24));
    if (i >= count && sectors === 0 && flags === 0n && dataLen === 0) break;
    at += 512;
    if (flags & (DISCARD | MARK)) throw new LogError(`entry ${i}: discard and mark entries are not expected from the store`);
    if (sectors > 0) {
      const bytes = sectors * 512;
      if (at + bytes > log.length) throw new LogError(`entry ${i}: ${sectors} sectors run past the end of the log`);
      out.push({ kind: 'write', sector: Number(sector), data: log.subarray(at, at + bytes) });
      at += bytes;
    }
    if (flags & (FLUSH | FUA)) out.push({ kind: 'flush' });
  }
  return out;
}

/** One crash state: the writes to apply, in order, to the image from before the logged boot. `durableWrites` of
 * them came before the point's last flush and must survive any crash. */
export interface ReplayPoint {
  label: string;
  writes: { sector: number; data: Buffer }[];
  durableWrites: number;
}

type Write = { sector: number; data: Buffer };

/** The points: after every flush; and in every stretch of writes between two flushes, half of it (the rest
 * dropped), the stretch in reverse order without its first write (reordered, one dropped), and the stretch with
 * its last write torn inside its first sector (256 new bytes, the rest old) and its other sectors dropped. */
export function replayPoints(entries: LogEntry[]): ReplayPoint[] {
  const points: ReplayPoint[] = [];
  const durable: Write[] = [];
  let pending: Write[] = [];
  let flushes = 0;
  const stretch = (label: string) => {
    if (pending.length === 0) return;
    const n = pending.length;
    const base = `flush ${flushes} + ${n} unflushed write${n === 1 ? '' : 's'}`;
    points.push({
      label: `${base} (${label}): first ${Math.ceil(n / 2)} kept`,
      writes: [...durable, ...pending.slice(0, Math.ceil(n / 2))],
      durableWrites: durable.length,
    });
    if (n > 1)
      points.push({
        label: `${base} (${label}): reversed, the first dropped`,
        writes: [...durable, ...pending.slice(1).reverse()],
        durableWrites: durable.length,
      });
    // A torn write: only the first 256 bytes of its first sector reach the disk.
    const last = pending[n - 1]!;
    const torn = { sector: last.sector, data: last.data.subarray(0, 256) };
    points.push({
      label: `${base} (${label}): the last one torn in its first sector`,
      writes: [...durable, ...pending.slice(0, n - 1), torn],
      durableWrites: durable.length,
    });
  };
  for (const e of entries) {
    if (e.kind === 'write') {
      pending.push(e);
      continue;
    }
    stretch('before its flush');
    durable.push(...pending);
    pending = [];
    flushes++;
    points.push({ label: `after flush ${flushes}`, writes: [...durable], durableWrites: durable.length });
  }
  stretch('never flushed');
  return points;
}

/** The image of `point`: `base` (not modified) with its writes applied in order. */
export function applyPoint(base: Buffer, point: ReplayPoint): Buffer {
  const image = Buffer.from(base);
  for (const w of point.writes) {
    if (w.sector * 512 + w.data.length > image.length) throw new LogError(`write at sector ${w.sector} is past the end of the image`);
    w.data.copy(image, w.sector * 512);
  }
  return image;
}

/** The image as of the point's last flush: what any crash at the point must still hold. */
export function durableImage(base: Buffer, point: ReplayPoint): Buffer {
  const image = Buffer.from(base);
  for (const w of point.writes.slice(0, point.durableWrites)) w.data.copy(image, w.sector * 512);
  return image;
}
