import { describe, expect, it } from 'vitest';
import { median, parseFigures, summarize } from '../../bench/figures.js';

describe('bench figures', () => {
  it('parses figure lines and ignores everything else', () => {
    const t = [
      '[kernel] boot',
      '[bench-call] bench call-roundtrip 1834 ns',
      '[bench-call] bench nop 12.5 ns',
      '[x] benchmark 1 2',
      '[bench-call] bench bad x ns',
    ];
    expect(parseFigures(t)).toEqual([
      { process: 'bench-call', metric: 'call-roundtrip', value: 1834, unit: 'ns' },
      { process: 'bench-call', metric: 'nop', value: 12.5, unit: 'ns' },
    ]);
  });
  it('summarizes medians per metric', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const f = parseFigures(['[b] bench a 10 ns', '[b] bench a 30 ns', '[b] bench a 20 ns', '[b] bench c 1 ops']);
    expect(summarize(f)).toEqual([
      { metric: 'a', unit: 'ns', runs: 3, median: 20, min: 10, max: 30 },
      { metric: 'c', unit: 'ops', runs: 1, median: 1, min: 1, max: 1 },
    ]);
  });
});
