// A Linux guest in the same emulator as capOS: the fair reference for kernel figures (chapter A.4). The API, for any
// bench that wants one: `prepareLinuxGuest({ programs, commands })` fetches Debian's cloud kernel and busybox (cached
// outside the clone by package version), packs an initramfs with the programs and an /init that runs the commands,
// and returns a bootable image; `bootLinuxGuest(image, accel, cwd)` boots it with the contract's QEMU line and gives
// the timestamped serial lines and the commands' status. `modules` names kernel modules the guest loads first (with
// their dependencies, from the kernel package itself), for drivers Debian builds as modules (a virtio disk).
import { basename, join } from 'node:path';
import { buildInitramfs, type GuestProgram } from './initramfs.js';
import { loadOrder } from './modules.js';
import { defaultCacheDir, fetchBusybox, fetchCloudKernel } from './fetch.js';
import { initScript } from './boot.js';

export { bootLinuxGuest, BEGIN, GUEST_APPEND, initScript, type GuestBoot } from './boot.js';
export { defaultCacheDir, fetchBusybox, fetchCloudKernel, GuestFetchError } from './fetch.js';
export { buildInitramfs, InitramfsError, sharedLibraries, type GuestProgram } from './initramfs.js';
export { writeCpio, type CpioEntry } from './cpio.js';
export { loadOrder, modinfo, ModuleError, type KernelModule } from './modules.js';

export interface LinuxGuestImage {
  kernel: string;
  initrd: string;
  /** e.g. "linux-image-6.1.0-57-cloud-amd64 6.1.192-3" */
  kernelPackage: string;
  busyboxPackage: string;
}

export interface GuestSpec {
  programs: GuestProgram[];
  commands: string[];
  modules?: string[];
}

export async function prepareLinuxGuest(spec: GuestSpec, opts: { cacheDir?: string; log?: (l: string) => void } = {}): Promise<LinuxGuestImage> {
  const cache = opts.cacheDir ?? defaultCacheDir();
  const kernel = await fetchCloudKernel(cache, opts.log);
  const busybox = await fetchBusybox(cache, opts.log);
  const release = basename(kernel.vmlinuz).slice('vmlinuz-'.length);
  const modules = spec.modules?.length ? await loadOrder(join(kernel.package.dir, 'lib/modules', release), spec.modules) : [];
  const programs = [...spec.programs, ...modules.map((m) => ({ host: m.path, guestPath: `/modules/${m.name}.ko`, mode: 0o644 }))];
  const commands = [...modules.map((m) => `insmod /modules/${m.name}.ko`), ...spec.commands];
  const initrd = await buildInitramfs({ busybox: busybox.binary, init: initScript(commands), programs }, cache);
  return {
    kernel: kernel.vmlinuz,
    initrd,
    kernelPackage: `${kernel.package.name} ${kernel.package.version}`,
    busyboxPackage: `${busybox.package.name} ${busybox.package.version}`,
  };
}
