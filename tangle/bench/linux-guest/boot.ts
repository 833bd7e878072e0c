// Booting the Linux guest in the contract's QEMU command line (tangle/smoke/qemu.ts: the same accelerator, CPU model,
// memory and devices as every capOS boot), with Debian's kernel and our initramfs instead of capOS and its manifest,
// plus the one thing Linux needs that capOS does not: a command line naming the serial console.
import type { Accelerator } from '../../smoke/qemu.js';
import { bootTimed, type TimedLine } from '../measure.js';
import type { BootOutcome } from '../../smoke/qemu.js';

/** `quiet` keeps the kernel's own messages off the serial line, so the transcript is the init script's output. */
export const GUEST_APPEND = 'console=ttyS0 quiet panic=-1';
export const BEGIN = 'linux-guest: begin';
export const END = /^linux-guest: end status (\d+)$/;

/**
 * The /init script: mount the pseudo file systems, run each command in order (its output goes to the serial line),
 * print the status of the last failing one (0 if none), and power off. `poweroff -f` makes QEMU exit with status 0,
 * so the END line, not QEMU's status, says whether the programs ran.
 */
export function initScript(commands: string[]): string {
  return [
    '#!/bin/busybox sh',
    '/bin/busybox --install -s',
    'mount -t devtmpfs dev /dev',
    'mount -t proc proc /proc',
    'mount -t sysfs sys /sys',
    `echo '${BEGIN}'`,
    'status=0',
    ...commands.map((c) => `${c} || status=$?`),
    `echo "linux-guest: end status $status"`,
    'poweroff -f',
    '',
  ].join('\n');
}

export interface GuestBoot {
  outcome: BootOutcome;
  lines: TimedLine[];
  status: number | null;
}

export async function bootLinuxGuest(
  image: { kernel: string; initrd: string; cpu?: string; disk?: string },
  accel: Accelerator,
  cwd: string,
  timeoutMs = 300_000,
): Promise<GuestBoot> {
  const { outcome, lines } = await bootTimed({ ...image, append: GUEST_APPEND }, accel, cwd, timeoutMs);
  let status: number | null = null;
  for (const l of outcome.transcript) {
    const m = END.exec(l);
    if (m) status = Number(m[1]);
  }
  return { outcome, lines, status };
}
