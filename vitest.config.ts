import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Cluster tests spawn worker processes; two files at a time fits a 2-core machine.
    maxWorkers: 2,
  },
});
