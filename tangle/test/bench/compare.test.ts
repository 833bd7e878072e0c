// The comparison harness's parsing and clock correction, on transcript lines copied from real runs.
import { describe, expect, it } from 'vitest';
import { isComparisonManifest } from '../../bench/compare.js';
import { bootToInitUs, cpuNs, timerScale, tscMHz } from '../../bench/measure.js';
import { parseGuest } from '../../bench/wasm.js';

describe('parseGuest', () => {
  it('reads checksum and compute time with or without the capOS prefix', () => {
    const lines = [
      '[wasm-host] wasi-bench-c start',
      '[wasm-host] wasi-bench-c checksum 1e346a528ec78781',
      '[wasm-host] wasi-bench-c compute 1718207 us',
      '[wasm-host] wasi-bench-c exited with 0',
    ];
    expect(parseGuest('c', lines)).toEqual({ checksum: '1e346a528ec78781', computeUs: 1718207 });
    expect(parseGuest('rust', ['wasi-bench-rust checksum 00000000000000ff', 'wasi-bench-rust compute 12 us'])).toEqual({
      checksum: '00000000000000ff',
      computeUs: 12,
    });
  });
  it("does not take the other program's lines or a short checksum", () => {
    expect(parseGuest('rust', ['wasi-bench-c checksum 1e346a528ec78781', 'wasi-bench-rust checksum 1e34'])).toEqual({});
  });
});

describe('kernel lines and the Timer correction', () => {
  const boot = ['[kernel] capOS booting', '[kernel] memory: 511 MiB, tsc 5887 MHz', '[kernel] boot to init: 15851 us'];
  it('finds the calibration and boot-to-init', () => {
    expect(tscMHz(boot)).toBe(5887);
    expect(bootToInitUs(boot)).toBe(15851);
    expect(tscMHz(['[init] tsc 5 MHz'])).toBeNull();
  });
  it('rescales a slow Timer by calibrated / reference, and leaves unknowns alone', () => {
    expect(timerScale(5216, 2608)).toBe(2);
    expect(timerScale(null, 2608)).toBe(1);
    expect(timerScale(2608, null)).toBe(1);
  });
});

describe('cpuNs', () => {
  it("counts this process's CPU time and grows with work", () => {
    const a = cpuNs(process.pid)!;
    let x = 0;
    for (let i = 0; i < 5e6; i++) x += i % 7;
    const b = cpuNs(process.pid)!;
    expect(x).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(cpuNs(2 ** 30)).toBeNull();
  });
});

describe('isComparisonManifest', () => {
  it('claims only the wasm bench manifests', () => {
    expect(isComparisonManifest('manifests/system-bench-wasi-c.cue')).toBe(true);
    expect(isComparisonManifest('manifests/system-bench-wasi-rust.cue')).toBe(true);
    expect(isComparisonManifest('manifests/system-bench-wasi-c-unmetered.cue')).toBe(true);
    expect(isComparisonManifest('manifests/system-bench-capos.cue')).toBe(false);
  });
});
