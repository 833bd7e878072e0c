// The component tools chapter W.7 builds with, where set-up installs them (tangle/setup/setup.sh, step 10): outside
// the clone, in $CAPOS_TOOLS_CACHE, else $XDG_CACHE_HOME/capos-tools, else ~/.cache/capos-tools, one folder per tool
// and version.
import { join } from 'node:path';
import { userCache } from './user-cache.js';

export const WIT_BINDGEN_VERSION = '0.63.0';
export const WASM_TOOLS_VERSION = '1.263.0';

/** The folder set-up installs pinned tools into. */
export function toolsCache(env: NodeJS.ProcessEnv = process.env): string {
  return userCache('capos-tools', env.CAPOS_TOOLS_CACHE, env);
}

/** The two executables, as set-up installs them. */
export function componentTools(env: NodeJS.ProcessEnv = process.env): { witBindgen: string; wasmTools: string } {
  const cache = toolsCache(env);
  return {
    witBindgen: join(cache, `wit-bindgen-${WIT_BINDGEN_VERSION}`, 'bin', 'wit-bindgen'),
    wasmTools: join(cache, `wasm-tools-${WASM_TOOLS_VERSION}`, 'bin', 'wasm-tools'),
  };
}
