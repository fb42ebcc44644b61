/**
 * Submission: only rollouts neither done nor queued are added, a sweep Redis has never seen
 * is added without looking each rollout up, and the first batch is small so workers start
 * while the rest is added.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { keys, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('submitting a sweep', () => {
  const cluster = new TestCluster({ items: 30, benchmarks: ['chartqa', 'tallyqa'] });
  afterAll(async () => {
    vi.restoreAllMocks();
    await cluster.cleanup();
  });

  it('adds what is missing, in a small first batch, and looks rollouts up once the sweep is known', async () => {
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('submit', ['direct:GLM-4.6V-Flash', 'random']));
    const n = plan.rollouts.length;
    expect(n).toBe(120);
    const batches: number[] = [];
    const addBulk = Queue.prototype.addBulk;
    vi.spyOn(Queue.prototype, 'addBulk').mockImplementation(function (this: Queue, jobs) {
      batches.push(jobs.length);
      return addBulk.call(this, jobs);
    });
    // Rollouts looked up one by one (`HEXISTS` on the done index).
    let lookups = 0;
    const pipeline = cluster.conn.pipeline.bind(cluster.conn);
    vi.spyOn(cluster.conn, 'pipeline').mockImplementation((...args: Parameters<typeof pipeline>) => {
      const pipe = pipeline(...args);
      const hexists = pipe.hexists.bind(pipe);
      pipe.hexists = ((...a: Parameters<typeof hexists>) => {
        lookups++;
        return hexists(...a);
      }) as typeof pipe.hexists;
      return pipe;
    });

    const first = await cluster.submit(plan);
    expect(first).toMatchObject({ planned: n, added: n, done: 0, inFlight: 0 });
    expect(batches).toEqual([64, n - 64]);
    // Never submitted: no rollout was looked up.
    expect(lookups).toBe(0);
    const queue = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    expect(await queue.getWaitingCount()).toBe(n);

    // Known now: every rollout is looked up; the queued ones are left alone, and a rollout
    // that is done (its job gone) is not added again.
    const [doneOne, gone] = plan.rollouts;
    await cluster.conn.hset(keys.done(cluster.prefix, plan.meta.id), doneOne!.rolloutId, 'answered|1');
    await queue.remove(doneOne!.rolloutId);
    await queue.remove(gone!.rolloutId);
    batches.length = 0;
    const again = await cluster.submit(plan);
    expect(lookups).toBe(n);
    expect(again).toMatchObject({ planned: n, done: 1, inFlight: n - 2, added: 1 });
    expect(batches).toEqual([1]);
    expect(await queue.getWaitingCount()).toBe(n - 1);
    await queue.close();
  });
});
