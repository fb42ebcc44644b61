/**
 * Inline scoring: a worker running the orchestrator beside the scorer role scores cheap
 * metrics in the rollout's last step (no scoring job), with the same records as the
 * scoring queue gives; MAESTRO_INLINE_SCORING=0 keeps every rollout on the queue.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SCORE_QUEUE } from '../../src/core/queues.ts';
import { TestCluster } from '../helpers/cluster.ts';

const POLICIES = ['direct:GLM-4.6V-Flash', 'oracle', 'random'];

/** How many jobs were ever added to the scoring queue (its event stream's `added` entries). */
async function scoringJobsAdded(cluster: TestCluster): Promise<number> {
  const events = (await cluster.conn.xrange(`${cluster.prefix}:${SCORE_QUEUE}:events`, '-', '+')) as Array<
    [string, string[]]
  >;
  return events.filter(([, fields]) => fields[0] === 'event' && fields[1] === 'added').length;
}

describe('inline scoring', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  async function run(env: Record<string, string>, split = false) {
    const cluster = new TestCluster({ items: 3, benchmarks: ['chartqa', 'erqa', 'tallyqa'] });
    clusters.push(cluster);
    await cluster.start();
    if (split) {
      // Separate processes; only the orchestrator is told to score.
      await cluster.worker(['--role', 'orchestrator'], env);
      await cluster.worker(['--role', 'expert']);
      await cluster.worker(['--role', 'scorer']);
    } else await cluster.worker(['--role', 'all'], env);
    const plan = await cluster.plan(cluster.sweepFile('inline', POLICIES));
    await cluster.submit(plan);
    await cluster.wait(plan);
    const records = await cluster.store.readRecords(plan.meta.id);
    return {
      plan,
      outcomes: records.map((r) => `${r.rolloutId} ${r.status} ${r.correct} ${r.score}`).sort(),
      counts: Object.values(await cluster.scoredCounts(plan.meta.id)),
      scoringJobs: await scoringJobsAdded(cluster),
    };
  }

  it('writes every record once without a scoring job, as the scoring queue would', async () => {
    const inline = await run({});
    const queued = await run({ MAESTRO_INLINE_SCORING: '0' });
    const n = inline.plan.rollouts.length;
    expect(inline.outcomes).toHaveLength(n);
    expect(inline.counts).toHaveLength(n);
    expect(inline.counts.every((c) => c === 1)).toBe(true);
    expect(inline.scoringJobs).toBe(0);
    expect(queued.scoringJobs).toBe(n);
    expect(queued.counts.every((c) => c === 1)).toBe(true);
    // Same sweep, same records, whichever way it was scored (rollout ids share the fingerprint).
    expect(queued.plan.meta.id).toBe(inline.plan.meta.id);
    expect(queued.outcomes).toEqual(inline.outcomes);
  }, 240_000);

  it('MAESTRO_INLINE_SCORING=always: an orchestrator without the scorer role scores too', async () => {
    const always = await run({ MAESTRO_INLINE_SCORING: 'always' }, true);
    const split = await run({}, true);
    const n = always.plan.rollouts.length;
    expect(always.scoringJobs).toBe(0);
    expect(split.scoringJobs).toBe(n);
    expect(always.counts).toHaveLength(n);
    expect(always.counts.every((c) => c === 1)).toBe(true);
    expect(always.outcomes).toEqual(split.outcomes);
  }, 240_000);
});
