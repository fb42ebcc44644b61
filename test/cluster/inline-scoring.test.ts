/**
 * Inline scoring: an orchestrator scores cheap metrics in the rollout's last step (no
 * scoring job), with the same records as the scoring queue gives: by default beside the
 * scorer role, or where its data directory holds the sweep and can be written;
 * MAESTRO_INLINE_SCORING=1 only beside the scorer role, =0 never.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.ts';

const POLICIES = ['direct:GLM-4.6V-Flash', 'oracle', 'random'];

describe('inline scoring', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  /** `ownData`: the orchestrator has a data directory of its own (the datasets, not the sweep). */
  async function run(env: Record<string, string>, split = false, ownData = false) {
    const cluster = new TestCluster({ items: 3, benchmarks: ['chartqa', 'erqa', 'tallyqa'] });
    clusters.push(cluster);
    await cluster.start();
    const orchestratorEnv = { ...env };
    if (ownData) {
      const dir = join(cluster.dir, 'orchestrator-data');
      cpSync(cluster.dataDir, dir, { recursive: true });
      orchestratorEnv.MAESTRO_DATA_DIR = dir;
    }
    if (split) {
      // Separate processes; only the orchestrator is told to score.
      await cluster.worker(['--role', 'orchestrator'], orchestratorEnv);
      await cluster.worker(['--role', 'expert']);
      await cluster.worker(['--role', 'scorer']);
    } else await cluster.worker(['--role', 'all'], env);
    const plan = await cluster.plan(cluster.sweepFile('inline', POLICIES));
    await cluster.submit(plan);
    await cluster.wait(plan);
    const records = await cluster.store.readRecords(plan.meta.id);
    return {
      plan,
      orchestratorWrote: existsSync(
        join(orchestratorEnv.MAESTRO_DATA_DIR ?? cluster.dataDir, 'sweeps', plan.meta.id, 'records'),
      ),
      outcomes: records.map((r) => `${r.rolloutId} ${r.status} ${r.correct} ${r.score}`).sort(),
      counts: Object.values(await cluster.scoredCounts(plan.meta.id)),
      scoringJobs: await cluster.scoringJobsAdded(),
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

  it('by default an orchestrator without the scorer role scores too; =1 leaves it to scoring jobs', async () => {
    const auto = await run({}, true);
    const beside = await run({ MAESTRO_INLINE_SCORING: '1' }, true);
    const n = auto.plan.rollouts.length;
    expect(auto.scoringJobs).toBe(0);
    expect(beside.scoringJobs).toBe(n);
    expect(auto.counts).toHaveLength(n);
    expect(auto.counts.every((c) => c === 1)).toBe(true);
    expect(beside.counts.every((c) => c === 1)).toBe(true);
    expect(auto.outcomes).toEqual(beside.outcomes);
  }, 240_000);

  it('by default an orchestrator whose data directory lacks the sweep leaves its records to the scorers', async () => {
    const own = await run({}, true, true);
    const n = own.plan.rollouts.length;
    expect(own.scoringJobs).toBe(n);
    expect(own.orchestratorWrote).toBe(false);
    expect(own.counts).toHaveLength(n);
    expect(own.counts.every((c) => c === 1)).toBe(true);
  }, 240_000);
});
