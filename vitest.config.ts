// Vitest for the TypeScript machinery: tests live in tangle/test/<group>/, fixtures per case in
// tangle/test/fixtures/<case>/ (and per group where a group keeps its own).
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tangle/test/**/*.test.ts'],
    // *.built.test.ts need the book built and booted (npm test's `watch` stage runs them after `smoke`, with BUILT_TESTS=1)
    exclude: process.env.BUILT_TESTS ? configDefaults.exclude : [...configDefaults.exclude, '**/*.built.test.ts'],
    // Two shared cores: keep the worker count small so tests do not starve a parallel cargo build.
    maxWorkers: 2,
    testTimeout: 20_000,
  },
});
