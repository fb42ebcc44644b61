/**
 * A rollout asks for a call again when it holds no result for it. Child ids are
 * deterministic and failed jobs are kept, so the id may belong to a failed job whose failure
 * never reached the parent (Redis went back to an earlier moment). Adding over it listed the
 * job as a pending dependency that nothing would run again: the rollout waited forever
 * (seen in the Redis-restart chaos run: processed 1, unprocessed 1, ignored 1).
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, WaitingChildrenError, Worker } from 'bullmq';
import { type Command, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.ts';
import type { ExpertCall, RolloutState } from '../../src/core/jobs.ts';
import { jobIds } from '../../src/core/queues.ts';
import type { Policy, PolicyContext } from '../../src/policies/index.ts';
import type { ChildJob } from '../../src/workers/children.ts';
import { addChild, clusterIO } from '../../src/workers/cluster-io.ts';
import { REDIS_URL } from '../helpers/cluster.ts';
import { testRollout } from '../helpers/rollouts.ts';

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

describe('the failed-set lookup sent with the save before a call', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `maestro-test-lookup-${randomBytes(4).toString('hex')}`;
  const rollouts = new Queue('rollouts', { connection: conn, prefix });
  const calls = new Queue('expert.Solo', { connection: conn, prefix });
  const workers: Worker[] = [];

  afterAll(async () => {
    for (const w of workers) await w.close();
    await rollouts.obliterate({ force: true });
    await calls.obliterate({ force: true });
    await rollouts.close();
    await calls.close();
    conn.disconnect();
  });

  const data = testRollout('r1');
  const call: ExpertCall = { kind: 'expert', turn: 0, call: 0, expert: 'Solo', skill: 'answer', input: 'q' };
  const state: RolloutState = { phase: 'policy', turn: 0, steps: [], pending: [call] };
  const childId = jobIds.step('r1', 0, 0);

  /** Runs one activation's save and call through clusterIO; returns the commands it sent and how it ended. */
  async function activation(): Promise<{ sent: string[]; parked: boolean }> {
    const counted = conn.duplicate({ maxRetriesPerRequest: null });
    await counted.ping(); // connected: no command goes through the offline queue (sent twice)
    // The commands this connection sends, in order (scripts by their first key's last part).
    const sent: string[] = [];
    const send = counted.sendCommand.bind(counted);
    counted.sendCommand = ((command: Command, ...rest: unknown[]) => {
      const key = String(command.args[2] ?? '');
      sent.push(command.name === 'evalsha' ? `script ${key.slice(key.lastIndexOf(':') + 1)}` : command.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof counted.sendCommand;
    let parked = false;
    const done = new Promise<void>((resolve, reject) => {
      const w = new Worker(
        'rollouts',
        async (job: Job, token?: string) => {
          const io = clusterIO({
            job,
            token: token!,
            data,
            item: { id: 'i1', question: 'q', answer: '1', images: [] } as unknown as Item,
            policy: {} as Policy,
            context: () => ({}) as PolicyContext,
            queue: () => calls,
            conn: counted,
            prefix,
            expertAttempts: 1,
          });
          try {
            await io.save(state);
            await io.call(state, [call]);
          } catch (err) {
            parked = err instanceof WaitingChildrenError;
            if (!parked) reject(err);
            resolve();
            throw err;
          }
          resolve();
          return null;
        },
        { connection: conn, prefix, autorun: false },
      );
      workers.push(w);
      w.run().catch(reject);
    });
    await done;
    await workers.pop()?.close();
    counted.disconnect();
    return { sent, parked };
  }

  it('asks once per child, and a child kept as failed under the id is run afresh', async () => {
    // A failed job kept under the child's id (its failure never reached the parent).
    const failing = new Worker(
      'expert.Solo',
      async () => {
        throw new Error('fails');
      },
      { connection: conn, prefix },
    );
    await calls.add('call', { v: 1 }, { jobId: childId, removeOnFail: 1000 });
    for (let i = 0; i < 200 && (await calls.getJobState(childId)) !== 'failed'; i++) await sleep(25);
    await failing.close();
    expect(await conn.zscore(`${prefix}:expert.Solo:failed`, childId)).not.toBeNull();
    await rollouts.add('rollout', data, { jobId: 'r1' });
    const { sent, parked } = await activation();
    expect(parked).toBe(true);
    // One lookup, sent before the save's script (so in the same write), none after it.
    expect(sent.filter((c) => c === 'zscore')).toHaveLength(1);
    expect(sent.indexOf('zscore')).toBeLessThan(sent.findIndex((c) => c.startsWith('script')));
    expect(await conn.zscore(`${prefix}:expert.Solo:failed`, childId)).toBeNull();
    const child = await calls.getJob(childId);
    expect(child?.parentKey).toBe(`${prefix}:rollouts:r1`);
    expect(await child?.getState()).toBe('waiting');
    expect(await (await rollouts.getJob('r1'))?.getState()).toBe('waiting-children');
  }, 30_000);
});
