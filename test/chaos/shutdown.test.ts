import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expertQueueName, keys, ROLLOUT_QUEUE, SCORE_QUEUE } from '../../src/core/queues.ts';
import { type SpawnedWorker, spawnCli } from '../../src/process/spawn.ts';
import { audit, ChaosCluster, recordChaos, until } from './harness.ts';

const EXPERTS = [
  'Intern-S1-mini',
  'GLM-4.6V-Flash',
  'qwen3-vl-8b-instruct',
  'Chart-R1',
  'medgemma-1.5-4b-it',
];

/** Sends SIGTERM and waits for the exit; returns the exit code and how long it took. */
async function term(w: SpawnedWorker): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  w.child.kill('SIGTERM');
  const code = await w.exited;
  return { code, ms: Date.now() - started };
}

describe('graceful shutdown (SIGTERM) during a sweep', () => {
  const cluster = new ChaosCluster({
    items: 3,
    benchmarks: ['chartqa', 'tallyqa', 'slake', 'ocrbench'],
    capacity: 2,
    latencyScale: 0.3,
  });
  const figures = { items: 0, lost: 0, double: 0, stops: 0, faults: 0 };

  beforeAll(async () => {
    await cluster.start();
  }, 300_000);
  afterAll(async () => {
    await recordChaos('graceful-shutdown', {
      gracefulStops: figures.stops,
      workerRestarts: figures.stops,
      faultsInjected: figures.faults,
      items: figures.items,
      itemsLost: figures.lost,
      itemsDoubleCounted: figures.double,
    });
    await cluster.cleanup();
  });

  it('finishes in-flight work within the deadline, leaves nothing locked, and loses nothing', async () => {
    const roles = ['orchestrator', 'expert', 'scorer'];
    const workers = await Promise.all(roles.map((r) => cluster.worker(['--role', r])));
    const plan = await cluster.plan(cluster.sweepFile('term', ['maestro', 'direct:Chart-R1']));
    await cluster.submit(plan);
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    const total = plan.rollouts.length;
    await until('40 % scored', async () => (await cluster.conn.hlen(doneKey)) >= 0.4 * total);
    const exits = await Promise.all(workers.map(term));
    cluster.workers.splice(0);
    figures.stops += exits.length;
    const doneAtStop = await cluster.conn.hlen(doneKey);
    expect(doneAtStop).toBeLessThan(total);
    for (const [i, e] of exits.entries()) {
      // 0: every active job finished before the 5 s deadline (1 would mean the deadline hit).
      expect(e.code, workers[i]!.output.join('\n')).toBe(0);
      expect(workers[i]!.output.join('\n')).toContain('SIGTERM: finishing in-flight jobs');
    }
    // Nothing is left active (locked by a process that is gone).
    for (const name of [ROLLOUT_QUEUE, SCORE_QUEUE, ...EXPERTS.map(expertQueueName)]) {
      const q = new Queue(name, { connection: cluster.conn, prefix: cluster.prefix });
      expect(await q.getActiveCount(), name).toBe(0);
      await q.close();
    }
    await Promise.all(roles.map((r) => cluster.worker(['--role', r])));
    await cluster.wait(plan);
    const a = await audit(cluster, plan);
    figures.items += a.items;
    figures.lost += a.lost;
    figures.double += a.doubleCounted;
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0, strays: 0 });
  }, 300_000);

  it('past the deadline exits, and the unfinished job is taken up by another worker', async () => {
    const expert = 'GLM-4.6V-Flash';
    cluster.sim.setFaults({ [expert]: { hangRate: 1 } });
    figures.faults++;
    const plan = await cluster.plan(cluster.sweepFile('deadline', [`direct:${expert}`]), {
      benchmarks: ['chartqa'],
      limit: 1,
    });
    // Pools of the first test are stopped; this one has a 1.5 s shutdown deadline. The
    // orchestrator and scorer stay the cluster's, for its cleanup to stop.
    const pools = cluster.workers.filter((x) => x.role.includes('expert'));
    cluster.workers.splice(0, cluster.workers.length, ...cluster.workers.filter((x) => !pools.includes(x)));
    for (const w of pools) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const pool = spawnCli(
      ['worker', '--role', 'expert', '--experts', expert, '--shutdown-ms', '1500'],
      cluster.env(),
      { label: 'pool' },
    );
    await until('the pool to be ready', () => pool.output.some((l) => l.startsWith('ready:')));
    const queue = new Queue(expertQueueName(expert), { connection: cluster.conn, prefix: cluster.prefix });
    try {
      await cluster.submit(plan);
      await until('the call to hang', async () => (await queue.getActiveCount()) === 1);
      const stop = await term(pool);
      figures.stops++;
      expect(stop.code).toBe(1);
      expect(pool.output.join('\n')).toContain('shutdown deadline passed');
      // It waited for the in-flight call up to its deadline, not longer than a generous bound.
      expect(stop.ms).toBeGreaterThanOrEqual(1_400);
      expect(stop.ms).toBeLessThan(15_000);
      cluster.sim.setFaults({});
      await cluster.worker(['--role', 'expert', '--experts', expert]);
      await cluster.wait(plan, 240_000);
      const [record] = await cluster.store.readRecords(plan.meta.id);
      expect(record?.status).toBe('answered');
      const a = await audit(cluster, plan);
      figures.items += a.items;
      figures.lost += a.lost;
      figures.double += a.doubleCounted;
      expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
    } finally {
      await queue.close();
      if (pool.child.exitCode === null) pool.child.kill('SIGKILL');
    }
  }, 300_000);

  it('a signal during start-up or right at `ready:` still stops the worker gracefully', async () => {
    // SIGTERM from the output handler, at the first line (start-up: its pools print before
    // `ready:`) and at `ready:` itself: the worker must have its handlers by then.
    for (const at of ['expert pool', 'ready:']) {
      const w = spawnCli(['worker', '--role', 'all'], cluster.env(), { label: `term at ${at}` });
      let sent = false;
      w.child.stdout?.on('data', (b: Buffer) => {
        if (!sent && b.toString().includes(at)) {
          sent = true;
          w.child.kill('SIGTERM');
        }
      });
      const code = await w.exited;
      expect(sent, at).toBe(true);
      expect({ at, code, signal: w.child.signalCode }).toEqual({ at, code: 0, signal: null });
      expect(w.output.join('\n')).toContain('SIGTERM: finishing in-flight jobs');
    }
  }, 120_000);
});
