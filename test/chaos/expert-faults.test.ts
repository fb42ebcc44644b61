import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import { keys } from '../../src/core/queues.ts';
import { aggregate, findCell } from '../../src/scoring/aggregate.ts';
import { CATALOG, SUITE } from '../helpers/cluster.ts';
import {
  audit,
  ChaosCluster,
  cli,
  injectedFaults,
  outcomes,
  recordChaos,
  resultsTable,
  runInProcess,
  until,
} from './harness.ts';

/** An extra expert that only `direct:` baselines use: its endpoint will hang. */
const SLOWPOKE = `
experts:
  - name: Slowpoke
    model: slowpoke-sim
    baseUrl: \${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/Slowpoke/v1
    capacity: 4
    timeoutMs: 2000
    offered: false
    sim: { defaultAccuracy: 0.9, latencyMs: { median: 5 } }
`;

const BENCHMARKS = ['chartqa', 'tallyqa', 'ocrbench'];

/** Requests each endpoint received, by request content (a retry repeats the same request). */
const seen = new Map<string, number[]>();

describe('experts failing: 5xx, 429, resets, bad bodies, permanent errors, hangs', () => {
  const cluster = new ChaosCluster({
    items: 3,
    benchmarks: BENCHMARKS,
    capacity: 4,
    latencyScale: 0.1,
    registryYaml: SLOWPOKE,
    observe: (kind, ctx) => {
      if (kind === 'service') return;
      const key = `${ctx.endpoint}|${ctx.requestKey}`;
      seen.set(key, [...(seen.get(key) ?? []), Date.now()]);
    },
  });
  const clusters = [cluster];
  let faultsBefore = 0;

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
  }, 300_000);
  afterAll(async () => {
    await recordChaos('expert-faults', {
      faultsInjected: injectedFaults(cluster),
      items: figures.items,
      itemsLost: figures.lost,
      itemsDoubleCounted: figures.double,
    });
    for (const c of clusters) await c.cleanup();
  });
  const figures = { items: 0, lost: 0, double: 0 };
  const tally = (a: { items: number; lost: number; doubleCounted: number }) => {
    figures.items += a.items;
    figures.lost += a.lost;
    figures.double += a.doubleCounted;
  };

  it('retries transient faults a bounded number of times, with backoff, and gets the same results', async () => {
    const policies = ['maestro', 'direct:Chart-R1', 'direct:GLM-4.6V-Flash'];
    const reference = cluster.sibling({ observe: () => {} });
    clusters.push(reference);
    await reference.start();
    const refPlan = await reference.plan(reference.sweepFile('transient', policies));
    await runInProcess(reference, refPlan);
    const expected = outcomes((await resultsTable(reference, refPlan.meta.id)).records);

    const transient = {
      error500Rate: 0.1,
      error429Rate: 0.05,
      retryAfterSec: 1,
      resetRate: 0.05,
      truncatedJsonRate: 0.05,
      emptyChoicesRate: 0.05,
    };
    const experts = [
      'Intern-S1-mini',
      'GLM-4.6V-Flash',
      'qwen3-vl-8b-instruct',
      'Chart-R1',
      'medgemma-1.5-4b-it',
    ];
    cluster.sim.setFaults({
      ...Object.fromEntries(experts.map((e) => [e, transient])),
      maestro: { error500Rate: 0.1 },
    });
    seen.clear();
    const plan = await cluster.plan(cluster.sweepFile('transient', policies));
    await cluster.submit(plan);
    await cluster.wait(plan);
    cluster.sim.setFaults({});
    faultsBefore = injectedFaults(cluster);
    expect(faultsBefore).toBeGreaterThan(5);

    const records = await cluster.store.readRecords(plan.meta.id);
    const got = outcomes(records);
    let differing = 0;
    for (const r of records) {
      if (got[r.rolloutId] === expected[r.rolloutId]) continue;
      differing++;
      // A call that failed on every attempt: an error with its cause, never a wrong answer.
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/server error 500|rate limited \(429\)|connection|no choices|JSON|Unexpected/i);
    }
    expect(differing).toBeLessThanOrEqual(Math.ceil(records.length * 0.15));
    // Bounded: the same request is sent at most once per attempt (4 per expert call, 5 per
    // policy step), and a retry comes after a backoff, never at once.
    let retried = 0;
    for (const [key, times] of seen) {
      const endpoint = key.split('|')[0]!;
      expect(times.length).toBeLessThanOrEqual(endpoint === 'maestro' ? 5 : 4);
      for (let i = 1; i < times.length; i++) {
        retried++;
        expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
      }
    }
    expect(retried).toBeGreaterThan(0);
    // The traces say which calls were retried, and why the failed attempts failed.
    const calls = records.flatMap((r) => r.steps.flatMap((st) => st.calls));
    const retriedCalls = calls.filter((c) => (c.attempts ?? 1) > 1);
    expect(retriedCalls.length).toBeGreaterThan(0);
    expect(retriedCalls.some((c) => c.attemptErrors?.length)).toBe(true);
    for (const c of retriedCalls)
      expect(c.attemptErrors?.length ?? 0).toBeLessThanOrEqual((c.attempts ?? 1) - (c.ok ? 1 : 0));
    const a = await audit(cluster, plan);
    tally(a);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
  }, 300_000);

  it('records a permanently failing skill as an error with its cause; --retry-errors re-runs only those', async () => {
    const policies = ['direct:GLM-4.6V-Flash', 'direct:Chart-R1', 'direct:gpt-5'];
    // GLM answers 500 every time (retried, then given up); Chart-R1 rejects every request (400).
    cluster.sim.setFaults({ 'GLM-4.6V-Flash': { error500Rate: 1 }, 'Chart-R1': { error400Rate: 1 } });
    seen.clear();
    const file = cluster.sweepFile('permanent', policies);
    const plan = await cluster.plan(file);
    await cluster.submit(plan);
    await cluster.wait(plan);

    const first = await cluster.store.readRecords(plan.meta.id);
    const by = (policy: string) => first.filter((r) => r.policy === policy);
    for (const r of by('direct:GLM-4.6V-Flash')) {
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/expert GLM-4\.6V-Flash \(direct\) failed: .*server error 500/);
    }
    for (const r of by('direct:Chart-R1')) {
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/request rejected \(400\)/);
    }
    expect(by('direct:gpt-5').every((r) => r.status !== 'error')).toBe(true);
    // The 400 is permanent: one request per item, no retry. The 500 was retried 4 times.
    const requestsOf = (endpoint: string) =>
      [...seen].filter(([k]) => k.startsWith(`${endpoint}|`)).map(([, t]) => t.length);
    expect(requestsOf('Chart-R1').every((n) => n === 1)).toBe(true);
    expect(requestsOf('GLM-4.6V-Flash').every((n) => n === 4)).toBe(true);
    // Errors are counted in the table as failed, and as wrong in the accuracy (the published
    // convention), with no accuracy over answered items when none ran.
    const catalog = loadCatalog(CATALOG);
    const summary = aggregate(first, catalog, loadSuite(SUITE, catalog));
    const cell = findCell(summary, 'direct:Chart-R1', 'chartqa')!;
    expect(cell).toMatchObject({
      errors: by('direct:Chart-R1').filter((r) => r.benchmark === 'chartqa').length,
    });
    expect(cell).toMatchObject({ n: 0, accuracy: 0, accuracyAnswered: null });

    // GLM is repaired, Chart-R1 still rejects: --retry-errors re-runs the errors, only them.
    cluster.sim.setFaults({ 'Chart-R1': { error400Rate: 1 } });
    const gpt5Before = Object.fromEntries(by('direct:gpt-5').map((r) => [r.rolloutId, r.finishedAt]));
    const res = await cli(['sweep', file, '--retry-errors', '--wait'], cluster.env());
    expect(res.code, res.stderr).toBe(0);
    const errorsBefore = first.filter((r) => r.status === 'error').length;
    expect(res.stdout).toContain(
      `retrying ${errorsBefore} rollouts (${errorsBefore} recorded as errors, 0 failed outright)`,
    );
    const second = await cluster.store.readRecords(plan.meta.id);
    expect(second).toHaveLength(plan.rollouts.length);
    for (const r of second) {
      if (r.policy === 'direct:GLM-4.6V-Flash') expect(r.status).not.toBe('error');
      if (r.policy === 'direct:Chart-R1') expect(r.status).toBe('error');
      if (r.policy === 'direct:gpt-5') expect(r.finishedAt).toBe(gpt5Before[r.rolloutId]); // not re-run
    }
    const counts = await cluster.scoredCounts(plan.meta.id);
    expect(Object.values(counts).every((c) => c === 1)).toBe(true);

    // Everything repaired: a second --retry-errors leaves no error.
    cluster.sim.setFaults({});
    const again = await cli(['sweep', file, '--retry-errors', '--wait'], cluster.env());
    expect(again.code, again.stderr).toBe(0);
    const left = by('direct:Chart-R1').length;
    expect(again.stdout).toContain(`retrying ${left} rollouts (${left} recorded as errors`);
    const third = await cluster.store.readRecords(plan.meta.id);
    expect(third.filter((r) => r.status === 'error')).toEqual([]);
    const a = await audit(cluster, plan);
    tally(a);
    expect(a).toMatchObject({
      lost: 0,
      doubleCounted: 0,
      mismatched: 0,
      scoredMissing: 0,
      records: plan.rollouts.length,
    });
  }, 300_000);

  it('lets other experts finish while one endpoint hangs, then records its items as timed out', async () => {
    cluster.sim.setFaults({ Slowpoke: { hangRate: 1 } });
    const plan = await cluster.plan(
      cluster.sweepFile('hang', ['direct:Slowpoke', 'direct:Chart-R1', 'direct:GLM-4.6V-Flash']),
      { limit: 1 },
    );
    const slow = new Set(plan.rollouts.filter((r) => r.policy === 'direct:Slowpoke').map((r) => r.rolloutId));
    const others = plan.rollouts.filter((r) => !slow.has(r.rolloutId)).map((r) => r.rolloutId);
    await cluster.submit(plan);
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    await until('the other experts to finish', async () => {
      const done = await cluster.conn.hmget(doneKey, ...others);
      return done.every((v) => v !== null);
    });
    // Every Slowpoke request hangs until its 2 s timeout, 4 attempts each: none of its items
    // can be done yet, and its hung requests never exceeded its capacity.
    const slowDone = await cluster.conn.hmget(doneKey, ...slow);
    expect(slowDone.filter((v) => v !== null)).toEqual([]);
    const stats = cluster.sim.stats().Slowpoke!;
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.completed).toBe(0);
    expect(stats.peakInFlight).toBeLessThanOrEqual(4);

    await cluster.wait(plan, 240_000);
    const records = await cluster.store.readRecords(plan.meta.id);
    for (const r of records) {
      if (slow.has(r.rolloutId)) {
        expect(r.status).toBe('error');
        expect(r.error).toMatch(/Slowpoke.*timed out/);
      } else expect(r.status).not.toBe('error');
    }
    cluster.sim.setFaults({});
    const a = await audit(cluster, plan);
    tally(a);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
  }, 300_000);
});
