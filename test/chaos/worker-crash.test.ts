import { Queue, QueueEvents } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { expertQueueName, keys } from '../../src/core/queues.ts';
import type { SpawnedWorker } from '../../src/process/spawn.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import {
  audit,
  ChaosCluster,
  outcomes,
  recordChaos,
  resultsTable,
  runInProcess,
  seeded,
  until,
} from './harness.ts';

const POLICIES = ['maestro', 'random', 'direct:Chart-R1'];
const BENCHMARKS = ['chartqa', 'tallyqa', 'slake', 'ocrbench'];
/** Seed of the kill schedule: which role dies, which process, at which point of the sweep. */
const CHAOS_SEED = 20_240_611;
const KILLS = 6;

describe('worker processes killed with SIGKILL mid-sweep', () => {
  const cluster = new ChaosCluster({ items: 4, benchmarks: BENCHMARKS, capacity: 2, latencyScale: 0.2 });
  const clusters: ChaosCluster[] = [cluster];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  it('scores every item exactly once, and the table equals an uninterrupted run', async () => {
    await cluster.start();
    const file = cluster.sweepFile('crash', POLICIES);

    // The reference: the same sweep, uninterrupted, on a copy of the same data.
    const reference = cluster.sibling();
    clusters.push(reference);
    await reference.start();
    const refPlan = await reference.plan(reference.sweepFile('crash', POLICIES));
    await runInProcess(reference, refPlan);
    const expected = await resultsTable(reference, refPlan.meta.id);

    const plan = await cluster.plan(file);
    expect(plan.meta.id).toBe(refPlan.meta.id);
    type Role = 'orchestrator' | 'expert';
    // One orchestrator scores in the rollout's last step (the default), the other leaves it
    // to scoring jobs (MAESTRO_INLINE_SCORING=1): kills land on both paths.
    const envOf = new Map<SpawnedWorker, Record<string, string>>();
    const start = async (role: Role, env: Record<string, string> = {}) => {
      const w = await cluster.worker(['--role', role], env);
      envOf.set(w, env);
      return w;
    };
    // Processes that are up (ready); a replacement joins when its start-up is done.
    const alive: Record<Role, SpawnedWorker[]> = {
      orchestrator: await Promise.all([
        start('orchestrator'),
        start('orchestrator', { MAESTRO_INLINE_SCORING: '1' }),
      ]),
      expert: await Promise.all([start('expert'), start('expert')]),
    };
    await cluster.worker(['--role', 'scorer']);
    await cluster.submit(plan);

    // Seeded schedule: kill points (as a share of items scored) and victims.
    const rand = seeded(CHAOS_SEED);
    const points = Array.from({ length: KILLS }, () => 0.05 + rand() * 0.8).sort((a, b) => a - b);
    const schedule = points.map((p) => ({
      at: Math.floor(p * plan.rollouts.length),
      role: rand() < 0.5 ? ('orchestrator' as Role) : ('expert' as Role),
      pick: rand(),
    }));
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    const restarts: Array<Promise<unknown>> = [];
    let killed = 0;
    let killedBusy = 0;
    for (const step of schedule) {
      await until(
        `${step.at} items scored`,
        async () => (await cluster.conn.hlen(doneKey)) >= step.at,
        300_000,
      );
      await until('a process to kill', () => alive.orchestrator.length + alive.expert.length > 0);
      const role: Role =
        alive[step.role].length > 0 ? step.role : step.role === 'expert' ? 'orchestrator' : 'expert';
      const pool = alive[role];
      const victim = pool.splice(Math.floor(step.pick * pool.length), 1)[0]!;
      if ((await cluster.conn.hlen(doneKey)) < plan.rollouts.length) killedBusy++;
      victim.child.kill('SIGKILL');
      await victim.exited;
      killed++;
      // The replacement starts at once; the schedule does not wait for it.
      restarts.push(start(role, envOf.get(victim)).then((w) => pool.push(w)));
    }
    await Promise.all(restarts);
    await cluster.wait(plan);

    const got = await resultsTable(cluster, plan.meta.id);
    const a = await audit(cluster, plan);
    await recordChaos('worker-crash', {
      processesKilled: killed,
      workerRestarts: restarts.length,
      items: a.items,
      itemsLost: a.lost,
      itemsDoubleCounted: a.doubleCounted,
      killedWhileItemsLeft: killedBusy,
    });

    expect(killed).toBe(KILLS);
    // Every kill landed while items were still to do (kill points are at most 85 % through).
    expect(killedBusy).toBe(KILLS);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0, strays: 0 });
    expect(a.records).toBe(plan.rollouts.length);
    // Both ways of scoring ran: some rollouts through scoring jobs, the rest inline.
    const scoringJobs = await cluster.scoringJobsAdded();
    expect(scoringJobs).toBeGreaterThan(0);
    expect(scoringJobs).toBeLessThan(plan.rollouts.length);
    expect(outcomes(got.records)).toEqual(outcomes(expected.records));
    expect(got.md).toBe(expected.md);
    const counts = await cluster.scoredCounts(plan.meta.id);
    expect(Object.keys(counts)).toHaveLength(plan.rollouts.length);
    expect(Object.values(counts).every((c) => c === 1)).toBe(true);
  }, 400_000);

  it('takes a job held by a killed pool process back to work after its lock expires', async () => {
    // Only pools under test's control: a hung request pins one job to pool A.
    const expert = 'GLM-4.6V-Flash';
    await cluster.stopWorkers('SIGKILL');
    await cluster.worker(['--role', 'orchestrator']);
    await cluster.worker(['--role', 'scorer']);
    cluster.sim.setFaults({ [expert]: { hangRate: 1 } });
    const poolA = await cluster.worker(['--role', 'expert', '--experts', expert]);
    const plan: SweepPlan = await cluster.plan(cluster.sweepFile('stall', [`direct:${expert}`]), {
      benchmarks: ['chartqa'],
      limit: 1,
    });
    expect(plan.rollouts).toHaveLength(1);
    const queue = new Queue(expertQueueName(expert), { connection: cluster.conn, prefix: cluster.prefix });
    const events = new QueueEvents(expertQueueName(expert), {
      connection: cluster.conn.duplicate(),
      prefix: cluster.prefix,
    });
    await events.waitUntilReady();
    try {
      await cluster.submit(plan);
      await until('the expert job to hang in pool A', async () => (await queue.getActiveCount()) === 1);
      const [held] = await queue.getActive();
      // Pool B is up before A dies, so the measured time is the recovery, not a start-up.
      await cluster.worker(['--role', 'expert', '--experts', expert]);
      cluster.sim.setFaults({});
      const seen: Array<{ event: string; at: number }> = [];
      events.on('stalled', ({ jobId }) => {
        if (jobId === held!.id) seen.push({ event: 'stalled', at: Date.now() });
      });
      events.on('active', ({ jobId }) => {
        if (jobId === held!.id) seen.push({ event: 'active', at: Date.now() });
      });
      const killedAt = Date.now();
      poolA.child.kill('SIGKILL');
      await poolA.exited;
      await cluster.wait(plan, 240_000);
      const stalled = seen.find((s) => s.event === 'stalled');
      const active = seen.find((s) => s.event === 'active' && s.at >= (stalled?.at ?? Infinity));
      expect(stalled, 'the held job was detected as stalled').toBeDefined();
      expect(active, 'and taken again').toBeDefined();
      const lockMs = 3_000;
      const stalledMs = 1_000;
      // Theory: lock expiry plus at most two stalled checks. Generous margin: this is a bound
      // on recovery (a job is not left behind), not a speed measurement.
      const recoveredMs = active!.at - killedAt;
      expect(recoveredMs).toBeLessThan(4 * (lockMs + 2 * stalledMs));
      const [record] = await cluster.store.readRecords(plan.meta.id);
      expect(record?.status).toBe('answered');
      const a = await audit(cluster, plan);
      expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0 });
      await recordChaos('stalled-recovery', {
        processesKilled: 1,
        workerRestarts: 1,
        faultsInjected: 1,
        items: a.items,
        itemsLost: a.lost,
        itemsDoubleCounted: a.doubleCounted,
        recoveredMs,
      });
    } finally {
      await events.close();
      await queue.close();
    }
  }, 300_000);
});
