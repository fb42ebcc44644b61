import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { keys } from '../../src/core/queues.ts';
import { DataStore } from '../../src/data/store.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { TestCluster } from '../helpers/cluster.ts';

/**
 * A host whose data directory lacks a sweep's datasets (or holds other versions) refuses:
 * at start-up when the sweep is already there, or when the sweep first arrives, saying
 * exactly what to run on that host. No rollout fails on its account.
 */
describe('workers check their data directory against the sweep', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'tallyqa'] });
  let plan: SweepPlan;
  let empty: string;
  let other: string;

  beforeAll(async () => {
    await cluster.start();
    empty = join(cluster.dir, 'host-b-data');
    other = join(cluster.dir, 'host-c-data');
    // Host C imported chartqa with 3 items: another version than the sweep's (2 items).
    await generateFixtures(new DataStore(other), { perBenchmark: 3, benchmarks: ['chartqa', 'tallyqa'] });
    plan = await cluster.plan(cluster.sweepFile('hosts', ['random']));
  }, 300_000);

  afterAll(async () => {
    await cluster.cleanup();
  });

  it('a worker that arrives before the sweep refuses when the sweep arrives, and fails nothing', async () => {
    const w = await cluster.worker(['--role', 'all'], { MAESTRO_DATA_DIR: empty });
    await cluster.submit(plan);
    const code = await w.exited;
    const text = w.output.join('\n');
    expect(code, text).toBe(3);
    expect(text).toMatch(/data directory .*host-b-data cannot serve sweep hosts-/);
    expect(text).toMatch(/chartqa: not imported here \(the sweep uses version [0-9a-f]{12}\)/);
    expect(text).toMatch(/maestro-eval data import FILES \(ChartQA: .*\) --benchmark chartqa --format /);
    expect(text).toMatch(/maestro-eval data import FILES \(TallyQA: .*\) --benchmark tallyqa/);
    // Nothing was scored, failed or recorded on its account.
    expect(await cluster.conn.hlen(keys.done(cluster.prefix, plan.meta.id))).toBe(0);
    expect(await cluster.conn.zcard(`${cluster.prefix}:rollouts:failed`)).toBe(0);
  }, 300_000);

  it('a worker started with other dataset versions refuses at start-up', async () => {
    const w = await cluster.worker(['--role', 'all'], { MAESTRO_DATA_DIR: other }).catch((e: Error) => e);
    expect(w).toBeInstanceOf(Error);
    const text = (w as Error).message;
    expect(text).toMatch(/chartqa: version [0-9a-f]{12} here, the sweep uses [0-9a-f]{12}/);
    expect(text).toMatch(/maestro-eval data import FILES .* --benchmark chartqa/);
  }, 300_000);

  it('a worker with the right data directory then runs the whole sweep', async () => {
    await cluster.worker(['--role', 'all']);
    await cluster.wait(plan);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    expect(records.filter((r) => r.status === 'error')).toEqual([]);
  }, 300_000);
});
