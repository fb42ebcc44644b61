import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { loadBenchmarks } from '../../src/cli/context.ts';
import { runSweepCommand } from '../../src/cli/sweep.ts';
import { startWorkers } from '../../src/cli/worker.ts';
import { readEnv } from '../../src/core/env.ts';
import { DEFAULT_REGISTRY, DEMO_SWEEP } from '../../src/core/paths.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import { startRedisServer } from '../../src/process/redis-server.ts';

describe('a Redis that may evict keys is reported at start-up', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let conn: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'maestro-evict-'));
  const store = new DataStore(join(dir, 'data'));

  beforeAll(async () => {
    redis = await startRedisServer();
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    await generateFixtures(store, { perBenchmark: 1 });
  });

  afterAll(async () => {
    conn?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    ...readEnv({}),
    REDIS_URL: redis.url,
    MAESTRO_PREFIX: '{evict}',
    MAESTRO_DATA_DIR: store.root,
  });

  const workerLog = async () => {
    const lines: string[] = [];
    const handle = await startWorkers({
      roles: ['scorer'],
      env: env(),
      registry: loadRegistry([DEFAULT_REGISTRY], { MAESTRO_SIM_URL: 'http://127.0.0.1:1' }),
      store,
      catalog: loadBenchmarks().catalog,
      log: (l) => lines.push(l),
    });
    await handle.close();
    return lines;
  };

  const sweepLog = async () => {
    const lines: string[] = [];
    await runSweepCommand(env(), store, { file: DEMO_SWEEP, dryRun: true, log: (l) => lines.push(l) });
    return lines;
  };

  it('warns in the worker and in sweep when maxmemory-policy is allkeys-lru', async () => {
    await conn.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const expected = /warning: Redis maxmemory-policy is "allkeys-lru"; set it to "noeviction"/;
    expect((await workerLog()).some((l) => expected.test(l))).toBe(true);
    expect((await sweepLog()).some((l) => expected.test(l))).toBe(true);
  });

  it('says nothing with noeviction', async () => {
    await conn.config('SET', 'maxmemory-policy', 'noeviction');
    const all = [...(await workerLog()), ...(await sweepLog())];
    expect(all.some((l) => l.includes('maxmemory-policy'))).toBe(false);
    expect(all.some((l) => l.startsWith('ready:'))).toBe(true);
  });
});
