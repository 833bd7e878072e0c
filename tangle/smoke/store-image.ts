// Reads the store's volume format (capos/storefs, appendix A.7) from a disk image on the host, independently of the
// Rust code: the two superblock slots with their CRC-32C, and the newest generation's metadata. The crash replay
// checks what the store mounted against it; the corrupt-block smoke finds the bytes to flip with it.

const MAGIC = Buffer.from('capOSst1', 'latin1');
const BLOCK = 4096;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli). */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface Superblock {
  slot: number;
  generation: number;
  metaBlocks: number[];
  metaLen: number;
  metaCrc: number;
  totalBlocks: number;
}

/** The valid superblocks of `image` (CRC, magic, version 1, 4 KiB blocks), newest first. */
export function superblocks(image: Buffer): Superblock[] {
  const out: Superblock[] = [];
  for (const slot of [0, 1]) {
    const s = image.subarray(slot * 512, slot * 512 + 512);
    if (s.length < 512 || crc32c(s.subarray(0, 508)) !== s.readUInt32LE(508)) continue;
    if (!s.subarray(0, 8).equals(MAGIC) || s.readUInt32LE(8) !== 1 || s.readUInt32LE(12) !== BLOCK) continue;
    const count = s.readUInt32LE(48);
    const metaBlocks = Array.from({ length: count }, (_, i) => s.readUInt32LE(56 + 4 * i));
    out.push({
      slot,
      generation: Number(s.readBigUInt64LE(24)),
      metaBlocks,
      metaLen: s.readUInt32LE(40),
      metaCrc: s.readUInt32LE(44),
      totalBlocks: s.readUInt32LE(16),
    });
  }
  return out.sort((a, b) => b.generation - a.generation);
}

/** The newest generation whose superblock is valid (0 when there is none). */
export function newestGeneration(image: Buffer): number {
  return superblocks(image)[0]?.generation ?? 0;
}

export interface FileNode {
  id: number;
  size: number;
  blocks: number[];
}

function metadata(image: Buffer, sb: Superblock): Buffer {
  return Buffer.concat(sb.metaBlocks.map((b) => image.subarray(b * BLOCK, (b + 1) * BLOCK))).subarray(0, sb.metaLen);
}

/** The files by path of the newest generation whose metadata passes its checksum (a simplified reading: enough
 * to find a file's blocks). */
export function newestFiles(image: Buffer): Map<string, FileNode> {
  const sb = superblocks(image).find((s) => crc32c(metadata(image, s)) === s.metaCrc);
  if (!sb) throw new Error('no generation with sound metadata in the image');
  const blob = metadata(image, sb);
  let at = 0;
  const u32 = () => {
    const v = blob.readUInt32LE(at);
    at += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(blob.readBigUInt64LE(at));
    at += 8;
    return v;
  };
  const files = new Map<number, FileNode>();
  const dirs = new Map<number, Map<string, number>>();
  for (let n = u32(); n > 0; n--) {
    const id = u64();
    if (blob[at++] === 0) {
      const size = u64();
      const blocks: number[] = [];
      for (let k = u32(); k > 0; k--) {
        blocks.push(u32());
        u32();
      }
      files.set(id, { id, size, blocks });
    } else {
      const entries = new Map<string, number>();
      for (let k = u32(); k > 0; k--) {
        const len = blob.readUInt16LE(at);
        at += 2;
        const name = blob.subarray(at, at + len).toString('utf8');
        at += len;
        entries.set(name, u64());
      }
      dirs.set(id, entries);
    }
  }
  const out = new Map<string, FileNode>();
  const walk = (dir: number, prefix: string) => {
    for (const [name, id] of dirs.get(dir) ?? []) {
      const file = files.get(id);
      if (file) out.set(prefix + name, file);
      else walk(id, `${prefix}${name}/`);
    }
  };
  walk(1, '');
  return out;
}

/** Flips one byte: the middle of the newest generation's first metadata block, or of `file`'s first data block.
 * Returns where (block number) for the transcript. */
export function flip(image: Buffer, target: { meta: true } | { file: string }): number {
  let block: number;
  if ('meta' in target) {
    const sb = superblocks(image)[0];
    if (!sb) throw new Error('no valid superblock to corrupt');
    block = sb.metaBlocks[0]!;
  } else {
    const f = newestFiles(image).get(target.file);
    const first = f?.blocks.find((b) => b !== 0);
    if (first === undefined) throw new Error(`no file ${target.file} with a data block in the newest generation`);
    block = first;
  }
  const at = block * BLOCK + 100;
  image[at] = image[at]! ^ 0x5a;
  return block;
}
