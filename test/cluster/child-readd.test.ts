/**
 * A rollout asks for a call again when it holds no result for it. Child ids are
 * deterministic and failed jobs are kept, so the id may belong to a failed job whose failure
 * never reached the parent (Redis went back to an earlier moment). Adding over it listed the
 * job as a pending dependency that nothing would run again: the rollout waited forever
 * (seen in the Redis-restart chaos run: processed 1, unprocessed 1, ignored 1).
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, WaitingChildrenError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildJob } from '../../src/workers/children.ts';
import { addChild } from '../../src/workers/cluster-io.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a child asked for again over a failed job of the same id', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `maestro-test-readd-${randomBytes(4).toString('hex')}`;
  const parents = new Queue('rollouts', { connection: conn, prefix });
  const children = new Queue('calls', { connection: conn, prefix });
  const workers: Worker[] = [];

  afterAll(async () => {
    for (const w of workers) await w.close();
    await parents.obliterate({ force: true });
    await children.obliterate({ force: true });
    await parents.close();
    await children.close();
    conn.disconnect();
  });

  it('runs the call afresh and the parent finishes', async () => {
    const child: ChildJob = {
      queue: 'calls',
      name: 'call',
      jobId: 'p1.t0.c0',
      data: { v: 1, sweepId: 's', rolloutId: 'p1' },
      opts: { ignoreDependencyOnFailure: true, removeOnComplete: true, removeOnFail: 1000 },
    };
    let runs = 0;
    workers.push(
      new Worker(
        'calls',
        async () => {
          runs++;
          if (runs === 1) throw new Error('first run fails');
          return 'ok';
        },
        { connection: conn, prefix },
      ),
    );
    // First activation: add the call. Second (its failure came back): the failure is
    // dropped from the parent, as a Redis rollback would, and the call is asked for again.
    let activations = 0;
    workers.push(
      new Worker(
        'rollouts',
        async (job: Job, token?: string) => {
          activations++;
          if (activations === 2) {
            expect(Object.keys(await job.getIgnoredChildrenFailures())).toHaveLength(1);
            await conn.del(`${prefix}:rollouts:${job.id}:failed`);
          }
          if (activations <= 2) {
            await addChild(conn, prefix, children, child, job);
            if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
          }
          return Object.values(await job.getChildrenValues());
        },
        { connection: conn, prefix },
      ),
    );
    const parent = await parents.add('rollout', {}, { jobId: 'p1' });
    let state = await parent.getState();
    for (let i = 0; i < 600 && state !== 'completed'; i++) {
      await sleep(50);
      state = await parent.getState();
    }
    expect(state, JSON.stringify(await parent.getDependenciesCount())).toBe('completed');
    expect(runs).toBe(2);
    expect(activations).toBe(3);
    expect((await parents.getJob('p1'))?.returnvalue).toEqual(['ok']);
  }, 60_000);
});
