import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { registryPrices } from '../../src/cli/report.ts';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { banditKeys } from '../../src/policies/bandit.ts';
import { learningCurve } from '../../src/scoring/analytics.ts';
import { writeReport } from '../../src/scoring/index.ts';
import { stuckRollouts } from '../chaos/harness.ts';
import { CATALOG, SUITE, TestCluster } from '../helpers/cluster.ts';

const DEMO_POLICIES = [
  'maestro',
  'maestro:llm-router',
  'rules',
  'bandit',
  'random',
  'oracle',
  'direct:gpt-5',
  'direct:GLM-4.6V-Flash',
];

/** Mean accuracy over all benchmarks (each weighs the same). */
function macro(records: ItemRecord[], policy: string): number {
  const byBench = new Map<string, { n: number; c: number }>();
  for (const r of records.filter((x) => x.policy === policy && x.status !== 'error')) {
    const b = byBench.get(r.benchmark) ?? { n: 0, c: 0 };
    b.n++;
    if (r.correct) b.c++;
    byBench.set(r.benchmark, b);
  }
  const accs = [...byBench.values()].map((b) => b.c / b.n);
  return accs.reduce((a, b) => a + b, 0) / accs.length;
}

describe('every policy side by side in one sweep', () => {
  const cluster = new TestCluster({ items: 4, latencyScale: 0.05 });
  afterAll(() => cluster.cleanup());

  it('produces one table in the paper layout, the expected ordering, and the routing charts', async () => {
    await cluster.start();
    await Promise.all([cluster.worker(['--role', 'all']), cluster.worker(['--role', 'all'])]);
    const plan = await cluster.plan(cluster.sweepFile('policies', DEMO_POLICIES));
    await cluster.submit(plan);
    await cluster.wait(plan, 480_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await stuckRollouts(cluster, plan)}`);
    });
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    expect(records.filter((r) => r.status === 'error')).toEqual([]);

    const catalog = loadCatalog(CATALOG);
    const out = join(cluster.dir, 'report');
    const registry = loadRegistry(cluster.registryFiles, {});
    const report = await writeReport(out, records, {
      catalog,
      suite: loadSuite(SUITE, catalog),
      sweepId: plan.meta.id,
      prices: registryPrices(registry),
    });
    for (const p of report.summary.byPolicy) {
      expect(p.inDomainAvg, p.policy).not.toBeNull();
      expect(p.outOfDomainAvg, p.policy).not.toBeNull();
    }
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/\| Policy \| MathVista \|.*\| In-domain avg \| Out-of-domain avg \|/);
    for (const p of DEMO_POLICIES) expect(md).toContain(`| ${p} |`);

    // With the simulated profiles: the routing upper bound, then Maestro, the rules, chance.
    const acc = Object.fromEntries(DEMO_POLICIES.map((p) => [p, macro(records, p)]));
    expect(acc.oracle).toBeGreaterThanOrEqual(acc.maestro!);
    expect(acc.maestro).toBeGreaterThanOrEqual(acc.rules!);
    expect(acc.rules).toBeGreaterThan(acc.random!);

    // The oracle ran every offered pair on every item, through the expert queues.
    const pairs = registry.offeredExperts().length * registry.offeredSkills().length;
    for (const r of records.filter((x) => x.policy === 'oracle')) {
      expect(r.candidates).toHaveLength(pairs);
      expect(r.expertCalls).toBeGreaterThanOrEqual(pairs);
    }

    // Charts are written and linked.
    expect(report.markdown).toContain('(accuracy.svg)');
    expect(report.markdown).toContain('(routing.md)');
    const routing = readFileSync(join(out, 'routing.md'), 'utf8');
    expect(routing).toContain('](routing-maestro.svg)');
    expect(routing).toMatch(/\| direct:gpt-5 \| \d+ \|.*\| 0\.\d{4} \|/); // priced API model has a cost
    for (const svg of ['accuracy.svg', 'routing-maestro.svg', 'routing-rules.svg', 'routing-bandit.svg']) {
      const meta = await sharp(join(out, svg)).metadata();
      expect(meta.format, svg).toBe('svg');
      expect(meta.width ?? 0, svg).toBeGreaterThan(300);
    }
  }, 600_000);
});

describe('the bandit', () => {
  // Learning needs pulls: one benchmark with 200 items (a real sweep has many); on SLAKE most pairs are poor, so learning shows.
  const cluster = new TestCluster({ items: 200, benchmarks: ['slake'], latencyScale: 0.05 });
  afterAll(() => cluster.cleanup());

  it('learns during the sweep, shared by two processes, losing no reward', async () => {
    await cluster.start();
    await Promise.all([cluster.worker(['--role', 'all']), cluster.worker(['--role', 'all'])]);
    const plan = await cluster.plan(cluster.sweepFile('bandit', ['bandit{window: 4}']));
    await cluster.submit(plan);
    await cluster.wait(plan, 480_000);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(200);

    const [first, second] = learningCurve(records, 'bandit{window: 4}', 2);
    expect(first?.n).toBe(100);
    expect(second!.accuracy).toBeGreaterThan(first!.accuracy);

    // Every scored item's reward was counted once, whichever process scored it.
    const k = banditKeys(cluster.prefix, plan.meta.id, 'bandit{window: 4}');
    const stats = await cluster.conn.hgetall(k.stats);
    const trials = Object.entries(stats)
      .filter(([key]) => key.endsWith('|n'))
      .reduce((a, [, v]) => a + Number(v), 0);
    expect(trials).toBe(records.length);
    expect(await cluster.conn.hlen(k.rewarded)).toBe(records.length);
    expect(await cluster.conn.hlen(k.decisions)).toBe(records.length);
    const orders = records.map((r) => Number(r.policyMeta?.order)).sort((a, b) => a - b);
    expect(orders).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  }, 600_000);
});
