// Where the fuzz tools are: the nightly toolchain cargo-fuzz needs, cargo-fuzz itself (pinned, installed by set-up
// outside the clone) and a target directory outside the clone keyed by both, so a fresh clone reuses the compiled
// dependencies (wasmi, wasm-smith, libFuzzer) and recompiles only the book's own crates.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userCache } from '../build/user-cache.js';
import { join } from 'node:path';
import { execa } from 'execa';

export const FUZZ_TOOLCHAIN = 'nightly';
export const CARGO_FUZZ_VERSION = '0.13.2';

export interface FuzzToolchain {
  toolchain: string;
  cargoFuzz: string;
  targetDir: string;
}

/** `$CAPOS_FUZZ_CACHE`, else `$XDG_CACHE_HOME/capos-fuzz`, else `~/.cache/capos-fuzz` (set-up uses the same rule). */
export function fuzzCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return userCache('capos-fuzz', env.CAPOS_FUZZ_CACHE, env);
}

export async function fuzzToolchain(): Promise<FuzzToolchain> {
  const cache = fuzzCacheDir();
  const cargoFuzz = join(cache, `cargo-fuzz-${CARGO_FUZZ_VERSION}`, 'bin', 'cargo-fuzz');
  if (!existsSync(cargoFuzz)) throw new Error(`${cargoFuzz} is missing: run npm run setup (it installs cargo-fuzz ${CARGO_FUZZ_VERSION})`);
  const rustc = (await execa('rustc', [`+${FUZZ_TOOLCHAIN}`, '--version'])).stdout.trim();
  const key = createHash('sha256').update(`${rustc}\n${CARGO_FUZZ_VERSION}`).digest('hex').slice(0, 16);
  return { toolchain: FUZZ_TOOLCHAIN, cargoFuzz, targetDir: join(cache, `target-${key}`) };
}
