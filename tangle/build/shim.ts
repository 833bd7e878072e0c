// The smoke runner's listen-backlog shim (chapter W.6): a shared object preloaded into QEMU for boots with a
// forwarded port, built with the host's C compiler from tangle/smoke/listen-backlog.c.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './exec.js';
import type { BuildStep } from './step.js';

export const LISTEN_SHIM_SOURCE = 'tangle/smoke/listen-backlog.c';
export const LISTEN_SHIM = 'build/tools/listen-backlog.so';
const CC_ARGS = ['-shared', '-fPIC', '-O2', '-Wall', '-Werror'];

export function listenShimStep(root: string): BuildStep {
  return {
    name: 'listen-backlog shim',
    extra: ['cc', ...CC_ARGS],
    inputs: async () => [LISTEN_SHIM_SOURCE],
    async run() {
      await mkdir(join(root, 'build/tools'), { recursive: true });
      await runTool(root, 'listen-backlog shim', 'cc', [...CC_ARGS, '-o', LISTEN_SHIM, LISTEN_SHIM_SOURCE, '-ldl'], { cwd: root });
      return [LISTEN_SHIM];
    },
  };
}
