/**
 * The comparison the dispatch tests make: the same sweep (the maestro policy and a direct
 * baseline over three benchmarks, two slots per expert) run with a registry `dispatch`
 * mode, by some `worker --role all` processes, optionally all killed (-9) part-way and
 * started again; its outcomes are compared with the queue's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { keys } from '../../src/core/queues.ts';
import type { DispatchMode } from '../../src/core/registry.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { resultsTable, SIM_REGISTRY, TestCluster } from './cluster.ts';

export const DISPATCH_POLICIES = ['maestro', 'direct:Chart-R1'];
export const DISPATCH_BENCHMARKS = ['chartqa', 'tallyqa', 'ocrbench'];
/** Slots per expert: low, so the caps are met. */
export const DISPATCH_CAPACITY = 2;

/** Each rollout's outcome, without the sweep id (the registry's dispatch is part of the run identity). */
const outcome = (records: ItemRecord[]) =>
  Object.fromEntries(
    records.map((r) => [
      r.rolloutId.split('.').slice(1).join('.'),
      `${r.status}|${r.extracted}|${r.correct}|${r.steps.map((s) => `${s.expert}@${s.skill}`).join(',')}`,
    ]),
  );

/** A test cluster whose registry sets `dispatch` (none for the queue, the default). */
export function dispatchCluster(
  dispatch: DispatchMode,
  opts: { items?: number; latencyScale?: number } = {},
): TestCluster {
  const cluster = new TestCluster({
    items: opts.items ?? 4,
    benchmarks: DISPATCH_BENCHMARKS,
    capacity: DISPATCH_CAPACITY,
    latencyScale: opts.latencyScale ?? 0.3,
  });
  if (dispatch !== 'queue') {
    const file = join(cluster.dir, `dispatch-${dispatch}.registry.yaml`);
    writeFileSync(file, `dispatch: ${dispatch}\n`);
    cluster.registryFiles.push(file);
  }
  return cluster;
}

/**
 * Runs the sweep on `cluster` (started here) with `workers` processes; with `killAt`, kills
 * them all once that share of the rollouts is done and starts as many again.
 */
export async function runDispatch(cluster: TestCluster, workers: number, killAt?: number) {
  await cluster.start();
  const plan = await cluster.plan(cluster.sweepFile('dispatch', DISPATCH_POLICIES));
  const start = () => Promise.all(Array.from({ length: workers }, () => cluster.worker(['--role', 'all'])));
  await start();
  await cluster.submit(plan);
  if (killAt !== undefined) {
    const done = keys.done(cluster.prefix, plan.meta.id);
    while ((await cluster.conn.hlen(done)) < plan.rollouts.length * killAt)
      await new Promise((r) => setTimeout(r, 20));
    await cluster.stopWorkers('SIGKILL');
    await start();
  }
  await cluster.wait(plan);
  return {
    ...(await resultsTable(cluster, plan.meta.id)),
    counts: await cluster.scoredCounts(plan.meta.id),
    stats: cluster.sim.stats(),
    plan,
  };
}

/** The simulator's peak requests in flight, per expert of the simulated registry. */
export function expertPeaks(stats: Record<string, { peakInFlight: number }>): number[] {
  const registry = loadRegistry([SIM_REGISTRY]);
  return Object.entries(stats)
    .filter(([name]) => registry.experts.some((e) => e.name === name))
    .map(([, st]) => st.peakInFlight);
}

type DispatchRun = Awaited<ReturnType<typeof runDispatch>>;

/** `r` gave the queue's results: the same outcomes and table, every item scored once. */
export function expectQueueResults(r: DispatchRun, queued: DispatchRun): void {
  expect(outcome(r.records)).toEqual(outcome(queued.records));
  expect(r.md).toBe(queued.md);
  expect(Object.values(r.counts).every((c) => c === 1)).toBe(true);
  expect(Object.keys(r.counts)).toHaveLength(r.plan.rollouts.length);
}
