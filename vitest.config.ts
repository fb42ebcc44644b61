import { defineConfig, type ViteUserConfig } from 'vitest/config';

/** Settings shared by `npm test` (this file), `npm run test:unit` and `npm run test:cluster`. */
export const common = {
  // Generous: cluster tests run worker processes on shared, loaded machines. A timeout
  // only bounds how long a failing test takes to report; no test asserts a duration.
  testTimeout: 180_000,
  hookTimeout: 180_000,
  pool: 'forks',
  // Cluster tests spawn worker processes; two files at a time fits a 2-core machine.
  maxWorkers: 2,
  // Builds the bundle the CLI processes the tests start run (MAESTRO_DEV=0), and ends, by pid,
  // every process the suite started that is still running (test/global-setup.ts).
  globalSetup: ['test/global-setup.ts'],
} satisfies NonNullable<ViteUserConfig['test']>;

export default defineConfig({
  test: {
    ...common,
    include: ['test/**/*.test.ts'],
  },
});
