import { defineConfig } from 'vitest/config';
import { CLUSTER_GLOBS, UNIT_REDIS_URL } from './test/suites.ts';
import { common } from './vitest.config.ts';

// `npm run test:unit`: the files that need no Redis and start no workers (see test/suites.ts).
// REDIS_URL names a host that never resolves, so a misplaced test fails with ENOTFOUND.
export default defineConfig({
  test: {
    ...common,
    include: ['test/**/*.test.ts'],
    exclude: [...CLUSTER_GLOBS, '**/node_modules/**'],
    env: { REDIS_URL: UNIT_REDIS_URL },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Files in one worker share loaded modules (a third of the time otherwise goes to
    // importing them again per file): a unit test leaves no global state behind.
    isolate: false,
  },
});
