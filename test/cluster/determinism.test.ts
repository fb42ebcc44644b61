import { afterAll, describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { resultsTable, TestCluster } from '../helpers/cluster.ts';

const POLICIES = ['maestro', 'random', 'direct:Chart-R1'];
const BENCHMARKS = ['chartqa', 'tallyqa', 'vstar', 'slake', 'ocrbench', 'erqa'];

const outcome = (records: ItemRecord[]) =>
  Object.fromEntries(
    records.map((r) => [r.rolloutId, `${r.status}|${r.extracted}|${r.correct}|${r.steps.length}`]),
  );

describe('results do not depend on how many workers ran, or on crashes', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  async function run(workers: number, opts: { killAfter?: number } = {}) {
    const cluster = new TestCluster({ items: 4, benchmarks: BENCHMARKS, capacity: 4, latencyScale: 0.1 });
    clusters.push(cluster);
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('det', POLICIES));
    await Promise.all(Array.from({ length: workers }, () => cluster.worker(['--role', 'all'])));
    await cluster.submit(plan);
    let kills = 0;
    if (opts.killAfter) {
      // kill -9 every worker once some items are done, twice over, then restart them.
      for (let round = 0; round < 2; round++) {
        const target = Math.floor((plan.rollouts.length * opts.killAfter * (round + 1)) / 2);
        while ((await cluster.conn.hlen(`${cluster.prefix}:sweep:${plan.meta.id}:done`)) < target) {
          await new Promise((r) => setTimeout(r, 20));
        }
        kills += cluster.workers.length;
        await cluster.stopWorkers('SIGKILL');
        await Promise.all(Array.from({ length: workers }, () => cluster.worker(['--role', 'all'])));
      }
    }
    await cluster.wait(plan);
    const { md, records } = await resultsTable(cluster, plan.meta.id);
    return { plan, md, records, kills, counts: await cluster.scoredCounts(plan.meta.id) };
  }

  it('gives identical tables and per-item results with 1 worker, 4 workers, and workers killed mid-sweep', async () => {
    const one = await run(1);
    const four = await run(4);
    const killed = await run(2, { killAfter: 0.6 });

    expect(one.records).toHaveLength(one.plan.rollouts.length);
    expect(four.plan.meta.id).toBe(one.plan.meta.id);
    expect(four.md).toBe(one.md);
    expect(outcome(four.records)).toEqual(outcome(one.records));

    expect(killed.kills).toBe(4);
    expect(killed.records).toHaveLength(one.plan.rollouts.length);
    expect(killed.md).toBe(one.md);
    expect(outcome(killed.records)).toEqual(outcome(one.records));
    // A crash can make a rollout run again, never score it twice.
    expect(Object.values(killed.counts).every((c) => c === 1)).toBe(true);
  }, 400_000);
});
