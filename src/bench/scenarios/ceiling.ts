/**
 * Control-plane ceiling: zero-latency servers, thousands of rollouts; rollouts per second
 * through the cluster against the same rollouts run in-process with no queue, in the same
 * run, with CPU time per process to show where the time goes.
 */
import type { DispatchMode } from '../../core/registry.ts';
import { BENCH_BENCHMARKS, type BenchContext, Stage } from '../harness.ts';
import { InProcessRunner } from '../inprocess.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { ALL_DOMAINS, CpuMeter, elapsedS, rssBytes, type Scenario, seedsFor } from './common.ts';
import { redisDelta, redisSnapshot } from './peer-meter.ts';

const TARGET_RATIO = 0.5;
/**
 * Rollouts each orchestrator process runs before the measured ones (a full run; 50 in all
 * in --quick). With 2,000 in all, V8 was still compiling in the measured phase: `--trace-opt`
 * counted 170 compiles a second in an orchestrator at the start of its warm-up and still 20–40
 * a second (40–100 ms of compiler time a second) after 10,000, when a quarter of its CPU ran
 * on other threads (compiler and collector). Two orchestrators of 1,000 warm-up rollouts
 * each spent 0.10 ms per rollout beside their main threads, against 0.05 after 10,000 each.
 * A worker of a real sweep runs for hours; the ceiling is its steady state.
 */
const WARMUP_PER_ORCHESTRATOR = 10_000;
/** Rollouts at once in the in-process reference. */
const IN_PROCESS_CONCURRENCY = 64;

/**
 * The cluster with expert calls through the queue as child jobs (`ceiling`), through the
 * queue awaited by the rollouts (`ceiling-await`: registry `dispatch: await`) or made by
 * the orchestrators (`ceiling-inline`: registry `dispatch: inline`); the orchestrators score
 * the cheap metric in the rollout's last step in every case (the default where their data
 * directory holds the sweep).
 */
function ceilingScenarioFor(dispatch: DispatchMode): Scenario {
  const inline = dispatch === 'inline';
  const id = dispatch === 'queue' ? 'ceiling' : `ceiling-${dispatch}`;
  const title = {
    queue: 'Control-plane ceiling',
    await: 'Control-plane ceiling (dispatch: await, scored by the orchestrator)',
    inline: 'Control-plane ceiling (dispatch: inline, scored by the orchestrators)',
  }[dispatch];
  return {
    id,
    title,
    estimateS: { full: 60, quick: 15 },
    async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
      const started = performance.now();
      const n = quick ? 600 : 5_000;
      // Through the queue, one orchestrator with as many slots as the expert has (64 gave
      // 0.53–0.54 here, 32 gave 0.50–0.52); awaited, twice that (a waiting rollout holds its
      // slot, the default of dispatch: await); inline, two orchestrators of 32.
      const orchestratorConcurrency = { queue: 64, await: 128, inline: 32 }[dispatch];
      const stage = await Stage.start(ctx, {
        name: 'ceiling',
        latencyScale: 0,
        registry: {
          maxTurns: 3,
          policy: { medianMs: 50, capacity: 512 },
          experts: [{ name: 'Solo', capacity: 64, medianMs: 150, domains: ALL_DOMAINS }],
          dispatch,
        },
        workers: inline
          ? [
              // One orchestrator per core; each makes its calls and writes its records.
              ...[1, 2].map(() => ({
                role: 'orchestrator' as const,
                args: ['--concurrency', String(orchestratorConcurrency)],
              })),
              { role: 'scorer' as const },
            ]
          : [
              { role: 'orchestrator', args: ['--concurrency', String(orchestratorConcurrency)] },
              { role: 'expert' },
              // Idle here (the orchestrator scores); kept as a deployment has it.
              { role: 'scorer' },
            ],
      });
      try {
        const items =
          (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
        const plan = await stage.plan('ceiling', ['maestro'], seedsFor(n, items));
        plan.rollouts = plan.rollouts.slice(0, n);
        const runner = new InProcessRunner({
          registry: stage.registry,
          store: ctx.store,
          catalog: ctx.catalog,
          redis: ctx.conn,
          prefix: stage.prefix,
        });
        // Warm both paths alike (connections, caches, and code V8 has compiled, as in
        // processes that have been running a sweep) on the same rollouts of another sweep: the
        // bench process may already be warm from earlier scenarios, the workers never are.
        const orchestrators = inline ? 2 : 1;
        const warmN = quick ? 50 : WARMUP_PER_ORCHESTRATOR * orchestrators;
        const warm = await stage.plan(
          'ceiling-warm',
          ['maestro'],
          seedsFor(warmN, items).map((s) => 1_000 + s),
        );
        warm.rollouts = warm.rollouts.slice(0, warmN);
        await runner.runMany(warm.meta, warm.rollouts, IN_PROCESS_CONCURRENCY);
        await stage.submit(warm);
        await stage.waitDone(warm);

        const pids = stage.pids();
        const procs = [
          { label: 'bench (in-process run)', pid: process.pid },
          { label: 'simulated servers', pid: pids.sim },
          { label: 'redis-server', pid: ctx.redisPid },
          // Two workers of one role are told apart (their CPU rows are found by label).
          ...pids.workers.map((w, _i, all) => {
            const label = w.role.replace(/^ceiling:/, 'worker ');
            const same = all.filter((o) => o.role === w.role);
            return { label: same.length > 1 ? `${label} ${same.indexOf(w) + 1}` : label, pid: w.pid };
          }),
        ];

        let cpu = new CpuMeter(procs);
        let t = performance.now();
        await runner.runMany(plan.meta, plan.rollouts, IN_PROCESS_CONCURRENCY);
        const inS = (performance.now() - t) / 1000;
        const inCpu = cpu.read();

        const redisBefore = await redisSnapshot(ctx.conn);
        cpu = new CpuMeter(procs);
        const rss: Record<string, { early?: number; end?: number }> = {};
        const sampleRss = (key: 'early' | 'end') => {
          for (const w of pids.workers) {
            const v = rssBytes(w.pid);
            if (v !== null) rss[w.role] = { ...rss[w.role], [key]: v };
          }
        };
        const early = Math.min(1_000, Math.floor(n / 5));
        let sampled = false;
        t = performance.now();
        ctx.mark('start');
        await stage.submit(plan);
        await stage.waitDone(plan, n, {
          pollMs: 25,
          onPoll: (done) => {
            if (!sampled && done >= early) {
              sampled = true;
              sampleRss('early');
            }
          },
        });
        const clusterS = (performance.now() - t) / 1000;
        ctx.mark('end');
        sampleRss('end');
        const clusterCpu = cpu.read();
        const redisRun = redisDelta(redisBefore, await redisSnapshot(ctx.conn));
        const redis = redisRun.byCommand;

        const inRate = n / inS;
        const clusterRate = n / clusterS;
        const ratio = clusterRate / inRate;
        /** CPU ms per rollout of a process in both runs, and what its other threads took of it. */
        const cpuRow = (label: string) => {
          const perRollout = (v: number | null | undefined) =>
            v === null || v === undefined ? '-' : round(v / n, 3);
          const cells = (row?: { cpuMs: number; mainMs: number | null }) => [
            perRollout(row?.cpuMs),
            perRollout(row && row.mainMs !== null ? row.cpuMs - row.mainMs : null),
          ];
          return [
            label,
            ...cells(inCpu.find((c) => c.label === label)),
            ...cells(clusterCpu.find((c) => c.label === label)),
          ];
        };
        const totalIn = inCpu.reduce((a, c) => a + c.cpuMs, 0);
        const totalCluster = clusterCpu.reduce((a, c) => a + c.cpuMs, 0);
        return {
          id,
          title,
          target: `cluster ÷ in-process rollouts/s ≥ ${TARGET_RATIO}`,
          pass: ratio >= TARGET_RATIO,
          headline: `${round(ratio, 2)} (cluster ${round(clusterRate, 0)} rollouts/s vs in-process ${round(inRate, 0)} rollouts/s)`,
          figures: {
            rollouts: n,
            warmupRollouts: warmN,
            inProcess: {
              seconds: round(inS, 2),
              rolloutsPerS: round(inRate, 1),
              concurrency: IN_PROCESS_CONCURRENCY,
            },
            cluster: {
              seconds: round(clusterS, 2),
              rolloutsPerS: round(clusterRate, 1),
              orchestratorConcurrency,
              processes: pids.workers.map((w) => w.role),
            },
            ratio: round(ratio, 3),
            cpuMsPerRollout: { inProcess: round(totalIn / n, 3), cluster: round(totalCluster / n, 3) },
            redisCommandsPerRollout: round(redisRun.commands / n, 1),
            redisBytesPerRollout: {
              in: round(redisRun.bytesIn / n, 0),
              out: round(redisRun.bytesOut / n, 0),
            },
            redisCpuMsPerRollout: round(redisRun.cpuMs / n, 3),
            workerRssMiB: Object.fromEntries(
              Object.entries(rss).map(([k, v]) => [
                k,
                {
                  [`after${early}`]: round((v.early ?? 0) / 2 ** 20, 1),
                  [`after${n}`]: round((v.end ?? 0) / 2 ** 20, 1),
                },
              ]),
            ),
          },
          tables: [
            {
              title: 'CPU time per rollout by process (ms) — where the time goes on the 2 cores',
              columns: [
                'process',
                'in-process run',
                'of which other threads',
                'cluster run',
                'of which other threads',
              ],
              rows: [
                ...procs.map((p) => cpuRow(p.label)),
                ['total', round(totalIn / n, 3), '', round(totalCluster / n, 3), ''],
              ],
            },
            {
              title: `Redis commands per rollout in the cluster run (server side; ${round(redisRun.commands / n, 1)} commands, ${round(redisRun.bytesIn / n, 0)} bytes in and ${round(redisRun.bytesOut / n, 0)} out, ${round(redisRun.cpuMs / n, 3)} ms of Redis CPU per rollout from INFO)`,
              columns: ['command', 'calls / rollout', 'µs / rollout'],
              rows: redis.slice(0, 8).map((r) => [r.command, round(r.calls / n, 2), round(r.usec / n, 1)]),
            },
            {
              title: `Worker RSS (MiB) after ${early} and after ${n} rollouts`,
              columns: ['worker', `after ${early}`, `after ${n}`],
              rows: Object.entries(rss).map(([k, v]) => [
                k,
                round((v.early ?? 0) / 2 ** 20, 1),
                round((v.end ?? 0) / 2 ** 20, 1),
              ]),
            },
          ],
          notes: [
            `${n} rollouts of the simulated maestro policy (2 policy steps and one skill call each, up to 3 allowed), zero-latency servers in their own process; both runs write every durable record (fsync) and score every item.`,
            inline
              ? `In-process reference: ${IN_PROCESS_CONCURRENCY} rollouts at once in the bench process, calling the same policy, skill and scoring code with no queue. Cluster: two orchestrators (concurrency ${orchestratorConcurrency} each) that make the expert calls (registry dispatch: inline) and score the rollouts, and a scorer process (idle here), all on this machine.`
              : `In-process reference: ${IN_PROCESS_CONCURRENCY} rollouts at once in the bench process, calling the same policy, skill and scoring code with no queue. Cluster: one orchestrator (concurrency ${orchestratorConcurrency}) that scores the rollouts${dispatch === 'await' ? ' and awaits its expert calls (registry dispatch: await)' : ''}, one expert pool and a scorer process (idle here), all on this machine.`,
            `Both paths first ran the same ${warmN} rollouts of another sweep (${quick ? 'a smoke run' : `${WARMUP_PER_ORCHESTRATOR} per orchestrator process`}): connections, caches and the code V8 compiles, as in processes that have been running a sweep for a while.`,
            'Time is wall-clock from the first rollout to the last durable record. Both runs share 2 cores with the simulated servers (and the cluster run with redis-server), so the CPU table is the profile: what each process spent per rollout. "Other threads" is the part a process spent beside its main thread (/proc/<pid>/task/<pid>/stat): for Node.js, V8 compiling code and collecting garbage in the background, and libuv\'s pool writing and syncing files.',
          ],
          durationS: elapsedS(started),
        };
      } finally {
        await stage.stop();
      }
    },
  };
}

export const ceilingScenario = ceilingScenarioFor('queue');
export const ceilingAwaitScenario = ceilingScenarioFor('await');
export const ceilingInlineScenario = ceilingScenarioFor('inline');
