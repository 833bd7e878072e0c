// Chooses the accelerator. TCG is the reference; KVM is used only if /dev/kvm exists AND a probe boot of a real
// compiled-Rust image (kernel + a tiny manifest; Rust uses SSE everywhere) finishes with init's exit line within a few
// seconds. Paravirtual KVM (kvm_pvm) fails that probe on SSE emulation, so TCG is the usual answer there.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { boot, type Accelerator, type BootImage } from './qemu.js';

export interface AccelChoice {
  accel: Accelerator;
  reason: string;
}

let cached: Promise<AccelChoice> | undefined;

export const PROBE_TIMEOUT_MS = 5000;

async function probe(image: BootImage | null, cwd: string): Promise<AccelChoice> {
  if (process.env.CAPOS_ACCEL === 'tcg') return { accel: 'tcg', reason: 'CAPOS_ACCEL=tcg' };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: 'no usable /dev/kvm' };
  }
  if (!image) return { accel: 'tcg', reason: 'no image to probe KVM with' };
  const out = await boot(image, { accel: 'kvm', timeoutMs: PROBE_TIMEOUT_MS, cwd });
  const sawExit = out.transcript.some((l) => /^\[kernel\] init exited with -?\d+$/.test(l));
  if (!out.timedOut && out.exitStatus !== null && sawExit) {
    return { accel: 'kvm', reason: `KVM probe booted and exited in ${out.bootMs} ms` };
  }
  const why = out.timedOut ? `no exit within ${PROBE_TIMEOUT_MS} ms` : `QEMU status ${out.qemuStatus}`;
  // QEMU prints harmless CPUID warnings first; show an error line if there is one
  const firstErr = out.stderr.split('\n').find((l) => /error/i.test(l)) ?? '';
  return { accel: 'tcg', reason: `KVM probe failed (${why}${firstErr ? `: ${firstErr.trim().slice(0, 80)}` : ''})` };
}

/** Probes once per process run; every later caller gets the same answer. */
export function chooseAccelerator(image: BootImage | null, cwd: string): Promise<AccelChoice> {
  cached ??= probe(image, cwd);
  return cached;
}
