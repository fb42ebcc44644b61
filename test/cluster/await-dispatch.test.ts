/**
 * `dispatch: await`: each expert call is a job on the expert's queue that the rollout awaits
 * while it keeps its slot; the pool sends the result back. The results must be those of the
 * queue's child jobs (same table, every item scored once, also through kill -9 of every
 * worker), no rollout may have children, nothing may be left behind, and a rollout whose
 * orchestrator died finds the replies of the calls it had made instead of making them again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { expertQueueName, keys } from '../../src/core/queues.ts';
import { resultsTable, type TestCluster } from '../helpers/cluster.ts';
import {
  DISPATCH_CAPACITY,
  dispatchCluster,
  expectQueueResults,
  expertPeaks,
  runDispatch,
} from '../helpers/dispatch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('expert calls awaited by the rollouts (dispatch: await)', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  const expertJobsAdded = async (c: TestCluster) => {
    const events = (await c.conn.xrange(
      `${c.prefix}:${expertQueueName('Chart-R1')}:events`,
      '-',
      '+',
    )) as Array<[string, string[]]>;
    return events.filter(([, f]) => f[0] === 'event' && f[1] === 'added').length;
  };

  async function run(awaited: boolean, workers: number, killAt?: number) {
    const c = dispatchCluster(awaited ? 'await' : 'queue');
    clusters.push(c);
    const result = await runDispatch(c, workers, killAt);
    await c.stopWorkers('SIGTERM');
    return {
      ...result,
      children: await c.conn.keys(`${c.prefix}:rollouts:*:dependencies`),
      processed: await c.conn.keys(`${c.prefix}:rollouts:*:processed`),
      kept: await c.conn.keys(`${c.prefix}:awaited:*`),
      lists: await c.conn.keys(`${c.prefix}:replies:*`),
      expertJobs: await expertJobsAdded(c),
    };
  }

  it('gives the queue’s table without child jobs, leaves nothing behind, keeps every expert within its capacity', async () => {
    const queued = await run(false, 1);
    const awaited = await run(true, 2);
    const killed = await run(true, 2, 0.5);

    expect(queued.processed.length).toBeGreaterThan(0);
    for (const r of [awaited, killed]) {
      expect(r.expertJobs).toBeGreaterThan(0);
      expect(r.children).toEqual([]);
      expect(r.processed).toEqual([]);
      expectQueueResults(r, queued);
    }
    // Every rollout's kept replies went with it; the reply lists with their processes.
    expect(awaited.kept).toEqual([]);
    expect(awaited.lists).toEqual([]);
    const peaks = expertPeaks(awaited.stats);
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(DISPATCH_CAPACITY);
    expect(Math.max(...peaks)).toBe(DISPATCH_CAPACITY);
  }, 600_000);

  it('survives kill -9 of the orchestrator (no call made twice) and of the pool', async () => {
    // Direct calls only: a rollout run again makes the same call, so its stored reply is found.
    const c = dispatchCluster('await', { items: 8, latencyScale: 1 });
    clusters.push(c);
    await c.start();
    const plan = await c.plan(c.sweepFile('await-kill', ['direct:Chart-R1']));
    await c.worker(['--role', 'expert']);
    await c.worker(['--role', 'orchestrator']);
    await c.submit(plan);
    const done = keys.done(c.prefix, plan.meta.id);
    const n = plan.rollouts.length;
    const doneCount = () => c.conn.hlen(done);
    // The orchestrator dies with calls awaited; the pool answers them all to a list nobody
    // reads before another orchestrator starts.
    while ((await doneCount()) < n * 0.2) await sleep(20);
    const [pool, orchestrator] = c.workers.splice(0);
    orchestrator?.child.kill('SIGKILL');
    await orchestrator?.exited;
    c.workers.push(pool!);
    const expertQueue = `${c.prefix}:${expertQueueName('Chart-R1')}`;
    const busy = async () =>
      (await c.conn.llen(`${expertQueue}:wait`)) + (await c.conn.llen(`${expertQueue}:active`));
    while ((await busy()) > 0) await sleep(20);
    // Answered while nobody listened: more replies than the pool's capacity (a rollout
    // making its call again would show in the endpoint's count below).
    const orphaned = (await c.conn.keys(`${c.prefix}:awaited:*`)).length;
    expect(orphaned).toBeGreaterThan(DISPATCH_CAPACITY);
    await c.worker(['--role', 'orchestrator']);
    // Then the pool dies in the middle of calls: the queue runs them again (stalled jobs).
    while ((await doneCount()) < n * 0.6) await sleep(20);
    pool?.child.kill('SIGKILL');
    await pool?.exited;
    c.workers.splice(c.workers.indexOf(pool!), 1);
    await c.worker(['--role', 'expert']);
    await c.wait(plan);

    const counts = await c.scoredCounts(plan.meta.id);
    expect(Object.keys(counts)).toHaveLength(n);
    expect(Object.values(counts).every((k) => k === 1)).toBe(true);
    const { records } = await resultsTable(c, plan.meta.id);
    expect(
      records.filter((r) => r.status === 'error').map((r) => `${r.rolloutId}: ${r.status} ${r.error}`),
    ).toEqual([]);
    // Calls made twice can only be those the pool's kill interrupted (at most its capacity):
    // none from the orchestrator's kill.
    const requests = c.sim.stats()['Chart-R1']?.requests ?? 0;
    expect(requests).toBeGreaterThanOrEqual(n);
    expect(requests).toBeLessThanOrEqual(n + DISPATCH_CAPACITY);
  }, 600_000);
});
