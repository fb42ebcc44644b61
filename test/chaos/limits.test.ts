import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_SIZE_LIMITS } from '../../src/core/jobs.ts';
import { expertQueueName, keys, ROLLOUT_QUEUE, SCORE_QUEUE } from '../../src/core/queues.ts';
import { audit, ChaosCluster, cli, injectedFaults, recordChaos, until } from './harness.ts';

/**
 * `Sluggish` answers after 4 s (80 s × the 0.05 latency scale); `pacer` is a policy endpoint
 * that serves one request at a time, 300 ms each, so rollouts start at a steady pace.
 */
const LIMITS_REGISTRY = `
experts:
  - name: Sluggish
    model: sluggish-sim
    baseUrl: \${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/Sluggish/v1
    offered: false
    sim: { defaultAccuracy: 0.9, latencyMs: { median: 80000, sigma: 0 } }
policies:
  - name: pacer
    model: pacer-sim
    baseUrl: \${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/pacer/v1
    capacity: 1
    sim: { routingQuality: 1, latencyMs: { median: 6000, sigma: 0 } }
`;
const EXPERTS = [
  'Intern-S1-mini',
  'GLM-4.6V-Flash',
  'qwen3-vl-8b-instruct',
  'Chart-R1',
  'medgemma-1.5-4b-it',
];

describe('limits: payload size, item time budget, error threshold', () => {
  const cluster = new ChaosCluster({
    items: 4,
    benchmarks: ['chartqa', 'tallyqa', 'slake', 'ocrbench', 'mathvista', 'geometry3k'],
    registryYaml: LIMITS_REGISTRY,
  });
  const figures = { items: 0, lost: 0, double: 0 };
  const tally = (a: { items: number; lost: number; doubleCounted: number }) => {
    figures.items += a.items;
    figures.lost += a.lost;
    figures.double += a.doubleCounted;
  };

  beforeAll(async () => {
    await cluster.start();
  }, 300_000);
  afterAll(async () => {
    await recordChaos('limits', {
      faultsInjected: injectedFaults(cluster),
      items: figures.items,
      itemsLost: figures.lost,
      itemsDoubleCounted: figures.double,
    });
    await cluster.cleanup();
  });

  it('sets sizeLimit on rollout, expert and scoring jobs, and BullMQ refuses a payload over it', async () => {
    // Only an orchestrator: expert jobs stay queued, so their options can be read. It leaves
    // scoring to scoring jobs (not its default inline scoring), so theirs can be read too.
    await cluster.worker(['--role', 'orchestrator'], { MAESTRO_INLINE_SCORING: '1' });
    const plan = await cluster.plan(cluster.sweepFile('sizes', ['direct:Chart-R1']), {
      benchmarks: ['chartqa'],
      limit: 2,
    });
    await cluster.submit(plan);
    const rollouts = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    const expert = new Queue(expertQueueName('Chart-R1'), {
      connection: cluster.conn,
      prefix: cluster.prefix,
    });
    try {
      await until('expert jobs', async () => (await expert.getWaitingCount()) === plan.rollouts.length);
      for (const r of plan.rollouts) {
        expect((await Job.fromId(rollouts, r.rolloutId))?.opts.sizeLimit).toBe(JOB_SIZE_LIMITS.rollout);
      }
      for (const j of await expert.getWaiting(0, -1)) expect(j.opts.sizeLimit).toBe(JOB_SIZE_LIMITS.expert);
      const tooBig = { input: 'x'.repeat(JOB_SIZE_LIMITS.expert + 1) };
      await expect(
        expert.add('call', tooBig, { jobId: 'oversize', sizeLimit: JOB_SIZE_LIMITS.expert }),
      ).rejects.toThrow(/exceeds the limit/);
      expect(await Job.fromId(expert, 'oversize')).toBeUndefined();
      // A pool, but no scorer yet: the scoring children wait, with their limit.
      await cluster.worker(['--role', 'expert']);
      const scoring = new Queue(SCORE_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
      await until('scoring jobs', async () => (await scoring.getWaitingCount()) === plan.rollouts.length);
      for (const j of await scoring.getWaiting(0, -1)) expect(j.opts.sizeLimit).toBe(JOB_SIZE_LIMITS.score);
      await scoring.close();
      // The workers stay up for the next tests.
      await cluster.worker(['--role', 'scorer']);
      await cluster.wait(plan);
      tally(await audit(cluster, plan));
    } finally {
      await rollouts.close();
      await expert.close();
    }
  }, 300_000);

  it('ends a rollout that runs past its wall-clock budget as an error "time budget exceeded"', async () => {
    const plan = await cluster.plan(
      cluster.sweepFile('budget', ['direct:Sluggish', 'direct:Chart-R1'], { itemBudgetMs: 2_500 }),
      { benchmarks: ['chartqa', 'tallyqa'], limit: 2 },
    );
    expect(plan.meta.itemBudgetMs).toBe(2_500);
    await cluster.submit(plan);
    await cluster.wait(plan);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    for (const r of records) {
      if (r.policy === 'direct:Sluggish') {
        expect(r.status).toBe('error');
        expect(r.error).toMatch(/^time budget exceeded \(2500 ms per item/);
        expect(r.latencyMs).toBeGreaterThan(2_500);
      } else {
        expect(r.status).toBe('answered');
      }
    }
    const a = await audit(cluster, plan);
    tally(a);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
  }, 300_000);

  it('pauses a sweep whose recent items are mostly errors, says so, and resumes on request', async () => {
    // Every expert rejects every request: each rollout fails at its first call.
    cluster.sim.setFaults(Object.fromEntries(EXPERTS.map((e) => [e, { error400Rate: 1 }])));
    const file = cluster.sweepFile('pause', ['maestro:pacer'], { pauseOnErrors: { rate: 0.5, window: 4 } });
    const plan = await cluster.plan(file);
    const total = plan.rollouts.length;
    expect(total).toBe(24);

    const waited = await cli(['sweep', file, '--wait'], cluster.env());
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(
      /is paused: 4 of the last 4 finished items are errors \(threshold 50 %\); latest: expert .* failed: .*\(400\)/,
    );
    expect(waited.stderr).toContain('--resume');

    // Rollouts in flight finish; the ones not started are held back (delayed), none running.
    const rollouts = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    await until('in-flight rollouts to settle', async () => {
      const c = await rollouts.getJobCounts('waiting', 'active', 'waiting-children', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    });
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    const finishedWhilePaused = await cluster.conn.hlen(doneKey);
    const policyCalls = cluster.sim.stats().pacer!.requests;
    expect(finishedWhilePaused).toBeGreaterThanOrEqual(4);
    expect(finishedWhilePaused).toBeLessThan(total);
    expect(await rollouts.getDelayedCount()).toBe(total - finishedWhilePaused);
    const status = await cli(['status', plan.meta.id], cluster.env());
    expect(status.stdout).toMatch(/PAUSED since .*: \d+ of the last 4 finished items are errors/);
    // Nothing new reaches the policy endpoint while paused.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(cluster.sim.stats().pacer!.requests).toBe(policyCalls);
    await rollouts.close();

    cluster.sim.setFaults({});
    const resumed = await cli(['sweep', file, '--resume', '--wait'], cluster.env());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resumed (was paused: `);
    expect(resumed.stdout).toContain(`${total - finishedWhilePaused} held-back rollouts started`);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(total);
    expect(records.filter((r) => r.status === 'error')).toHaveLength(finishedWhilePaused);
    expect(await cluster.conn.exists(keys.paused(cluster.prefix, plan.meta.id))).toBe(0);
    const a = await audit(cluster, plan);
    tally(a);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
  }, 300_000);
});
