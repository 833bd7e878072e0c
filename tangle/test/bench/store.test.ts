// The store bench's host-side parts: module load order from .modinfo strings (on files laid out like a kernel
// package, and on the real cached package when a bench has fetched it), and the figures' parsing and medians.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../bench/linux-guest/fetch.js';
import { loadOrder, modinfo, ModuleError } from '../../bench/linux-guest/modules.js';
import { storeFigures, storeRows, STORE_METRICS, type StoreBench } from '../../bench/store.js';

/** A fake .ko: some bytes, then the NUL-separated key=value strings a .modinfo section holds. */
const ko = (fields: Record<string, string>) =>
  Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0]),
    Buffer.from(
      Object.entries(fields)
        .map(([k, v]) => `${k}=${v}\0`)
        .join(''),
    ),
  ]);

function tree(mods: Record<string, { dir: string; depends: string; name?: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'modules-'));
  for (const [file, m] of Object.entries(mods)) {
    mkdirSync(join(root, 'kernel', m.dir), { recursive: true });
    writeFileSync(join(root, 'kernel', m.dir, `${file}.ko`), ko({ license: 'GPL', depends: m.depends, name: m.name ?? file }));
  }
  return root;
}

describe('modinfo', () => {
  it('reads name and depends, with - and _ the same', () => {
    expect(modinfo(ko({ depends: 'virtio,virtio-ring', name: 'virtio_blk' }))).toEqual({ name: 'virtio_blk', depends: ['virtio', 'virtio_ring'] });
    expect(modinfo(ko({ depends: '', name: 'virtio_ring' })).depends).toEqual([]);
  });
});

describe('loadOrder', () => {
  const mods = tree({
    virtio_blk: { dir: 'drivers/block', depends: 'virtio,virtio_ring' },
    virtio_pci: { dir: 'drivers/virtio', depends: 'virtio_ring,virtio_pci_modern_dev,virtio' },
    virtio: { dir: 'drivers/virtio', depends: 'virtio_ring' },
    virtio_ring: { dir: 'drivers/virtio', depends: '' },
    virtio_pci_modern_dev: { dir: 'drivers/virtio', depends: '' },
  });
  it('puts every dependency before the module needing it, each once', async () => {
    const names = (await loadOrder(mods, ['virtio_pci', 'virtio_blk'])).map((m) => m.name);
    expect(names).toEqual(['virtio_ring', 'virtio_pci_modern_dev', 'virtio', 'virtio_pci', 'virtio_blk']);
  });
  it('names a missing module and who needs it, and a cycle', async () => {
    const broken = tree({ a: { dir: 'x', depends: 'b' }, c: { dir: 'x', depends: 'd' }, d: { dir: 'x', depends: 'c' } });
    await expect(loadOrder(broken, ['a'])).rejects.toThrow(/module b \(needed by a\) is not under/);
    await expect(loadOrder(broken, ['c'])).rejects.toThrow(ModuleError);
    await expect(loadOrder(broken, ['c'])).rejects.toThrow(/cycle: c → d → c/);
  });
  it('refuses a file whose name= disagrees with its file name', async () => {
    await expect(loadOrder(tree({ a: { dir: 'x', depends: '', name: 'b' } }), ['a'])).rejects.toThrow(/says it is b, not a/);
  });
  // The real package, when a bench has fetched it: Debian's cloud kernel needs these for a virtio disk.
  const cached = existsSync(defaultCacheDir()) ? readdirSync(defaultCacheDir()).find((d) => d.startsWith('linux-image-')) : undefined;
  it.skipIf(cached === undefined)("orders the cached cloud kernel's virtio disk modules", async () => {
    const base = join(defaultCacheDir(), cached!, 'root/lib/modules');
    const names = (await loadOrder(join(base, readdirSync(base)[0]!), ['virtio_pci', 'virtio_blk'])).map((m) => m.name);
    expect(names.at(-2)).toBe('virtio_pci');
    expect(names.at(-1)).toBe('virtio_blk');
    expect(names.indexOf('virtio_ring')).toBeLessThan(names.indexOf('virtio'));
  });
});

describe('store figures', () => {
  it("reads both sides' lines, tagged or not, and only store_ metrics", () => {
    expect(storeFigures(['[bench] bench store_seq_write 900 KiB/s', 'bench store_stat 14 us', 'bench other 1 us', '[bench] hello'])).toEqual({
      store_seq_write: { value: 900, unit: 'KiB/s' },
      store_stat: { value: 14, unit: 'us' },
    });
  });
  it("gives each side's median and the median of per-run ratios", () => {
    const v = (value: number) => ({ store_seq_read: { value, unit: 'KiB/s' } });
    const b: StoreBench = {
      image: null,
      errors: [],
      runs: [
        { capos: v(100), linux: v(1000) },
        { capos: v(300), linux: v(1000) },
        { capos: v(200), linux: v(400) },
      ],
    };
    const row = storeRows(b).find((r) => r.metric === 'store_seq_read')!;
    expect([row.capos, row.linux, row.ratio, row.unit, row.higher]).toEqual([200, 1000, 0.3, 'KiB/s', true]);
    expect(storeRows(b)).toHaveLength(STORE_METRICS.length);
    expect(storeRows(b).find((r) => r.metric === 'store_stat')!.capos).toBeUndefined();
  });
});
