/**
 * `dispatch: inline`: orchestrators make the expert calls themselves under a cluster-wide
 * semaphore per expert. The results must be those of the queue (same table, every item
 * scored once, also through kill -9), no expert job may be created, and no endpoint may see
 * more requests at once than its capacity, however many workers call it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { keys } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { resultsTable, SIM_REGISTRY, TestCluster } from '../helpers/cluster.ts';

const POLICIES = ['maestro', 'direct:Chart-R1'];
const BENCHMARKS = ['chartqa', 'tallyqa', 'ocrbench'];
const CAPACITY = 2;

const outcome = (records: ItemRecord[]) =>
  Object.fromEntries(
    records.map((r) => [
      // Without the sweep id: the registry's dispatch is part of the run identity.
      r.rolloutId.split('.').slice(1).join('.'),
      `${r.status}|${r.extracted}|${r.correct}|${r.steps.map((s) => `${s.expert}@${s.skill}`).join(',')}`,
    ]),
  );

describe('expert calls made by the orchestrators (dispatch: inline)', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  async function run(inline: boolean, workers: number, killAt?: number) {
    const cluster = new TestCluster({
      items: 4,
      benchmarks: BENCHMARKS,
      capacity: CAPACITY,
      latencyScale: 0.3,
    });
    if (inline) {
      const file = join(cluster.dir, 'dispatch-inline.registry.yaml');
      writeFileSync(file, 'dispatch: inline\n');
      cluster.registryFiles.push(file);
    }
    clusters.push(cluster);
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('inline', POLICIES));
    await Promise.all(Array.from({ length: workers }, () => cluster.worker(['--role', 'all'])));
    await cluster.submit(plan);
    if (killAt !== undefined) {
      const done = keys.done(cluster.prefix, plan.meta.id);
      while ((await cluster.conn.hlen(done)) < plan.rollouts.length * killAt)
        await new Promise((r) => setTimeout(r, 20));
      await cluster.stopWorkers('SIGKILL');
      await Promise.all(Array.from({ length: workers }, () => cluster.worker(['--role', 'all'])));
    }
    await cluster.wait(plan);
    const expertJobs = await cluster.conn.keys(`${cluster.prefix}:expert*:*`);
    return {
      ...(await resultsTable(cluster, plan.meta.id)),
      counts: await cluster.scoredCounts(plan.meta.id),
      stats: cluster.sim.stats(),
      expertJobs,
      cluster,
      plan,
    };
  }

  it('gives the queue’s table, creates no expert job and keeps every expert within its capacity', async () => {
    const queued = await run(false, 1);
    const inline = await run(true, 2);
    const killed = await run(true, 2, 0.5);

    expect(queued.expertJobs.length).toBeGreaterThan(0);
    for (const r of [inline, killed]) {
      expect(r.expertJobs).toEqual([]);
      expect(outcome(r.records)).toEqual(outcome(queued.records));
      expect(r.md).toBe(queued.md);
      expect(Object.values(r.counts).every((c) => c === 1)).toBe(true);
      expect(Object.keys(r.counts)).toHaveLength(r.plan.rollouts.length);
    }
    const registry = loadRegistry([SIM_REGISTRY]);
    for (const [name, st] of Object.entries(inline.stats)) {
      if (!registry.experts.some((e) => e.name === name)) continue;
      expect(st.peakInFlight, name).toBeLessThanOrEqual(CAPACITY);
    }
    // Some expert was busy enough to meet its cap (otherwise the check above proves little).
    const peaks = Object.entries(inline.stats)
      .filter(([name]) => registry.experts.some((e) => e.name === name))
      .map(([, st]) => st.peakInFlight);
    expect(Math.max(...peaks)).toBe(CAPACITY);
  }, 600_000);

  it('refuses adaptive concurrency with dispatch: inline, naming the expert', () => {
    const dir = clusters[0]?.dir ?? '/tmp';
    const file = join(dir, 'inline-adaptive.yaml');
    writeFileSync(
      file,
      [
        'dispatch: inline',
        'experts:',
        '  - name: Adaptive-X',
        '    model: x',
        '    baseUrl: http://127.0.0.1:1/v1',
        '    adaptive: { min: 1 }',
      ].join('\n'),
    );
    expect(() => loadRegistry([file])).toThrow(/experts\[0\]\.adaptive.*dispatch: inline/);
  });
});
