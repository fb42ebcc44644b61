/**
 * A rollout's state is saved only under its job's lock: an activation that lost the lock
 * (the job stalled, or Redis came back at an earlier moment and the job was taken again)
 * cannot overwrite what the activation holding it saved.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/core/redis.ts';
import { saveState } from '../../src/workers/cluster-io.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

const conn = connectRedis(REDIS_URL, 'worker');
const prefix = `{save-state-${randomUUID().slice(0, 8)}}`;
const queue = new Queue('rollouts', { connection: conn, prefix });
const worker = new Worker('rollouts', null, { connection: conn.duplicate(), prefix, autorun: false });

afterAll(async () => {
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await conn.quit();
});

describe('saving a rollout state', () => {
  it('saves under the lock, and refuses a stale token without changing the data', async () => {
    const data = { v: 1, sweepId: 's', rolloutId: 'r1', note: 'first' };
    await queue.add('rollout', data, { jobId: 'r1' });
    const held = await worker.getNextJob('token-a');
    expect(held?.id).toBe('r1');
    const job = held!;
    const saved = { ...data, note: 'saved by the holder' };
    await saveState(conn, job, 'token-a', saved);
    expect(job.data).toEqual(saved);
    expect(JSON.parse((await conn.hget(`${prefix}:rollouts:r1`, 'data')) ?? '')).toEqual(saved);

    // Another activation's token: refused, the data stays the holder's.
    const stale = { ...data, note: 'stale' };
    await expect(saveState(conn, job, 'token-b', stale)).rejects.toThrow(/lock is no longer this worker/);
    expect(JSON.parse((await conn.hget(`${prefix}:rollouts:r1`, 'data')) ?? '')).toEqual(saved);

    // The lock gone (expired): refused too.
    await conn.del(`${prefix}:rollouts:r1:lock`);
    await expect(saveState(conn, job, 'token-a', stale)).rejects.toThrow(/lock/);
    await conn.del(`${prefix}:rollouts:r1`);
    await expect(saveState(conn, job, 'token-a', stale)).rejects.toThrow(/job is gone/);
  });
});
