/**
 * Windowed submission (`feedSweep`): never more than the window of unfinished rollout
 * jobs, every rollout added once, resumable after the feeder dies, and a real cluster fed
 * through a small window scores the whole sweep.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { keys, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { feedSweep, outstandingRollouts } from '../../src/producer/feed.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('feedSweep', () => {
  const cluster = new TestCluster({ items: 3, benchmarks: ['chartqa', 'erqa'] });
  afterAll(() => cluster.cleanup());

  it('keeps at most the window unfinished, adds each rollout once and resumes after a crash', async () => {
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('feed-dry', ['random'], { seeds: [0, 1, 2, 3, 4, 5] }));
    expect(plan.rollouts.length).toBe(36);
    const queue = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    let most = 0;
    // A stand-in for the workers: every waiting rollout is scored and leaves the queue.
    const finishWindow = async () => {
      const waiting = await queue.getWaiting(0, -1);
      most = Math.max(most, await outstandingRollouts(queue));
      for (const j of waiting) await cluster.conn.hset(doneKey, j.id ?? '', 'answered|1|x|random');
      await queue.drain();
    };
    // The feeder dies after handing out 20 rollouts.
    function* dying() {
      for (const [i, r] of plan.rollouts.entries()) {
        if (i === 20) throw new Error('feeder killed');
        yield r;
      }
    }
    await expect(
      feedSweep(cluster.conn, cluster.prefix, cluster.store, plan.meta, dying(), {
        window: 8,
        whenFull: finishWindow,
      }),
    ).rejects.toThrow('feeder killed');
    const before = await cluster.conn.hlen(doneKey);
    const queuedBefore = await outstandingRollouts(queue);
    // Whole chunks were added before it died (the rollouts it held in hand were not).
    expect(before + queuedBefore).toBeGreaterThanOrEqual(8);
    expect(before + queuedBefore).toBeLessThanOrEqual(20);
    // Restarted: the same plan from the start, nothing added twice.
    const r = await feedSweep(cluster.conn, cluster.prefix, cluster.store, plan.meta, plan.rollouts, {
      window: 8,
      whenFull: finishWindow,
    });
    expect(r.planned).toBe(36);
    expect(r.done).toBe(before);
    expect(r.inFlight).toBe(queuedBefore);
    expect(r.added).toBe(36 - before - queuedBefore);
    await finishWindow();
    expect(await cluster.conn.hlen(doneKey)).toBe(36);
    expect(most).toBeLessThanOrEqual(8);
    expect(most).toBeGreaterThan(0);
    const again = await feedSweep(cluster.conn, cluster.prefix, cluster.store, plan.meta, plan.rollouts, {
      window: 8,
    });
    expect(again).toMatchObject({ added: 0, done: 36 });
    await queue.close();
  });

  it('feeds a running cluster through a window of 4 until every rollout is scored', async () => {
    await cluster.worker(['--role', 'all']);
    const plan = await cluster.plan(
      cluster.sweepFile('feed-live', ['direct:GLM-4.6V-Flash'], { seeds: [0, 1, 2] }),
    );
    const queue = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    let most = 0;
    const r = await feedSweep(cluster.conn, cluster.prefix, cluster.store, plan.meta, plan.rollouts, {
      window: 4,
      pollMs: 50,
      onProgress: () => {},
      whenFull: async () => {
        most = Math.max(most, await outstandingRollouts(queue));
        await new Promise((res) => setTimeout(res, 50));
      },
    });
    expect(r.added).toBe(plan.rollouts.length);
    await cluster.wait(plan, 120_000);
    expect(most).toBeLessThanOrEqual(4);
    expect(await cluster.conn.hlen(keys.done(cluster.prefix, plan.meta.id))).toBe(plan.rollouts.length);
    expect(await cluster.store.readRecords(plan.meta.id)).toHaveLength(plan.rollouts.length);
    await queue.close();
  });
});
