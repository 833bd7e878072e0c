// The Linux-guest harness's host-side parts: the cpio writer (checked field by field against the newc layout), the
// initramfs entry list, the /init script and the parsing of a guest transcript (lines copied from a real boot).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guestRows, parseGuestRun, targets, type Figures, type GuestBench, type PairedRun } from '../../bench/guest.js';
import { CpioError, writeCpio } from '../../bench/linux-guest/cpio.js';
import { initScript } from '../../bench/linux-guest/boot.js';
import { initramfsEntries, sharedLibraries } from '../../bench/linux-guest/initramfs.js';
import { defaultCacheDir } from '../../bench/linux-guest/fetch.js';

const text = (b: Uint8Array, from: number, len: number) => new TextDecoder().decode(b.subarray(from, from + len));
const field = (b: Uint8Array, at: number, i: number) => parseInt(text(b, at + 6 + 8 * i, 8), 16);

describe('writeCpio', () => {
  it('writes newc headers, names and data padded to 4 bytes, then the trailer', () => {
    const out = writeCpio([{ kind: 'file', path: 'init', data: new TextEncoder().encode('hello'), mode: 0o755 }]);
    expect(text(out, 0, 6)).toBe('070701');
    expect(field(out, 0, 1)).toBe(0o100755); // mode: regular file, rwxr-xr-x
    expect(field(out, 0, 6)).toBe(5); // file size
    expect(field(out, 0, 11)).toBe(5); // name size, with its NUL
    expect(text(out, 110, 4)).toBe('init');
    // 110 + 5 = 115 → name padded to 116; data at 116, 5 bytes padded to 8: trailer at 124
    expect(text(out, 116, 5)).toBe('hello');
    expect(text(out, 124, 6)).toBe('070701');
    expect(text(out, 124 + 110, 10)).toBe('TRAILER!!!');
    expect(out.length % 4).toBe(0);
    // Data already a multiple of 4 gets no padding: "abc\0" ends at 114 → 116, 4 data bytes end at 120.
    const exact = writeCpio([{ kind: 'file', path: 'abc', data: new TextEncoder().encode('1234') }]);
    expect(text(exact, 116, 4)).toBe('1234');
    expect(text(exact, 120, 6)).toBe('070701');
  });
  it('records device numbers and symlink targets', () => {
    const out = writeCpio([{ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 }]);
    expect(field(out, 0, 1)).toBe(0o020600);
    expect([field(out, 0, 9), field(out, 0, 10)]).toEqual([5, 1]);
    const link = writeCpio([{ kind: 'symlink', path: 'bin/sh', target: 'busybox' }]);
    expect(field(link, 0, 1)).toBe(0o120777);
    expect(text(link, 112 + 8, 7)).toBe('busybox'); // name "bin/sh\0" = 7 → 117 padded to 120
  });
  it('refuses paths that could leave the archive root, and duplicates', () => {
    for (const path of ['/init', '../x', 'a//b', 'a/./b', '']) {
      expect(() => writeCpio([{ kind: 'dir', path }])).toThrow(CpioError);
    }
    expect(() =>
      writeCpio([
        { kind: 'dir', path: 'a' },
        { kind: 'dir', path: 'a' },
      ]),
    ).toThrow(/duplicate/);
  });
});

describe('initramfs', () => {
  it('puts parents before children and the console node in the archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guest-'));
    writeFileSync(join(dir, 'bb'), 'busybox');
    writeFileSync(join(dir, 'prog'), 'program');
    const entries = await initramfsEntries({
      busybox: join(dir, 'bb'),
      init: initScript(['/bench/deep/prog']),
      programs: [{ host: join(dir, 'prog'), guestPath: '/bench/deep/prog' }],
    });
    const paths = entries.map((e) => e.path);
    expect(paths).toContain('dev/console');
    expect(paths.indexOf('bench')).toBeLessThan(paths.indexOf('bench/deep'));
    expect(paths.indexOf('bench/deep')).toBeLessThan(paths.indexOf('bench/deep/prog'));
    await expect(initramfsEntries({ busybox: join(dir, 'bb'), init: '', programs: [{ host: join(dir, 'none'), guestPath: '/x' }] })).rejects.toThrow(
      /no such file/,
    );
  });
  it('lists the libraries of a dynamic binary', async () => {
    expect(await sharedLibraries('/bin/sh')).toEqual(expect.arrayContaining([expect.stringMatching(/libc\.so/)]));
  });
  it('runs every command, keeps the last failing status and powers off', () => {
    const s = initScript(['a', 'b']);
    expect(s.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(s).toContain('a || status=$?\nb || status=$?');
    expect(s.trimEnd().endsWith('poweroff -f')).toBe(true);
  });
  it('caches outside the clone', () => {
    expect(defaultCacheDir({ HOME: '/h', CAPOS_BENCH_CACHE: '/c' })).toBe('/c');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/capos-bench');
  });
});

describe('parseGuestRun', () => {
  // From a real guest boot (linux-image-6.1.0-57-cloud-amd64, TCG), with QEMU CPU times added.
  const lines = [
    { ms: 7520, line: 'linux-guest: begin' },
    { ms: 8228, line: 'bench getppid-syscall-time 3244 ns' },
    { ms: 8950, line: 'bench write-empty-syscall-time 3597 ns' },
    { ms: 11800, line: 'bench pipe-roundtrip-rate 1796 calls/s' },
    { ms: 11808, line: 'bench pipe-roundtrip-time 556751 ns' },
    { ms: 12000, line: 'wasi-bench-c start', cpuNs: 9_000_000_000 },
    { ms: 14000, line: 'wasi-bench-c compute 1900000 us', cpuNs: 10_800_000_000 },
    { ms: 14100, line: 'linux-guest: end status 0' },
  ];
  it('takes ns figures, the compute interval in QEMU CPU time and the first line', () => {
    expect(parseGuestRun(lines)).toEqual({ entry: 3244, call: 3597, ipc: 556751, 'compute-c': 1_800_000, 'first-line': 7520 });
  });
});

describe('targets', () => {
  const run = (capos: Figures, guest: Figures): PairedRun => ({ capos, guest, caposTscMHz: [] });
  it('judges each target on the median of per-run ratios', () => {
    const g: GuestBench = {
      image: null,
      errors: [],
      runs: [
        run({ entry: 4000, ipc: 40000, 'compute-c': 100, 'first-line': 150 }, { entry: 1000, ipc: 80000, 'compute-c': 99 }),
        run({ entry: 6000, ipc: 12000, 'compute-c': 100, 'first-line': 90 }, { entry: 2000, ipc: 60000, 'compute-c': 90 }),
        run({ entry: 2000, ipc: 9000, 'compute-c': 100, 'first-line': 95 }, { entry: 1000, ipc: 30000, 'compute-c': 98 }),
      ],
    };
    const t = targets(g);
    expect(t[0]!.value).toBeCloseTo(3); // NOP ÷ getppid: 4, 3, 2
    expect(t[1]!.value).toBeCloseTo(4.5); // Endpoint ÷ NOP: 10, 2, 4.5
    expect(t[2]!.value).toBeCloseTo(0.3); // Endpoint ÷ pipe: 0.5, 0.2, 0.3
    expect(t[3]!.value).toBeCloseTo(0.98); // guest ÷ capOS compute: 0.99, 0.90, 0.98
    expect(t.find((x) => x.unit === 'ms')!.value).toBe(95);
  });
  it('leaves a target without figures unjudged', () => {
    expect(targets({ image: null, errors: [], runs: [] }).every((t) => t.value === undefined)).toBe(true);
  });
});

describe('guestRows', () => {
  it('gives medians per side and per-run ratios', () => {
    const g: GuestBench = {
      image: null,
      errors: [],
      runs: [
        { capos: { entry: 4000 }, guest: { entry: 1000 }, caposTscMHz: [] },
        { capos: { entry: 9000 }, guest: { entry: 1000 }, caposTscMHz: [] },
        { capos: { entry: 5000 }, guest: { entry: 2000 }, caposTscMHz: [] },
      ],
    };
    const row = guestRows(g).find((r) => r.key === 'entry')!;
    expect([row.caposMedian, row.guestMedian, row.ratioMedian]).toEqual([5000, 1000, 4]);
  });
});
