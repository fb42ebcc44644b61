/**
 * Adaptive concurrency: one simulated expert whose service time grows with its active
 * requests past a batch knee (like vLLM once its KV cache is full), so throughput peaks
 * at the knee and falls beyond it. A grid search over fixed cluster-wide concurrencies
 * finds the best fixed limit; then the AIMD controller (shared through Redis by two
 * expert-pool processes) runs the same workload from its minimum. All in the same run,
 * on the same measurement window.
 */
import { Queue } from 'bullmq';
import { expertQueueName } from '../../core/queues.ts';
import type { EndpointStats } from '../../sim/server.ts';
import {
  BENCH_BENCHMARKS,
  type BenchContext,
  type ExpertSpec,
  type RegistrySpec,
  Stage,
  sleep,
} from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { mean, round } from '../stats.ts';
import { ALL_DOMAINS, elapsedS, type Scenario, seedsFor } from './common.ts';

const TARGET = 0.9;
const KNEE = { at: 16, slowdown: 0.08 };
const MEDIAN_MS = 400;
const SERVER_CAPACITY = 64;

function spec(capacity: number, adaptive?: Record<string, unknown>): RegistrySpec {
  const expert: ExpertSpec = {
    name: 'Knee',
    capacity,
    serverCapacity: SERVER_CAPACITY,
    medianMs: MEDIAN_MS,
    sigma: 0.2,
    domains: ALL_DOMAINS,
    knee: KNEE,
    ...(adaptive ? { adaptive } : {}),
  };
  return { maxTurns: 3, policy: { medianMs: 10, capacity: 512 }, experts: [expert] };
}

interface RunResult {
  label: string;
  limit: number | 'adaptive';
  throughput: number;
  meanLatencyMs: number;
  limitTrace?: number[];
}

export const adaptiveScenario: Scenario = {
  id: 'adaptive',
  title: 'Adaptive concurrency (AIMD)',
  estimateS: { full: 170, quick: 35 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const grid = quick ? [8, 16, 32] : [8, 12, 16, 20, 24, 32, 64];
    const warmS = quick ? 2 : 4;
    const measureS = quick ? 4 : 10;
    const adaptiveBlock = { min: 2, max: SERVER_CAPACITY };
    const stage = await Stage.start(ctx, {
      name: 'adaptive',
      latencyScale: 1,
      registry: spec(SERVER_CAPACITY),
      workers: [],
    });
    const items =
      (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
    // One orchestrator and one scorer throughout; the two expert pools are restarted for each
    // run with that run's registry. The backlog is topped up before each run, in chunks small
    // enough that the orchestrator's burst of first steps stays short.
    const chunk = 50 * (warmS + measureS + 2);
    let chunks = 0;
    const expertQueue = new Queue(expertQueueName('Knee'), { connection: ctx.conn, prefix: stage.prefix });
    const topUp = async () => {
      const waiting = (await expertQueue.getJobCounts('waiting')).waiting ?? 0;
      if (waiting >= chunk) return;
      const plan = await stage.plan(
        `adaptive-${chunks}`,
        ['direct:Knee'],
        seedsFor(chunk * (chunks + 1), items),
      );
      plan.rollouts = plan.rollouts.slice(chunk * chunks, chunk * (chunks + 1));
      chunks += 1;
      await stage.submit(plan);
      for (let i = 0; i < 100 && ((await expertQueue.getJobCounts('waiting')).waiting ?? 0) < chunk / 2; i++)
        await sleep(100);
    };
    await stage.startWorkers([{ role: 'orchestrator', args: ['--concurrency', '64'] }, { role: 'scorer' }]);
    let pools: Awaited<ReturnType<Stage['startWorkers']>> = [];

    const runOne = async (
      label: string,
      capacity: number,
      adaptive?: Record<string, unknown>,
    ): Promise<RunResult> => {
      await stage.stopWorkers(pools);
      const registryFile = stage.writeRegistry(spec(capacity, adaptive), `registry-${label}`);
      await topUp();
      pools = await stage.startWorkers([{ role: 'expert' }, { role: 'expert' }], registryFile);
      const queue = new Queue(expertQueueName('Knee'), { connection: ctx.conn, prefix: stage.prefix });
      const trace: number[] = [];
      try {
        await sleep(warmS * 1000);
        const a = (await stage.simStats()).Knee as EndpointStats;
        const t0 = performance.now();
        const end = t0 + measureS * 1000;
        while (performance.now() < end) {
          trace.push(Number((await queue.getGlobalConcurrency()) ?? 0));
          await sleep(250);
        }
        const b = (await stage.simStats()).Knee as EndpointStats;
        const seconds = (performance.now() - t0) / 1000;
        const completed = b.completed - a.completed;
        const result: RunResult = {
          label,
          limit: adaptive ? 'adaptive' : capacity,
          throughput: completed / seconds,
          meanLatencyMs: completed ? (b.busyMs - a.busyMs) / completed : 0,
          ...(adaptive ? { limitTrace: trace } : {}),
        };
        ctx.log(
          `  adaptive: ${label}: ${round(result.throughput, 1)} req/s, mean service ${round(result.meanLatencyMs, 0)} ms`,
        );
        return result;
      } finally {
        await queue.close();
      }
    };

    try {
      const fixed: RunResult[] = [];
      for (const c of grid) fixed.push(await runOne(`fixed-${c}`, c));
      const adaptive = await runOne('aimd', SERVER_CAPACITY, adaptiveBlock);
      const best = fixed.reduce((x, y) => (y.throughput > x.throughput ? y : x));
      const atCap = fixed.find((f) => f.limit === SERVER_CAPACITY);
      const ratio = adaptive.throughput / best.throughput;
      const trace = adaptive.limitTrace ?? [];
      return {
        id: 'adaptive',
        title: 'Adaptive concurrency (AIMD)',
        target: `AIMD throughput ≥ ${TARGET * 100} % of the best fixed limit`,
        pass: ratio >= TARGET,
        headline: `${round(ratio * 100, 1)} % of the best fixed limit (${round(adaptive.throughput, 1)} vs ${round(best.throughput, 1)} req/s at ${best.limit})`,
        figures: {
          ratio: round(ratio, 4),
          bestFixed: { limit: best.limit, throughput: round(best.throughput, 2) },
          adaptive: {
            throughput: round(adaptive.throughput, 2),
            meanServiceMs: round(adaptive.meanLatencyMs, 1),
            limit: {
              mean: round(mean(trace), 1),
              min: Math.min(...trace),
              max: Math.max(...trace),
              last: trace[trace.length - 1],
            },
            settings: adaptiveBlock,
          },
          ...(atCap
            ? { fixedAtCapacity: { limit: atCap.limit, throughput: round(atCap.throughput, 2) } }
            : {}),
          grid: fixed.map((f) => ({
            limit: f.limit,
            throughput: round(f.throughput, 2),
            meanServiceMs: round(f.meanLatencyMs, 1),
          })),
        },
        tables: [
          {
            title: 'Throughput of the knee endpoint by cluster-wide limit',
            columns: ['limit', 'requests/s', 'mean service time (ms)', 'of best'],
            rows: [
              ...fixed.map((f) => [
                String(f.limit),
                round(f.throughput, 1),
                round(f.meanLatencyMs, 0),
                round(f.throughput / best.throughput, 3),
              ]),
              [
                `AIMD (limit ${round(mean(trace), 1)} mean, ${Math.min(...trace)}–${Math.max(...trace)})`,
                round(adaptive.throughput, 1),
                round(adaptive.meanLatencyMs, 0),
                round(ratio, 3),
              ],
            ],
          },
        ],
        notes: [
          `Endpoint: median ${MEDIAN_MS} ms (σ 0.2); with more than ${KNEE.at} requests active each new one takes ${KNEE.slowdown * 100} % longer per extra active request, so throughput peaks near ${KNEE.at} and falls beyond (the simulator admits up to ${SERVER_CAPACITY}).`,
          `Workload: direct:Knee rollouts (one expert call each), a backlog throughout; one orchestrator (concurrency 64) and one scorer throughout, and two expert-pool processes restarted for each run with its registry, so the limit is cluster-wide (BullMQ global concurrency) in every run.`,
          `Each run: ${warmS} s of warm-up, then requests completed by the simulator over ${measureS} s. The AIMD run starts from its minimum (slow start, no state in Redis yet) and is measured on the same window, so its convergence counts against it.`,
          `AIMD settings: ${JSON.stringify(adaptiveBlock)} with the defaults (back off ×0.5 on leaving slow start, then ×0.75, when a window's mean latency exceeds 1.5 × the lowest seen, or >5 % errors; +1 per healthy window, only when the limit was in use); both pool processes report to one Redis hash (one Lua script decides) and the process that changed the limit applies it with Queue.setGlobalConcurrency.`,
        ],
        durationS: elapsedS(started),
      };
    } finally {
      await expertQueue.close();
      await stage.stop();
    }
  },
};
