import { defineConfig } from 'vitest/config';

// Tests import TypeScript sources; worker threads always load the built JavaScript
// from dist/ (see src/kernel/built-path.ts), which is why `npm test` builds first.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    // CI reads the machine-readable report (.ci/summary.mjs prints "N passed, N failed")
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
  },
});
