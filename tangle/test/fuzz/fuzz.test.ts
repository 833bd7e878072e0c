// The fuzz runner's pure parts: libFuzzer's final statistics, the command line, target selection, and the
// content-hashed corpus seeding.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GATE_SECONDS_CAP, GATE_SEED, libFuzzerArgs, parseArgs, parseStats } from '../../fuzz/libfuzzer.js';
import { addToCorpus } from '../../fuzz/seeds.js';
import { FUZZ_CRATES, selectTargets } from '../../fuzz/targets.js';

// The tail of a real libFuzzer run (-print_final_stats=1), as libFuzzer 0.4.x prints it.
const RUN = `#1024	pulse  cov: 311 ft: 1190 corp: 88/3071b lim: 43 exec/s: 512 rss: 41Mb
#2048	pulse  cov: 320 ft: 1250 corp: 95/3300b lim: 60 exec/s: 682 rss: 42Mb
Done 91234 runs in 11 second(s)
stat::number_of_executed_units: 91234
stat::average_exec_per_sec:     8294
stat::new_units_added:          170
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              61
`;

describe('libFuzzer output', () => {
  test('final statistics', () => {
    expect(parseStats(RUN)).toEqual({ execs: 91234, execsPerSec: 8294, features: 1250 });
  });
  test('a crash names the input it wrote', () => {
    const crash = `${RUN}==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='a/'; Test unit written to build/fuzz/artifacts/x/crash-0a1b\n`;
    expect(parseStats(crash).crash).toBe('build/fuzz/artifacts/x/crash-0a1b');
  });
  test('nothing printed is zero, not a guess', () => {
    expect(parseStats('')).toEqual({ execs: 0, execsPerSec: 0, features: 0 });
  });
});

describe('command line', () => {
  test('targets and seconds', () => {
    expect(parseArgs(['ring_submit', '--seconds', '5'])).toEqual({ seconds: 5, gate: false, targets: ['ring_submit'] });
    expect(parseArgs([])).toEqual({ seconds: 60, gate: false, targets: [] });
  });
  test('the gate fixes the seed and the runs, and caps the time', () => {
    const gate = parseArgs(['--gate', 'cap_table']);
    expect(gate).toEqual({ seconds: GATE_SECONDS_CAP, gate: true, targets: ['cap_table'] });
    const target = { maxLen: 100, gateRuns: 5000 };
    const argv = libFuzzerArgs(gate, target, 'a/');
    expect(argv).toContain(`-seed=${GATE_SEED}`);
    expect(argv).toContain('-runs=5000');
    expect(argv).toContain('-reload=0');
    expect(argv).toContain(`-max_total_time=${GATE_SECONDS_CAP}`);
    // a fuzzing run by hand draws a new seed each time and runs until its time is up
    const open = libFuzzerArgs(parseArgs(['--seconds', '30']), target, 'a/');
    expect(open.some((a) => a.startsWith('-seed=') || a.startsWith('-runs='))).toBe(false);
    expect(open).toContain('-max_total_time=30');
  });
  test('bad seconds and unknown options are refused', () => {
    expect(() => parseArgs(['--seconds', '0'])).toThrow(/whole number/);
    expect(() => parseArgs(['--seconds', 'x'])).toThrow(/whole number/);
    expect(() => parseArgs(['--runs', '3'])).toThrow(/unknown option --runs/);
  });
  test('selection by name, all by default, unknown names refused', () => {
    const all = FUZZ_CRATES.flatMap((c) => c.targets).length;
    expect(selectTargets([]).length).toBe(all);
    expect(selectTargets(['wasm_bytes']).map((t) => [t.crate.dir, t.target.name])).toEqual([['capos-wasm/fuzz', 'wasm_bytes']]);
    expect(() => selectTargets(['ring'])).toThrow(/unknown fuzz target ring/);
  });
});

describe('corpus seeding', () => {
  test('inputs are stored once, by content', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'capos-fuzz-')), 'corpus');
    expect(await addToCorpus(dir, [Buffer.from('a'), Buffer.from('b'), Buffer.from('a')])).toBe(2);
    expect(await addToCorpus(dir, [Buffer.from('b')])).toBe(0);
    // SHA-1 of "a"
    expect(readdirSync(dir).sort()).toEqual(['86f7e437faa5a7fce15d1ddcb9eaeaea377667b8', 'e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98']);
  });
});
