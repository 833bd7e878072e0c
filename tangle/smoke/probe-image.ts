// The KVM probe boots a real compiled-Rust image: the kernel plus the smallest manifest.bin at hand (a tiny
// manifest boots and exits fastest).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BootImage } from './qemu.js';

export async function smallestImage(root: string, images: BootImage[]): Promise<BootImage | null> {
  let best: { image: BootImage; size: number } | null = null;
  for (const image of images) {
    try {
      const size = (await stat(join(root, image.initrd))).size;
      if (!best || size < best.size) best = { image, size };
    } catch {
      /* not built: not a probe candidate */
    }
  }
  return best?.image ?? null;
}
