/**
 * The sweep's `done` hash is an index for progress and status; the durable truth is the
 * record file and BullMQ's completed rollout job. A Redis that loses its last second of
 * writes can drop the scorer's done entry while the rollout's completion (sent after the
 * restart) lands. These tests drop the entries by hand and check they are re-derived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { repairDoneIndex } from '../../src/producer/progress.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('done entries lost while their rollouts completed', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'tallyqa'] });
  let plan: SweepPlan;
  let done: Record<string, string>;
  let scored: Record<string, string>;

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    plan = await cluster.plan(cluster.sweepFile('done-index', ['maestro', 'direct:Chart-R1']));
    await cluster.submit(plan);
    await cluster.wait(plan);
    done = await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id));
    scored = await cluster.conn.hgetall(keys.scored(cluster.prefix, plan.meta.id));
  }, 300_000);

  afterAll(() => cluster.cleanup());

  it('re-derives exactly the missing entries, with the values the scorer wrote', async () => {
    const lost = plan.rollouts.slice(0, 3).map((r) => r.rolloutId);
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    const scoredKey = keys.scored(cluster.prefix, plan.meta.id);
    await cluster.conn.hdel(doneKey, ...lost);
    await cluster.conn.hdel(scoredKey, ...lost);
    const all = plan.rollouts.map((r) => r.rolloutId);
    const repaired = await repairDoneIndex(cluster.conn, cluster.prefix, plan.meta.id, lost);
    expect(repaired.sort()).toEqual([...lost].sort());
    expect(await cluster.conn.hgetall(doneKey)).toEqual(done);
    expect(await cluster.conn.hgetall(scoredKey)).toEqual(scored);
    // Entries that exist are never overwritten, and a second pass changes nothing.
    await cluster.conn.hset(doneKey, all[5]!, 'kept');
    await repairDoneIndex(cluster.conn, cluster.prefix, plan.meta.id, all);
    expect(await cluster.conn.hget(doneKey, all[5]!)).toBe('kept');
    await cluster.conn.hset(doneKey, all[5]!, done[all[5]!]!);
  });

  it('ignores rollouts whose job did not complete', async () => {
    expect(await repairDoneIndex(cluster.conn, cluster.prefix, plan.meta.id, ['no-such-rollout'])).toEqual(
      [],
    );
  });

  it('lets `sweep --wait` finish when an entry is missing', async () => {
    const [first] = plan.rollouts;
    await cluster.conn.hdel(keys.done(cluster.prefix, plan.meta.id), first!.rolloutId);
    const res = await cluster.wait(plan, 120_000);
    expect(res.done).toBe(plan.rollouts.length);
    expect(await cluster.conn.hget(keys.done(cluster.prefix, plan.meta.id), first!.rolloutId)).toBe(
      done[first!.rolloutId],
    );
  });
});
