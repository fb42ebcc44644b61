/**
 * EagerWorker: a job's processor starts when the job is fetched, not when the worker has
 * stopped fetching; every job still runs once per attempt, and BullMQ's completion, retry,
 * failure and delay handling are unchanged.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, type Job, Queue, QueueEvents, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EagerWorker } from '../../src/workers/eager-worker.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await conn.quit();
});

function setUp(processor: (job: Job) => Promise<unknown>, concurrency: number) {
  const prefix = `{eager-${randomBytes(4).toString('hex')}}`;
  const queue = new Queue('q', { connection: conn, prefix });
  const worker = new EagerWorker('q', processor, { connection: conn, prefix, concurrency });
  const eventsConn = conn.duplicate();
  const events = new QueueEvents('q', { connection: eventsConn, prefix });
  events.setMaxListeners(200);
  // Closed in reverse order: the events, their connection, the worker, the queue.
  opened.push(
    { close: () => queue.obliterate({ force: true }).then(() => queue.close()) },
    worker,
    { close: () => eventsConn.quit().then(() => {}) },
    events,
  );
  return { queue, worker, events };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EagerWorker', () => {
  it('starts jobs added one by one as they come, not once it holds as many as its concurrency', async () => {
    let added = 0;
    /** How many jobs had been added when each job started, by job index. */
    const addedAtStart = new Map<number, number>();
    const { queue, worker } = setUp(async (job) => {
      addedAtStart.set((job.data as { i: number }).i, added);
      await sleep(200);
    }, 64);
    await worker.waitUntilReady();
    for (let i = 0; i < 60; i++) {
      await queue.add('j', { i });
      added++;
    }
    while (addedAtStart.size < 60) await sleep(10);
    // BullMQ's own worker holds the jobs it fetches until it has 64 or finds none: its first
    // jobs start after (nearly) all 60 were added. Here job 10 starts long before.
    expect(addedAtStart.get(10)).toBeLessThan(40);
  });

  it('runs each job once per attempt: completes, retries, fails unrecoverable errors, delays', async () => {
    const runs = new Map<string, number>();
    const { queue, worker, events } = setUp(async (job) => {
      const name = job.name;
      runs.set(job.id ?? '', (runs.get(job.id ?? '') ?? 0) + 1);
      if (name === 'flaky' && job.attemptsMade === 0) throw new Error('first attempt fails');
      if (name === 'broken') throw new UnrecoverableError('never works');
      if (name === 'later' && job.attemptsStarted === 1 && !(job.data as { moved?: boolean }).moved) {
        await job.updateData({ moved: true });
        await job.moveToDelayed(Date.now() + 50, job.token);
        throw new DelayedError();
      }
      return `${name}:${job.id}`;
    }, 8);
    await worker.waitUntilReady();
    const plain = await queue.addBulk(Array.from({ length: 100 }, (_, i) => ({ name: 'ok', data: { i } })));
    const flaky = await queue.add('flaky', {}, { attempts: 2 });
    const broken = await queue.add('broken', {}, { attempts: 3 });
    const later = await queue.add('later', {});
    const results = await Promise.all(plain.map((j) => j.waitUntilFinished(events, 20_000)));
    expect(results).toEqual(plain.map((j) => `ok:${j.id}`));
    expect(await flaky.waitUntilFinished(events, 20_000)).toBe(`flaky:${flaky.id}`);
    await expect(broken.waitUntilFinished(events, 20_000)).rejects.toThrow('never works');
    expect(await later.waitUntilFinished(events, 20_000)).toBe(`later:${later.id}`);
    for (const j of plain) expect(runs.get(j.id ?? '')).toBe(1);
    expect(runs.get(flaky.id ?? '')).toBe(2);
    expect(runs.get(broken.id ?? '')).toBe(1);
    expect(runs.get(later.id ?? '')).toBe(2);
    expect(await queue.getJobCounts('active', 'wait', 'delayed')).toEqual({ active: 0, wait: 0, delayed: 0 });
  });
});
