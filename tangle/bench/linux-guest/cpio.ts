// A cpio archive in the "newc" format (the one the Linux kernel unpacks as an initramfs), written in memory. Entries
// are regular files, directories, symlinks and character devices; the kernel needs nothing else to boot from it.
// Format: each entry is a 110-byte ASCII header (magic 070701 and thirteen 8-digit hex fields), the NUL-terminated
// name padded to a multiple of 4 bytes, then the data padded the same way; a `TRAILER!!!` entry ends the archive.

export type CpioEntry =
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFREG = 0o100000,
  S_IFDIR = 0o040000,
  S_IFLNK = 0o120000,
  S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

export class CpioError extends Error {}

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new CpioError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function header(ino: number, mode: number, fileSize: number, nameSize: number, rdev = { major: 0, minor: 0 }): string {
  // magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return `070701${[ino, mode, 0, 0, 1, 0, fileSize, 0, 0, rdev.major, rdev.minor, nameSize, 0].map(hex8).join('')}`;
}

/** Checks a path is relative, normalised and has no `..`: an archive entry never escapes the root it unpacks into. */
function checkPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new CpioError(`bad cpio path ${JSON.stringify(path)}: expected a relative path without empty, . or .. parts`);
  }
}

/** Serialises the entries in order (parents must come before their children) and appends the trailer. */
export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const push = (ino: number, mode: number, name: string, data: Uint8Array, rdev?: { major: number; minor: number }) => {
    const nameBytes = enc.encode(`${name}\0`);
    const head = enc.encode(header(ino, mode, data.length, nameBytes.length, rdev));
    parts.push(head, nameBytes, new Uint8Array(pad4(head.length + nameBytes.length)), data, new Uint8Array(pad4(data.length)));
  };
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    checkPath(e.path);
    if (seen.has(e.path)) throw new CpioError(`duplicate cpio path ${e.path}`);
    seen.add(e.path);
    const ino = i + 1;
    switch (e.kind) {
      case 'file':
        push(ino, S_IFREG | (e.mode ?? 0o644), e.path, e.data);
        break;
      case 'dir':
        push(ino, S_IFDIR | (e.mode ?? 0o755), e.path, new Uint8Array());
        break;
      case 'symlink':
        push(ino, S_IFLNK | 0o777, e.path, enc.encode(e.target));
        break;
      case 'chardev':
        push(ino, S_IFCHR | (e.mode ?? 0o600), e.path, new Uint8Array(), { major: e.major, minor: e.minor });
        break;
    }
  });
  push(0, 0, TRAILER, new Uint8Array());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
