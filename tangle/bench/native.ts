// Native (Linux) builds of the benchmark sources, into build/bench/: the references the comparisons divide by.
// C with gcc (clang-14's native -O2 build contracts/vectorises the n-body arithmetic into different last bits; see
// chapter A.4), Rust with the same Debian rustc that builds the wasm, so the native and wasm builds share LLVM.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../build/exec.js';
import { DEBIAN_RUSTC } from '../build/demos.js';

export const NATIVE = {
  c: 'build/bench/wasi-bench-c',
  rust: 'build/bench/wasi-bench-rust',
  ipc: 'build/bench/linux-ipc-bench',
  store: 'build/bench/linux-store-bench',
} as const;

export async function buildNative(root: string): Promise<void> {
  await mkdir(join(root, 'build/bench'), { recursive: true });
  const quiet = { cwd: root, echo: false } as const;
  await runTool(root, 'bench-native-c', 'gcc', ['-O2', '-static', '-o', NATIVE.c, 'demos/wasi-bench-c/main.c', '-lm'], quiet);
  await runTool(root, 'bench-native-rust', DEBIAN_RUSTC, ['--edition', '2021', '-O', '-o', NATIVE.rust, 'demos/wasi-bench-rust/main.rs'], quiet);
  await runTool(root, 'bench-native-ipc', 'gcc', ['-O2', '-static', '-Wall', '-Wextra', '-o', NATIVE.ipc, 'demos/linux-ipc-bench/ipc.c'], quiet);
  await runTool(root, 'bench-native-store', 'gcc', ['-O2', '-static', '-Wall', '-Wextra', '-o', NATIVE.store, 'demos/linux-store-bench/store.c'], quiet);
}
