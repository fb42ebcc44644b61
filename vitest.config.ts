import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests, and the CLI processes they start, run the TypeScript sources (tsx), never dist/.
    env: { MAESTRO_DEV: '1' },
    // Cluster tests spawn worker processes; two files at a time fits a 2-core machine.
    maxWorkers: 2,
  },
});
