// A Linux guest in the same emulator as capOS: the fair reference for kernel figures (chapter A.4). The API, for any
// bench that wants one: `prepareLinuxGuest({ programs, commands })` fetches Debian's cloud kernel and busybox (cached
// outside the clone by package version), packs an initramfs with the programs and an /init that runs the commands,
// and returns a bootable image; `bootLinuxGuest(image, accel, cwd)` boots it with the contract's QEMU line and gives
// the timestamped serial lines and the commands' status.
import { buildInitramfs, type GuestProgram } from './initramfs.js';
import { defaultCacheDir, fetchBusybox, fetchCloudKernel } from './fetch.js';
import { initScript } from './boot.js';

export { bootLinuxGuest, BEGIN, GUEST_APPEND, initScript, type GuestBoot } from './boot.js';
export { defaultCacheDir, fetchBusybox, fetchCloudKernel, GuestFetchError } from './fetch.js';
export { buildInitramfs, InitramfsError, sharedLibraries, type GuestProgram } from './initramfs.js';
export { writeCpio, type CpioEntry } from './cpio.js';

export interface LinuxGuestImage {
  kernel: string;
  initrd: string;
  /** e.g. "linux-image-6.1.0-57-cloud-amd64 6.1.192-3" */
  kernelPackage: string;
  busyboxPackage: string;
}

export async function prepareLinuxGuest(spec: { programs: GuestProgram[]; commands: string[] },
  opts: { cacheDir?: string; log?: (l: string) => void } = {}): Promise<LinuxGuestImage> {
  const cache = opts.cacheDir ?? defaultCacheDir();
  const kernel = await fetchCloudKernel(cache, opts.log);
  const busybox = await fetchBusybox(cache, opts.log);
  const initrd = await buildInitramfs({ busybox: busybox.binary, init: initScript(spec.commands), programs: spec.programs }, cache);
  return { kernel: kernel.vmlinuz, initrd, kernelPackage: `${kernel.package.name} ${kernel.package.version}`,
    busyboxPackage: `${busybox.package.name} ${busybox.package.version}` };
}
