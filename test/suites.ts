/**
 * Which test files need a Redis, worker processes or outside tools (Chromium, Compose,
 * redis-server): the cluster suite (`npm run test:cluster`). Every other file is a unit test
 * (`npm run test:unit`): no Redis, no spawned workers. `npm test` runs both.
 * Entries ending in `/` are folders.
 */
export const CLUSTER_TESTS = [
  'test/chaos/',
  'test/cluster/',
  'test/dashboard/dashboard.test.ts',
  'test/deploy/deploy.test.ts',
  'test/models/judge-cap.test.ts',
  'test/scale/adaptive.test.ts',
  'test/scale/bench-floor.test.ts',
  'test/scale/eviction.test.ts',
  'test/scale/redis-cluster.test.ts',
  'test/scale/telemetry.test.ts',
  'test/skills/augmentation.test.ts',
  'test/skills/limiter.test.ts',
  'test/skills/queue.test.ts',
];

/** The same entries as vitest globs. */
export const CLUSTER_GLOBS = CLUSTER_TESTS.map((e) => (e.endsWith('/') ? `${e}**/*.test.ts` : e));

/**
 * The unit suite's Redis: a host that never resolves (`.invalid`), so a unit test that
 * reaches for Redis fails with "getaddrinfo ENOTFOUND no-redis-in-unit-tests.invalid".
 */
export const UNIT_REDIS_URL = 'redis://no-redis-in-unit-tests.invalid:6379';

/** True when `file` (a path like `test/x/y.test.ts`) belongs to the cluster suite. */
export function isClusterTest(file: string): boolean {
  return CLUSTER_TESTS.some((e) => (e.endsWith('/') ? file.startsWith(e) : file === e));
}
