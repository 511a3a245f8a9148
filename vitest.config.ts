import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration suites spawn worker processes; two cores means bounded parallelism.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
