/**
 * `dispatch: await`: an expert call is a job on the expert's queue that the rollout awaits.
 * The reply comes back on the awaiting process's list, and is stored under the rollout, so
 * that a reply sent to a process that died, a failed job without a reply and a job that
 * vanished still settle the call. The pool side sends the result, or the final failure,
 * before its job ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { type Command, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { slug } from '../../src/core/hash.ts';
import type { Item } from '../../src/core/items.ts';
import type { ExpertCall, ExpertJobResult } from '../../src/core/jobs.ts';
import { expertQueueName, keys } from '../../src/core/queues.ts';
import { DataStore } from '../../src/data/store.ts';
import { planDiscard } from '../../src/producer/discard.ts';
import { AwaitedExperts, awaitedJobId, sendReply } from '../../src/workers/awaited-experts.ts';
import { replying } from '../../src/workers/expert-pool.ts';
import { REDIS_URL } from '../helpers/cluster.ts';
import { testRollout } from '../helpers/rollouts.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const item: Item = { id: 'i1', question: 'how many?', answer: '3', images: [] } as unknown as Item;
const rollout = testRollout;
const call = (input = 'count the birds'): ExpertCall => ({
  kind: 'expert',
  turn: 0,
  call: 0,
  expert: 'Solo',
  skill: 'answer',
  input,
});
const answer = (text: string): ExpertJobResult => ({ text, calls: [], latencyMs: 5 });

describe('awaited expert calls', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `maestro-test-await-${randomBytes(4).toString('hex')}`;
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: conn, prefix });
      queues.set(name, q);
    }
    return q;
  };
  const solo = queue(expertQueueName('Solo'));
  const awaited = new AwaitedExperts({ connection: conn, prefix, queue, firstCheckMs: 200 });
  const workers: Worker[] = [];

  afterAll(async () => {
    for (const w of workers) await w.close();
    await awaited.close();
    for (const q of queues.values()) {
      await q.obliterate({ force: true });
      await q.close();
    }
    const left = await conn.keys(`${prefix}:*`);
    if (left.length) await conn.del(...left);
    conn.disconnect();
  });

  /** Waits for the call's job to be queued; returns it. */
  async function queued(jobId: string): Promise<Job> {
    for (let i = 0; i < 200; i++) {
      const job = await solo.getJob(jobId);
      if (job) return job;
      await sleep(10);
    }
    throw new Error(`job ${jobId} never queued`);
  }

  it('settles a call with the reply the pool sends, and stores it under the rollout', async () => {
    const r = rollout('r-sent');
    const jobId = awaitedJobId(call(), r);
    const pending = awaited.run(call(), r, item, false);
    const job = await queued(jobId);
    expect(job.data.replyTo).toBe(awaited.listener);
    expect(job.data.input).toBe('count the birds');
    expect(job.parentKey).toBeUndefined();
    await sendReply(
      conn,
      prefix,
      { rolloutId: r.rolloutId, replyTo: awaited.listener, jobId },
      { ok: answer('3') },
    );
    expect(await pending).toEqual({ kind: 'expert', out: answer('3') });
    expect(JSON.parse((await conn.hget(keys.awaited(prefix, r.rolloutId), jobId)) ?? '{}')).toEqual({
      ok: answer('3'),
    });
    expect(awaited.pending).toBe(0);
    // The rollout's end drops what was kept for it.
    awaited.finished(r);
    await sleep(50);
    expect(await conn.exists(keys.awaited(prefix, r.rolloutId))).toBe(0);
  });

  it('gives one reply to both activations that await the same call in one process', async () => {
    const r = rollout('r-twice');
    const jobId = awaitedJobId(call(), r);
    const first = awaited.run(call(), r, item, false);
    const second = awaited.run(call(), r, item, true);
    await queued(jobId);
    await sendReply(
      conn,
      prefix,
      { rolloutId: r.rolloutId, replyTo: awaited.listener, jobId },
      { ok: answer('5') },
    );
    expect(await first).toEqual({ kind: 'expert', out: answer('5') });
    expect(await second).toEqual({ kind: 'expert', out: answer('5') });
  });

  it('maps another call at the same place to another job', () => {
    const r = rollout('r-ids');
    expect(awaitedJobId(call('a'), r)).not.toBe(awaitedJobId(call('b'), r));
    expect(awaitedJobId(call('a'), r)).toBe(awaitedJobId(call('a'), r));
    expect(awaitedJobId({ ...call('a'), model: 'm' }, r)).not.toBe(awaitedJobId(call('a'), r));
  });

  it('takes a stored reply without adding a job when the rollout runs again', async () => {
    const r = rollout('r-resumed');
    const jobId = awaitedJobId(call(), r);
    await conn.hset(keys.awaited(prefix, r.rolloutId), jobId, JSON.stringify({ failed: 'endpoint said no' }));
    expect(await awaited.run(call(), r, item, true)).toEqual({ kind: 'failed', reason: 'endpoint said no' });
    expect(await solo.getJob(jobId)).toBeUndefined();
  });

  it('finds a reply stored for a process that is gone (never sent to this one)', async () => {
    const r = rollout('r-stored');
    const jobId = awaitedJobId(call(), r);
    const pending = awaited.run(call(), r, item, false);
    await queued(jobId);
    await sendReply(
      conn,
      prefix,
      { rolloutId: r.rolloutId, replyTo: 'another-process', jobId },
      { ok: answer('7') },
    );
    expect(await pending).toEqual({ kind: 'expert', out: answer('7') });
    await conn.del(keys.replies(prefix, 'another-process'));
  });

  it('reports a job that failed without a reply with its reason', async () => {
    const r = rollout('r-failed');
    const jobId = awaitedJobId(call(), r);
    // The calls of the tests before, never served, out of the way.
    await solo.drain(true);
    // A plain worker (no reply): as when the pool died at the failure, or the job stalled out.
    const worker: Worker = new Worker(
      solo.name,
      async (): Promise<unknown> => {
        throw new UnrecoverableError('the endpoint refused the image');
      },
      { connection: conn, prefix },
    );
    workers.push(worker);
    const result = await awaited.run(call(), r, item, false);
    await worker.close();
    expect(result).toEqual({ kind: 'failed', reason: 'the endpoint refused the image' });
    expect(await solo.getJobState(jobId)).toBe('failed');
  });

  it('adds a job that vanished without a reply once more, then gives the call up', async () => {
    const r = rollout('r-lost');
    const jobId = awaitedJobId(call(), r);
    const pending = awaited.run(call(), r, item, false);
    await (await queued(jobId)).remove();
    // Added again by the check.
    await (await queued(jobId)).remove();
    const result = await pending;
    expect(result.kind).toBe('failed');
    expect(result.kind === 'failed' && result.reason).toMatch(/ended without a reply/);
  });

  it('refuses a reply that is not one', async () => {
    const r = rollout('r-invalid');
    const jobId = awaitedJobId(call(), r);
    // Watched from the start: the refusal can come before the push's own reply.
    const refused = expect(awaited.run(call(), r, item, false)).rejects.toThrow(/invalid expert reply/);
    await queued(jobId);
    await conn.rpush(keys.replies(prefix, awaited.listener), `${jobId}\n{"ok":{"text":3}}`);
    await refused;
  });
});

describe('the pool side of an awaited call', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `maestro-test-reply-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const left = await conn.keys(`${prefix}:*`);
    if (left.length) await conn.del(...left);
    conn.disconnect();
  });

  const fakeJob = (attemptsMade: number, replyTo?: string) =>
    ({
      id: `r9.t0.${attemptsMade}`,
      data: { rolloutId: 'r9', ...(replyTo ? { replyTo } : {}) },
      attemptsMade,
      opts: { attempts: 3 },
    }) as unknown as Job;
  const stored = async (jobId: string) => {
    const v = await conn.hget(keys.awaited(prefix, 'r9'), jobId);
    return v === null ? null : JSON.parse(v);
  };
  const sent = async () => conn.lrange(keys.replies(prefix, 'orch-1'), 0, -1);

  it('stores and sends the result before the job completes', async () => {
    const wrapped = replying({ connection: conn, prefix }, async () => answer('42'));
    // The result goes in the reply only.
    expect(await wrapped(fakeJob(0, 'orch-1'))).toBeNull();
    expect(await stored('r9.t0.0')).toEqual({ ok: answer('42') });
    expect(await sent()).toEqual([`r9.t0.0\n${JSON.stringify({ ok: answer('42') })}`]);
    expect(await conn.pttl(keys.replies(prefix, 'orch-1'))).toBeGreaterThan(0);
  });

  it('sends a failure only when the queue will not run the job again', async () => {
    await conn.del(keys.replies(prefix, 'orch-1'));
    const retryable = replying({ connection: conn, prefix }, async () => {
      throw new Error('503 from the endpoint');
    });
    await expect(retryable(fakeJob(0, 'orch-1'))).rejects.toThrow('503');
    expect(await stored('r9.t0.0')).toEqual({ ok: answer('42') });
    expect(await sent()).toEqual([]);
    // The last attempt.
    await expect(retryable(fakeJob(2, 'orch-1'))).rejects.toThrow('503');
    expect(await stored('r9.t0.2')).toEqual({ failed: '503 from the endpoint' });
    // A permanent failure, on its first attempt.
    const permanent = replying({ connection: conn, prefix }, async () => {
      throw new UnrecoverableError('bad request: no such model');
    });
    await expect(permanent(fakeJob(1, 'orch-1'))).rejects.toThrow('no such model');
    expect(await stored('r9.t0.1')).toEqual({ failed: 'bad request: no such model' });
    expect(await sent()).toHaveLength(2);
  });

  it('stores the reply before BullMQ completes its job, though it does not wait for it', async () => {
    // The commands as the worker's connection sends them: Redis runs one connection's
    // commands in that order.
    const name = 'order';
    const own = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const sent: string[][] = [];
    const send = own.sendCommand.bind(own);
    own.sendCommand = ((command: Command, stream?: unknown) => {
      sent.push(command.args.map(String));
      return send(command, stream as never);
    }) as typeof own.sendCommand;
    const queue = new Queue(name, { connection: conn, prefix });
    const worker = new Worker(
      name,
      replying({ connection: own, prefix }, async () => answer('1')),
      {
        connection: own,
        prefix,
      },
    );
    await queue.add(
      'call',
      { rolloutId: 'r9', replyTo: 'orch-2' },
      { jobId: 'r9.t1.order', removeOnComplete: true },
    );
    while ((await queue.getJobCounts('active', 'wait')).wait || !(await stored('r9.t1.order')))
      await sleep(20);
    await sleep(100);
    await worker.close();
    await queue.close();
    own.disconnect();
    const reply = sent.findIndex((args) => args.includes(keys.replies(prefix, 'orch-2')));
    const completed = sent.findIndex((args) => args.includes(`${prefix}:${name}:completed`));
    expect(reply).toBeGreaterThanOrEqual(0);
    expect(completed).toBeGreaterThan(reply);
    // The job did complete (and was removed).
    expect(await conn.exists(`${prefix}:${name}:r9.t1.order`)).toBe(0);
  });

  it('leaves a child job (no replyTo) alone', async () => {
    const wrapped = replying({ connection: conn, prefix }, async () => answer('x'));
    const job = fakeJob(0);
    (job as { id: string }).id = 'r9.child';
    expect(await wrapped(job)).toEqual(answer('x'));
    expect(await stored('r9.child')).toBeNull();
  });
});

describe('discarding a sweep with calls awaited', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `maestro-test-discard-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const left = await conn.keys(`${prefix}:*`);
    if (left.length) await conn.del(...left);
    conn.disconnect();
  });

  it('removes the replies kept for its rollouts as keys, not as jobs of a queue', async () => {
    const sweepId = 'awaited-sweep-0123456789ab';
    const rolloutId = `${slug(sweepId, 64)}.tallyqa.maestro.i1.s0`;
    await conn.hset(keys.awaited(prefix, rolloutId), `${rolloutId}.t0.abc`, '{"failed":"x"}');
    await conn.hset(keys.awaited(prefix, 'another-sweep.tallyqa.maestro.i1.s0'), 'f', '{}');
    const store = new DataStore(mkdtempSync(join(tmpdir(), 'maestro-discard-')));
    const plan = await planDiscard(conn, prefix, store, sweepId, false);
    expect([...plan.jobs.keys()]).toEqual([]);
    expect(plan.keys).toEqual([keys.awaited(prefix, rolloutId)]);
  });
});
