import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import { keys } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { writeReport } from '../../src/scoring/index.ts';
import { CATALOG, SUITE, TestCluster } from '../helpers/cluster.ts';

const CAPACITY = 3;

describe('a sweep across separate orchestrator and expert-pool processes', () => {
  const cluster = new TestCluster({ items: 4, capacity: CAPACITY, latencyScale: 0.1 });
  let plan: SweepPlan;

  beforeAll(async () => {
    await cluster.start();
    await Promise.all([
      cluster.worker(['--role', 'orchestrator']),
      cluster.worker(['--role', 'orchestrator']),
      cluster.worker(['--role', 'orchestrator']),
      cluster.worker(['--role', 'expert']),
      cluster.worker(['--role', 'expert']),
      cluster.worker(['--role', 'scorer']),
    ]);
    plan = await cluster.plan(
      cluster.sweepFile('dist', ['maestro', 'random', 'direct:gpt-5', 'direct:GLM-4.6V-Flash']),
    );
    await cluster.submit(plan);
    await cluster.wait(plan);
  }, 400_000);

  afterAll(() => cluster.cleanup());

  it('scores every one of 200+ rollouts exactly once', async () => {
    expect(plan.rollouts.length).toBeGreaterThanOrEqual(200);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    expect(new Set(records.map((r) => r.rolloutId))).toEqual(new Set(plan.rollouts.map((r) => r.rolloutId)));
    const counts = await cluster.scoredCounts(plan.meta.id);
    expect(Object.keys(counts)).toHaveLength(plan.rollouts.length);
    expect(Object.values(counts).every((c) => c === 1)).toBe(true);
    expect(await cluster.conn.hlen(keys.done(cluster.prefix, plan.meta.id))).toBe(plan.rollouts.length);
    expect(records.filter((r) => r.status === 'error')).toEqual([]);
  });

  it('never sends an expert more concurrent requests than its capacity, with two pool processes', () => {
    const stats = cluster.sim.stats();
    const registry = loadRegistry(cluster.registryFiles, {});
    const peaks = registry.experts.map((e) => stats[e.name]?.peakInFlight ?? 0);
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(CAPACITY);
    // The load was high enough for the cap to matter: some expert ran at capacity.
    expect(Math.max(...peaks)).toBe(CAPACITY);
  });

  it('enqueues nothing when the finished sweep is submitted again', async () => {
    const again = await cluster.submit(
      await cluster.plan(
        cluster.sweepFile('dist', ['maestro', 'random', 'direct:gpt-5', 'direct:GLM-4.6V-Flash']),
      ),
    );
    expect(again.sweepId).toBe(plan.meta.id);
    expect(again.added).toBe(0);
    expect(again.done).toBe(plan.rollouts.length);
  });

  it('writes a results table with every benchmark and policy', async () => {
    const records = await cluster.store.readRecords(plan.meta.id);
    const catalog = loadCatalog(CATALOG);
    const out = join(cluster.dir, 'report');
    const report = await writeReport(out, records, {
      catalog,
      suite: loadSuite(SUITE, catalog),
      sweepId: plan.meta.id,
    });
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    for (const p of ['maestro', 'random', 'direct:gpt-5', 'direct:GLM-4.6V-Flash']) expect(md).toContain(p);
    expect(report.markdown).toBe(md);
  });
});
