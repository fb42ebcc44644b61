/**
 * Scale-out: 1, 2 and 4 orchestrator processes of fixed concurrency against experts of
 * fixed total capacity. Each orchestrator slot is held while the policy thinks (~100 ms a
 * step), so throughput grows with orchestrator processes until the experts' capacity
 * (12 slots × ~200 ms) binds.
 */
import { BENCH_BENCHMARKS, type BenchContext, type ExpertSpec, Stage } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { elapsedS, type Scenario, seedsFor } from './common.ts';

const EXPERTS: ExpertSpec[] = [
  { name: 'A', capacity: 4, medianMs: 200, sigma: 0.3, domains: ['math', 'geometry', 'counting', 'chart'] },
  { name: 'B', capacity: 4, medianMs: 200, sigma: 0.3, domains: ['perception', 'medical', 'microscopy'] },
  {
    name: 'C',
    capacity: 4,
    medianMs: 200,
    sigma: 0.3,
    domains: ['earth-science', 'ocr', 'low-level-vision', 'embodied'],
  },
];
const POLICY_MS = 100;
const ORCH_CONCURRENCY = 4;

export const scaleoutScenario: Scenario = {
  id: 'scaleout',
  title: 'Scale-out (orchestrator processes)',
  estimateS: { full: 60, quick: 25 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const points = quick
      ? [1, 2, 4].map((p) => ({ procs: p, n: 60 + 30 * p }))
      : [1, 2, 4].map((p) => ({ procs: p, n: 150 + 150 * p }));
    const stage = await Stage.start(ctx, {
      name: 'scaleout',
      latencyScale: 1,
      registry: { maxTurns: 3, policy: { medianMs: POLICY_MS, sigma: 0.2, capacity: 512 }, experts: EXPERTS },
      workers: [],
    });
    const lognormalMean = (median: number, sigma: number) => median * Math.exp((sigma * sigma) / 2);
    const expertBound = EXPERTS.reduce(
      (a, e) => a + e.capacity / (lognormalMean(e.medianMs, e.sigma ?? 0.3) / 1000),
      0,
    );
    try {
      const items =
        (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
      const results: Array<{ procs: number; n: number; rate: number; orchestratorBound: number }> = [];
      for (const [i, point] of points.entries()) {
        if (i > 0) await stage.reset();
        await stage.startWorkers([
          ...Array.from({ length: point.procs }, () => ({
            role: 'orchestrator' as const,
            args: ['--concurrency', String(ORCH_CONCURRENCY)],
          })),
          { role: 'expert' },
          { role: 'scorer' },
        ]);
        const plan = await stage.plan(`scaleout-${point.procs}`, ['maestro'], seedsFor(point.n, items));
        plan.rollouts = plan.rollouts.slice(0, point.n);
        await stage.submit(plan);
        // Steady state: the rate between 10 % and 90 % of the rollouts scored.
        const lo = Math.ceil(point.n * 0.1);
        const hi = Math.floor(point.n * 0.9);
        let tLo = 0;
        let doneLo = 0;
        let tHi = 0;
        let doneHi = 0;
        await stage.waitDone(plan, hi, {
          pollMs: 20,
          onPoll: (done) => {
            if (!tLo && done >= lo) {
              tLo = performance.now();
              doneLo = done;
            }
            if (done >= hi) {
              tHi = performance.now();
              doneHi = done;
            }
          },
        });
        await stage.waitDone(plan);
        const rate = (doneHi - doneLo) / ((tHi - tLo) / 1000);
        const orchestratorBound =
          (point.procs * ORCH_CONCURRENCY) / ((2 * lognormalMean(POLICY_MS, 0.2)) / 1000);
        results.push({ procs: point.procs, n: point.n, rate, orchestratorBound });
        ctx.log(`  scale-out: ${point.procs} orchestrator(s): ${round(rate, 1)} rollouts/s`);
      }
      const base = results[0]?.rate ?? 1;
      const last = results[results.length - 1];
      const binds = last ? last.rate >= 0.85 * expertBound : false;
      return {
        id: 'scaleout',
        title: 'Scale-out (orchestrator processes)',
        target: 'throughput grows with orchestrators until the experts’ capacity binds',
        pass: null,
        headline:
          results.map((r) => `${r.procs}: ${round(r.rate, 1)}/s`).join(', ') +
          ` (expert bound ${round(expertBound, 1)}/s)`,
        figures: {
          expertCapacityBound: round(expertBound, 2),
          orchestratorConcurrency: ORCH_CONCURRENCY,
          points: results.map((r) => ({
            orchestrators: r.procs,
            rollouts: r.n,
            rolloutsPerS: round(r.rate, 2),
            speedup: round(r.rate / base, 2),
            orchestratorBound: round(r.orchestratorBound, 2),
            ofBound: round(r.rate / Math.min(r.orchestratorBound, expertBound), 3),
          })),
          capacityBindsAt4: binds,
        },
        tables: [
          {
            title: 'Throughput by orchestrator processes (steady state, 10 %–90 % of the rollouts)',
            columns: [
              'orchestrators',
              'rollouts/s',
              'speed-up',
              'orchestrator bound',
              'expert bound',
              'of the tighter bound',
            ],
            rows: results.map((r) => [
              r.procs,
              round(r.rate, 1),
              round(r.rate / base, 2),
              round(r.orchestratorBound, 1),
              round(expertBound, 1),
              round(r.rate / Math.min(r.orchestratorBound, expertBound), 2),
            ]),
          },
        ],
        notes: [
          `Experts A, B, C with 4 slots each (~200 ms, lognormal σ 0.3): at most ${round(expertBound, 1)} expert calls/s, one per rollout. Policy ~${POLICY_MS} ms per step (σ 0.2), two steps per rollout.`,
          `Each orchestrator process runs ${ORCH_CONCURRENCY} policy steps at once (a slot is held only while the policy thinks; rollouts waiting on experts hold none), so one process is bounded near ${round(ORCH_CONCURRENCY / ((2 * lognormalMean(POLICY_MS, 0.2)) / 1000), 1)} rollouts/s.`,
          'One expert-pool and one scorer process throughout; the orchestrators are restarted between points on a fresh key prefix.',
        ],
        durationS: elapsedS(started),
      };
    } finally {
      await stage.stop();
    }
  },
};
