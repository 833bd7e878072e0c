// `npm run bench -- profile` (chapter A.1, "Where a round trip spends its time"): builds the kernel with its
// tsc-profile feature into build/prof/ (its own cargo target dir, so the normal build is untouched), boots the
// round-trip systems with it and prints each boot's figures next to the kernel's phase quartiles.
import { imagePath } from '../build/images.js';
import { KERNEL_RUSTFLAGS, KERNEL_TARGET, PROFILE } from '../build/cargo.js';
import { runTool } from '../build/exec.js';
import type { Accelerator } from '../smoke/qemu.js';
import { CAPOS_CALL_MANIFEST, CAPOS_IPC_MANIFEST } from './ipc-linux.js';
import { bootTimed } from './measure.js';

export const PROFILE_KERNEL = `build/prof/${KERNEL_TARGET}/${PROFILE}/kernel`;

export async function buildProfileKernel(root: string): Promise<string> {
  await runTool(
    root,
    'capos-kernel-profile',
    'cargo',
    [
      'build',
      '--manifest-path',
      'capos/Cargo.toml',
      '--target-dir',
      'build/prof',
      `--${PROFILE}`,
      '-j',
      '2',
      '--target',
      KERNEL_TARGET,
      '-p',
      'capos-kernel',
      '--features',
      'capos-kernel/tsc-profile',
    ],
    { cwd: root, env: { RUSTFLAGS: KERNEL_RUSTFLAGS }, echo: false },
  );
  return PROFILE_KERNEL;
}

/** Boots each round-trip system `runs` times with the profiling kernel; returns the lines worth reading. */
export async function runProfile(root: string, accel: Accelerator, runs: number, log: (l: string) => void): Promise<number> {
  const kernel = await buildProfileKernel(root);
  let failed = 0;
  for (const manifest of [CAPOS_CALL_MANIFEST, CAPOS_IPC_MANIFEST]) {
    log(`${manifest} with ${kernel} (${accel}):`);
    for (let r = 0; r < runs; r++) {
      const { outcome } = await bootTimed({ kernel, initrd: imagePath(manifest) }, accel, root, 300_000);
      if (outcome.timedOut || outcome.exitStatus !== 0) failed++;
      for (const l of outcome.transcript) {
        if (/bench \S+-time \d+ ns$|tsc profile:/.test(l)) log(`  ${l}`);
      }
    }
  }
  return failed;
}
