/**
 * GPU saturation: five experts of capacities 8–64 with ~200 ms lognormal service times,
 * skewed routing. The best any scheduler can do is bounded by the busiest expert: its
 * total service time ÷ its capacity (the simulator adds up the service time it slept per
 * endpoint). Efficiency = that ideal makespan ÷ the measured one.
 */
import { Queue } from 'bullmq';
import type { ExpertJobData } from '../../core/jobs.ts';
import { expertQueueName } from '../../core/queues.ts';
import type { EndpointStats } from '../../sim/server.ts';
import { BENCH_BENCHMARKS, type BenchContext, type ExpertSpec, Stage, sleep } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { mean, round } from '../stats.ts';
import { CpuMeter, elapsedS, type Scenario, seedsFor } from './common.ts';

const TARGET = 0.95;

/**
 * Capacities 8–64; skewed routing: the smallest expert gets 8 of the 13 benchmarks (62 % of
 * the calls), so it binds while the control plane needs only ~65 rollouts/s to feed it.
 */
export const SATURATION_EXPERTS: ExpertSpec[] = [
  {
    name: 'E8',
    capacity: 8,
    medianMs: 200,
    sigma: 0.3,
    domains: ['math', 'geometry', 'counting', 'chart', 'perception', 'medical'],
  },
  { name: 'E16', capacity: 16, medianMs: 200, sigma: 0.3, domains: ['microscopy', 'earth-science'] },
  { name: 'E24', capacity: 24, medianMs: 200, sigma: 0.3, domains: ['ocr'] },
  { name: 'E32', capacity: 32, medianMs: 200, sigma: 0.3, domains: ['low-level-vision'] },
  { name: 'E64', capacity: 64, medianMs: 200, sigma: 0.3, domains: ['embodied'] },
];

/**
 * Reference measured in the same run: the busiest expert's pool process alone (the other
 * workers stopped), fed with skill jobs directly. What it keeps in flight is what the pool
 * itself achieves on this machine, without the rest of the cluster competing for the cores.
 */
async function poolAlone(ctx: BenchContext, stage: Stage, quick: boolean): Promise<{ meanInFlight: number }> {
  const expert = SATURATION_EXPERTS[0] as ExpertSpec;
  // Workers were started in this order: orchestrator, the busiest expert's pool, the other pool, scorer.
  const pool = stage.workers[1];
  await stage.stopWorkers(stage.workers.filter((w) => w !== pool));
  const queue = new Queue(expertQueueName(expert.name), { connection: ctx.conn, prefix: stage.prefix });
  try {
    const ds = await ctx.store.loadDataset('chartqa');
    const n = quick ? 150 : 400;
    await queue.addBulk(
      Array.from({ length: n }, (_, i) => {
        const item = ds.items[i % ds.items.length];
        if (!item) throw new Error('no chartqa items');
        const data: ExpertJobData = {
          v: 1,
          sweepId: 'pool-alone',
          rolloutId: `pool-alone-${i}`,
          turn: 0,
          expert: expert.name,
          skill: 'analyze',
          input: item.question,
          benchmark: 'chartqa',
          itemId: item.id,
          images: item.images,
          seed: i,
        };
        return { name: 'call', data, opts: { removeOnComplete: true, removeOnFail: true } };
      }),
    );
    await sleep(1_000);
    const samples: number[] = [];
    const end = performance.now() + (quick ? 3_000 : 8_000);
    while (performance.now() < end) {
      samples.push((await stage.simStats())[expert.name]?.inFlight ?? 0);
      await sleep(100);
    }
    return { meanInFlight: mean(samples) };
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

export const saturationScenario: Scenario = {
  id: 'saturation',
  title: 'GPU saturation',
  estimateS: { full: 40, quick: 12 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const n = quick ? 400 : 1_600;
    const stage = await Stage.start(ctx, {
      name: 'saturation',
      latencyScale: 1,
      registry: {
        maxTurns: 3,
        policy: { medianMs: 20, sigma: 0.3, capacity: 512 },
        experts: SATURATION_EXPERTS,
      },
      // One pool process per GPU host as deployed: the busiest expert's pool runs alone.
      workers: [
        { role: 'orchestrator', args: ['--concurrency', '32'] },
        { role: 'expert', args: ['--experts', 'E8'] },
        { role: 'expert', args: ['--experts', 'E16,E24,E32,E64'] },
        { role: 'scorer' },
      ],
    });
    try {
      const items =
        (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
      const plan = await stage.plan('saturation', ['maestro'], seedsFor(n, items));
      plan.rollouts = plan.rollouts.slice(0, n);
      const before = await stage.simStats();
      const t0 = performance.now();
      ctx.mark('start');
      const pids = stage.pids();
      const cpu = new CpuMeter([
        { label: 'simulated servers (all six endpoints)', pid: pids.sim },
        { label: 'redis-server', pid: ctx.redisPid },
        ...pids.workers.map((w, i) => ({
          label: `${w.role.replace(/^saturation:/, 'worker ')}#${i}`,
          pid: w.pid,
        })),
        { label: 'bench (sampling)', pid: process.pid },
      ]);
      // The busiest expert's requests in flight over time (what keeping its GPU busy means).
      const busiestName = SATURATION_EXPERTS[0]?.name ?? 'E8';
      const samples: Array<[number, number, number]> = [];
      const waitKey = `${stage.prefix}:${expertQueueName(busiestName)}:wait`;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const [st, waiting] = await Promise.all([stage.simStats(), ctx.conn.llen(waitKey)]);
          samples.push([performance.now() - t0, st[busiestName]?.inFlight ?? 0, waiting]);
          await sleep(100);
        }
      })();
      await stage.submit(plan);
      const t1 = await stage.waitDone(plan, n, { pollMs: 10 });
      sampling = false;
      await sampler;
      const makespanMs = t1 - t0;
      ctx.mark('end');
      const cpuUse = cpu.read();
      const after = await stage.simStats();
      const alone = await poolAlone(ctx, stage, quick);

      const rows = SATURATION_EXPERTS.map((e) => {
        const a = after[e.name] as EndpointStats;
        const b = before[e.name] as EndpointStats;
        const busyMs = a.busyMs - b.busyMs;
        return {
          expert: e.name,
          capacity: e.capacity,
          requests: a.completed - b.completed,
          busyMs,
          idealMs: busyMs / e.capacity,
          utilization: busyMs / (e.capacity * makespanMs),
          peakActive: a.peakActive,
          peakInFlight: a.peakInFlight,
        };
      });
      const busiest = rows.reduce((x, y) => (y.idealMs > x.idealMs ? y : x));
      const efficiency = busiest.idealMs / makespanMs;
      const overCap = rows.filter((r) => r.peakInFlight > r.capacity);
      const cap = SATURATION_EXPERTS[0]?.capacity ?? 8;
      const firstFull = samples.find(([, v]) => v >= cap)?.[0] ?? Number.NaN;
      const lastFull = [...samples].reverse().find(([, v]) => v >= cap)?.[0] ?? Number.NaN;
      const window = samples.filter(([t]) => t >= firstFull && t <= lastFull);
      const between = window.map(([, v]) => v);
      // Below capacity with jobs waiting in its queue: the pool was slow to take the next job.
      // Below capacity with none waiting: the orchestrators had not produced its next call yet.
      const starvedPool = window.filter(([, v, w]) => v < cap && w > 0).length / Math.max(1, window.length);
      const starvedQueue =
        window.filter(([, v, w]) => v < cap && w === 0).length / Math.max(1, window.length);
      const timeline = {
        firstFullS: round(firstFull / 1000, 2),
        lastFullS: round(lastFull / 1000, 2),
        meanInFlightWhileBacklogged: round(mean(between), 2),
        shareOfSamplesAtCapacity: round(
          between.filter((v) => v >= cap).length / Math.max(1, between.length),
          3,
        ),
        shareBelowCapacityWithJobsWaiting: round(starvedPool, 3),
        shareBelowCapacityWithQueueEmpty: round(starvedQueue, 3),
      };
      return {
        id: 'saturation',
        title: 'GPU saturation',
        target: `ideal ÷ measured makespan ≥ ${TARGET}`,
        pass: efficiency >= TARGET && overCap.length === 0,
        headline: `efficiency ${round(efficiency, 3)} (ideal ${round(busiest.idealMs / 1000, 2)} s on ${busiest.expert}, measured ${round(makespanMs / 1000, 2)} s)`,
        figures: {
          rollouts: n,
          makespanS: round(makespanMs / 1000, 3),
          idealMakespanS: round(busiest.idealMs / 1000, 3),
          busiestExpert: busiest.expert,
          efficiency: round(efficiency, 4),
          expertsOverCapacity: overCap.map((r) => r.expert),
          busiestTimeline: timeline,
          busiestPoolAloneMeanInFlight: round(alone.meanInFlight, 2),
          experts: rows.map((r) => ({
            ...r,
            busyMs: round(r.busyMs, 0),
            idealMs: round(r.idealMs, 0),
            utilization: round(r.utilization, 3),
          })),
        },
        tables: [
          {
            title: 'CPU use during the run (cores busy = CPU time ÷ makespan; the machine has 2)',
            columns: ['process', 'cores busy'],
            rows: [
              ...cpuUse.map((c) => [c.label, round(c.cpuMs / makespanMs, 2)]),
              ['total', round(cpuUse.reduce((a, c) => a + c.cpuMs, 0) / makespanMs, 2)],
            ],
          },
          {
            title: `Where the makespan goes on ${busiest.expert} (sampled every 100 ms)`,
            columns: ['phase', 'seconds'],
            rows: [
              ['ramp-up: submit → first time at capacity', timeline.firstFullS],
              [
                `at or near capacity (mean ${timeline.meanInFlightWhileBacklogged} of ${cap} in flight, ${round(timeline.shareOfSamplesAtCapacity * 100, 1)} % of samples full)`,
                round(timeline.lastFullS - timeline.firstFullS, 2),
              ],
              [
                '  of which below capacity with jobs waiting in its queue (pool slow to take them) / with its queue empty (orchestrator behind), share of samples',
                `${round(starvedPool * 100, 1)} % / ${round(starvedQueue * 100, 1)} %`,
              ],
              ['tail: last time at capacity → last record', round(makespanMs / 1000 - timeline.lastFullS, 2)],
              ['measured makespan', round(makespanMs / 1000, 2)],
              [
                `reference, same run: ${busiest.expert}'s pool alone on this machine (others stopped), mean in flight of ${cap}`,
                round(alone.meanInFlight, 2),
              ],
              ['ideal makespan', round(busiest.idealMs / 1000, 2)],
            ],
          },
          {
            title: 'Per expert (the simulator’s counters)',
            columns: [
              'expert',
              'capacity',
              'requests',
              'service time (s)',
              'ideal makespan (s)',
              'utilization',
              'peak in flight',
            ],
            rows: rows.map((r) => [
              r.expert,
              r.capacity,
              r.requests,
              round(r.busyMs / 1000, 1),
              round(r.idealMs / 1000, 2),
              round(r.utilization, 3),
              r.peakInFlight,
            ]),
          },
        ],
        notes: [
          `${n} rollouts of the simulated maestro policy (policy ~20 ms, routing quality 1, so each benchmark's domain goes to one expert: ${SATURATION_EXPERTS.map((e) => `${e.name} ← ${e.domains.join('/')}`).join('; ')}).`,
          'Measured makespan: from the first submit to the last durable record (including policy turns before the first and after the last expert call, scoring, and submission of the sweep).',
          'Ideal makespan: the busiest expert’s summed service time (slept while holding a batch slot in the simulator) ÷ its capacity — no scheduler can finish sooner. Peak in flight is checked against the capacity (cluster-wide cap).',
          'Where the makespan goes: ramp-up and tail are read from the busiest expert’s in-flight count (sampled every 100 ms); in between, a sample below capacity with jobs waiting in its queue means its pool was slow to start the next request. The reference at the end runs that pool alone (the other workers stopped) on the same jobs: the difference is what the rest of the cluster, sharing the cores, costs the pool.',
          'One orchestrator (concurrency 32), one expert-pool process for E8 and one for the other four (as one pool per GPU host would be deployed), one scorer.',
        ],
        durationS: elapsedS(started),
      };
    } finally {
      await stage.stop();
    }
  },
};
