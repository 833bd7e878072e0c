// Vitest for the TypeScript machinery: tests live in tangle/test/<group>/, fixtures per case in
// tangle/test/fixtures/<case>/ (and per group where a group keeps its own).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tangle/test/**/*.test.ts'],
    // Two shared cores: keep the worker count small so tests do not starve a parallel cargo build.
    maxWorkers: 2,
    testTimeout: 20_000,
  },
});
