// Boots one image in QEMU with the contract's command line, captures the serial console (stdio), enforces a hard
// timeout by killing QEMU's whole process group, and decodes init's exit code from isa-debug-exit.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { LISTEN_SHIM } from '../build/shim.js';
import { splitTranscript } from './check.js';
import { wireArgs } from './wire.js';
import { type Forward, guestfwdOptions } from './origins.js';

export type Accelerator = 'tcg' | 'kvm';

/** `cpu` is QEMU's CPU model; a smoke may pick another one (e.g. `qemu64` without RDRAND, to boot with no entropy). */
export interface BootImage {
  kernel: string;
  initrd: string;
  cpu?: string;
  disk?: string;
  /** record every write and flush of the disk into this file (QEMU's blklogwrites; appendix A.7) */
  diskLog?: string;
  /** a kernel command line (`-append`); capOS images need none, the bench's Linux guest does */
  append?: string;
  /** a virtio-net NIC on QEMU's restricted user network, with host port `hostPort` on 127.0.0.1 forwarded to the
   * guest's port 80 (chapter W.6) */
  net?: { hostPort: number; forwards?: Forward[] };
  /** a virtio-net NIC wired to the runner's loopback socket `port` through QEMU's dgram netdev, sending from
   * `qemuPort` (chapter 19a); instead of `net` */
  wire?: { port: number; qemuPort: number };
}

/** The contract's CPU model: QEMU's default plus RDRAND, the kernel's entropy source under TCG. */
export const DEFAULT_CPU = 'qemu64,+rdrand';

export interface BootOptions {
  accel: Accelerator;
  timeoutMs: number;
  cwd: string;
  /** called with each chunk of serial output as it arrives (live progress; optional) */
  onOutput?: (chunk: string) => void;
  /** host actions (chapter W.6): told every complete serial line; their result lines join the transcript at a
   * line boundary, in the order they finished */
  host?: { onLine(line: string): void; pending: string[]; notify: () => void; settle(): Promise<void> };
}

export interface BootOutcome {
  transcript: string[];
  raw: string;
  /** QEMU's own exit status (null when killed by a signal) */
  qemuStatus: number | null;
  /** init's exit code as written to isa-debug-exit: (status-1)/2 when QEMU's status is odd */
  exitStatus: number | null;
  timedOut: boolean;
  bootMs: number;
  stderr: string;
}

export const QEMU = 'qemu-system-x86_64';

/** The firmware: qboot, QEMU's minimal x86 firmware (Debian's qemu-system-data ships it), instead of the default
 * SeaBIOS. It reaches the kernel in about a third of SeaBIOS's time under TCG; it assigns no PCI BARs and writes wrong
 * interrupt line registers, so the kernel assigns BARs and reads the PIIX3's INTx routing itself (appendix A.6). */
export const FIRMWARE = '/usr/share/qemu/qboot.rom';

/** The contract's QEMU line; only -accel and, when a smoke asks, -cpu and a disk vary. */
export function qemuArgs(image: BootImage, accel: Accelerator): string[] {
  return [
    '-accel',
    accel,
    '-bios',
    FIRMWARE,
    '-cpu',
    image.cpu ?? DEFAULT_CPU,
    '-m',
    '512M',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-serial',
    'stdio',
    '-display',
    'none',
    '-monitor',
    'none',
    '-no-reboot',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ...diskArgs(image.disk, image.diskLog),
    ...netArgs(image.net),
    ...wireArgs(image.wire),
    ...(image.append !== undefined ? ['-append', image.append] : []),
  ];
}

/** A raw image file as a virtio-blk PCI disk (appendix A.6); QEMU's default `pc` machine makes it a transitional
 * device with both the legacy I/O BAR and the modern memory BARs. */
export function diskArgs(disk: string | undefined, log?: string): string[] {
  if (disk === undefined) return [];
  // blklogwrites sits between the device and the image: the guest sees the same disk, the log gets every write
  // and flush in order (the dm-log-writes format), its superblock rewritten after each entry.
  const drive =
    log === undefined
      ? `file=${disk},format=raw`
      : `driver=blklogwrites,file.driver=file,file.filename=${disk},log.driver=file,log.filename=${log},log-sector-size=512,log-super-update-interval=1`;
  return ['-drive', `${drive},if=none,id=disk0,cache=writeback`, '-device', 'virtio-blk-pci,drive=disk0'];
}

/** QEMU's user network with `restrict=on` (the guest reaches nothing but the forwards named here) and a
 * virtio-net-pci NIC; the `pc` machine makes it a transitional device (id 0x1000) with modern memory BARs. */
export function netArgs(net: BootImage['net']): string[] {
  if (net === undefined) return [];
  const guestfwd = guestfwdOptions(net.forwards ?? []);
  return ['-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${net.hostPort}-:80${guestfwd}`, '-device', 'virtio-net-pci,netdev=net0'];
}

/** isa-debug-exit makes QEMU exit with (v << 1) | 1; any even status is QEMU's own (0 = guest powered off). */
export function decodeExit(qemuStatus: number | null): number | null {
  if (qemuStatus === null || qemuStatus % 2 === 0) return null;
  return (qemuStatus - 1) / 2;
}

// QEMU runs in its own process group (so a timeout can kill it whole); if this process is interrupted, take the
// groups we started down with us instead of leaving guests running.
const live = new Set<number>();
let hooked = false;
function track(pid: number | undefined): void {
  if (pid === undefined) return;
  live.add(pid);
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const p of live) {
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
}

/** The environment of a QEMU with a forwarded port: the listen-backlog shim preloaded, so that libslirp's listening
 * socket queues more than two unaccepted connections (tangle/smoke/listen-backlog.c says why). */
export function qemuEnv(image: BootImage, cwd: string): Record<string, string> {
  if (image.net === undefined) return {};
  const shim = join(cwd, LISTEN_SHIM);
  if (!existsSync(shim)) throw new Error(`${LISTEN_SHIM} is missing: run npm run build`);
  return { LD_PRELOAD: shim };
}

export async function boot(image: BootImage, opts: BootOptions): Promise<BootOutcome> {
  const started = performance.now();
  const child = execa(QEMU, qemuArgs(image, opts.accel), {
    cwd: opts.cwd,
    env: qemuEnv(image, opts.cwd),
    stdin: 'ignore',
    buffer: true,
    reject: false,
    // own process group, so a hard timeout can kill QEMU and anything it started in one signal
    detached: true,
    encoding: 'utf8',
    stripFinalNewline: false,
  });
  track(child.pid);
  let raw = '';
  // QEMU passes the serial port on byte by byte, so a UTF-8 character can span two chunks: decode
  // with a stateful decoder, never chunk by chunk.
  const utf8 = new StringDecoder('utf8');
  let partial = '';
  const inject = () => {
    if (opts.host && partial === '' && opts.host.pending.length > 0)
      raw += opts.host.pending
        .splice(0)
        .map((l) => `${l}\n`)
        .join('');
  };
  if (opts.host) opts.host.notify = inject;
  child.stdout?.on('data', (chunk: Buffer) => {
    const s = utf8.write(chunk);
    raw += s;
    opts.onOutput?.(s);
    if (opts.host) {
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) opts.host.onLine(l.replace(/\r$/, ''));
      inject();
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, opts.timeoutMs);
  const result = await child;
  raw += utf8.end();
  if (opts.host) {
    await opts.host.settle();
    if (opts.host.pending.length > 0)
      raw +=
        (raw.endsWith('\n') || raw === '' ? '' : '\n') +
        opts.host.pending
          .splice(0)
          .map((l) => `${l}\n`)
          .join('');
  }
  clearTimeout(timer);
  if (child.pid !== undefined) live.delete(child.pid);
  const bootMs = Math.round(performance.now() - started);
  if (result.failed && result.exitCode === undefined && !timedOut && result.signal === undefined) {
    // QEMU could not be started at all (missing binary, bad cwd): not a guest failure, say so plainly
    throw new Error(`could not start ${QEMU}: ${result.shortMessage ?? result.message}`);
  }
  const qemuStatus = timedOut ? null : (result.exitCode ?? null);
  return {
    transcript: splitTranscript(raw),
    raw,
    qemuStatus,
    exitStatus: timedOut ? null : decodeExit(qemuStatus),
    timedOut,
    bootMs,
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  };
}
