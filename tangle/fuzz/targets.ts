// The fuzz targets (appendix A.9, chapters/98-a9-pressure-fuzzing.md): which cargo-fuzz crate holds each,
// where its seeds come from, and how long its inputs may be.
export interface FuzzCrate {
  /** the cargo-fuzz directory, relative to the repository root */
  dir: string;
  /** extra `cargo fuzz build` flags: `-O` drops debug assertions and overflow checks */
  buildFlags: string[];
  targets: FuzzTarget[];
}

export type SeedSource =
  /** the built manifest.bin of every manifest */
  | 'manifest-bin'
  /** cue's JSON for every manifest (what mkmanifest lowers) */
  | 'manifest-json'
  /** the book's demo modules, as built */
  | 'demo-wasm'
  | 'none';

export interface FuzzTarget {
  name: string;
  seeds: SeedSource;
  /** libFuzzer's -max_len */
  maxLen: number;
  /** executions in `npm test`'s gate (`--gate`): about eight seconds of this target on a loaded 2-core CI machine */
  gateRuns: number;
}

export const FUZZ_CRATES: FuzzCrate[] = [
  {
    dir: 'capos/fuzz',
    buildFlags: [],
    targets: [
      { name: 'ring_submit', seeds: 'none', maxLen: 16384, gateRuns: 250000 },
      { name: 'cap_table', seeds: 'none', maxLen: 16384, gateRuns: 60000 },
      { name: 'manifest_decode', seeds: 'manifest-bin', maxLen: 65536, gateRuns: 1000000 },
      { name: 'manifest_lower', seeds: 'manifest-json', maxLen: 65536, gateRuns: 200000 },
    ],
  },
  {
    dir: 'capos-wasm/fuzz',
    // with debug assertions wasmi's handlers lose their tail calls and a long guest overflows the stack (A.9)
    buildFlags: ['-O'],
    targets: [
      { name: 'wasi_imports', seeds: 'none', maxLen: 16384, gateRuns: 80000 },
      { name: 'wasm_smith', seeds: 'none', maxLen: 16384, gateRuns: 12000 },
      { name: 'wasm_bytes', seeds: 'demo-wasm', maxLen: 262144, gateRuns: 15000 },
    ],
  },
];

/** Every target with its crate, optionally only the named ones (an unknown name is an error). */
export function selectTargets(names: string[]): { crate: FuzzCrate; target: FuzzTarget }[] {
  const all = FUZZ_CRATES.flatMap((crate) => crate.targets.map((target) => ({ crate, target })));
  const unknown = names.filter((n) => !all.some((t) => t.target.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown fuzz target ${unknown.join(', ')} (known: ${all.map((t) => t.target.name).join(', ')})`);
  }
  return names.length === 0 ? all : all.filter((t) => names.includes(t.target.name));
}
