/**
 * Overhead: what the cluster adds to each policy step. Zero-latency policy and expert
 * servers, one rollout at a time; each rollout runs once in-process (the same policy,
 * skill, scoring and record code, no queue) and once through the cluster (separate
 * orchestrator, expert-pool and scorer processes), alternately, and the difference per
 * policy step is the overhead.
 */
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ROLLOUT_QUEUE } from '../../core/queues.ts';
import type { DispatchMode } from '../../core/registry.ts';
import { ROLLOUT_ATTEMPTS, saveSweepMeta } from '../../producer/submit.ts';
import { BENCH_BENCHMARKS, type BenchContext, Stage, scrapeValue, sleep } from '../harness.ts';
import { InProcessRunner } from '../inprocess.ts';
import type { ScenarioResult } from '../report.ts';
import { mean, quantile, round } from '../stats.ts';
import { ALL_DOMAINS, cpuMs, elapsedS, type Scenario, seedsFor } from './common.ts';
import { redisDelta, redisSnapshot } from './peer-meter.ts';

const TARGET_P50_MS = 3;
/** Rollouts traced with MONITOR after the measurement (the median one is reported). */
const TRACED = 5;

/**
 * What one Redis round trip and one empty BullMQ job cost on this machine: the floor under
 * any queue hop (a job added, taken by a worker in another process… here the same process,
 * processed by a no-op, completed and its event delivered).
 */
async function calibrate(
  conn: Redis,
  prefix: string,
  n: number,
): Promise<{ pingMs: number; emptyJobMs: number }> {
  const pings: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await conn.ping();
    pings.push(performance.now() - t);
  }
  const workerConn = conn.duplicate({ maxRetriesPerRequest: null });
  const eventsConn = conn.duplicate();
  const queue = new Queue('calibrate', { connection: conn, prefix });
  const events = new QueueEvents('calibrate', { connection: eventsConn, prefix });
  const worker = new Worker('calibrate', async () => null, {
    connection: workerConn,
    prefix,
    concurrency: 1,
  });
  const jobs: number[] = [];
  try {
    await events.waitUntilReady();
    await worker.waitUntilReady();
    for (let i = 0; i < n + 10; i++) {
      const t = performance.now();
      // Kept until the queue is obliterated: a job removed on completion can vanish before
      // waitUntilFinished looks it up ("Missing key for job").
      const job = await queue.add('noop', { i });
      await job.waitUntilFinished(events, 10_000);
      if (i >= 10) jobs.push(performance.now() - t);
    }
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    workerConn.disconnect();
    eventsConn.disconnect();
  }
  return { pingMs: quantile(pings, 0.5), emptyJobMs: quantile(jobs, 0.5) };
}

/** Rollouts each path runs, several at a time, before the measured ones (a full run; 300 in --quick). */
const BULK_WARMUP = 2_000;
/** Rollouts at once in the in-process part of the bulk warm-up. */
const WARM_CONCURRENCY = 16;

/** Runs `fn` while recording the Redis commands it causes (MONITOR), labelled with BullMQ's script names. */
async function traceRollout(
  conn: Redis,
  fn: () => Promise<number>,
): Promise<{ totalMs: number; rows: Array<[number, number, string, string]> }> {
  const names = new Map<string, string>();
  const scripts = (conn as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
  for (const [name, script] of Object.entries(scripts)) names.set(script.sha, name);
  const monitor = await conn.monitor();
  const seen: Array<{ time: number; args: string[] }> = [];
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    if (source !== 'lua') seen.push({ time: Number(time) * 1000, args: args.map(String) });
  });
  // ioredis can take MONITOR's first lines, when they arrive with its OK, for replies it did
  // not expect ("Command queue state error"): the trace is then incomplete, never a crash.
  let broken = false;
  monitor.on('error', () => {
    broken = true;
  });
  await sleep(50);
  const totalMs = await fn();
  await sleep(50);
  monitor.disconnect();
  if (broken) return { totalMs, rows: [] };
  const skip = new Set(['bzpopmin', 'xread', 'hset', 'pexpire', 'multi', 'exec', 'ping', 'info', 'client']);
  const first = seen.find((c) => c.args[0] === 'evalsha')?.time ?? seen[0]?.time ?? 0;
  const rows: Array<[number, number, string, string]> = [];
  let prev = first;
  for (const c of seen) {
    const cmd = (c.args[0] ?? '').toLowerCase();
    if (skip.has(cmd) || c.time < first) continue;
    const label = cmd === 'evalsha' ? (names.get(c.args[1] ?? '') ?? 'script') : cmd;
    const key = c.args.find((a) => a.includes('}:')) ?? '';
    const queue = key.slice(key.indexOf('}:') + 2).split(':')[0] ?? '';
    rows.push([round(c.time - first, 2), round(c.time - prev, 2), label, queue]);
    prev = c.time;
  }
  return { totalMs, rows };
}

/**
 * The scenario with expert calls through the expert pool's queue as child jobs (`overhead`,
 * the registry default), through the same queue awaited by the rollout (`overhead-await`,
 * registry `dispatch: await`) or made by the orchestrator itself (`overhead-inline`,
 * registry `dispatch: inline`).
 */
function overheadScenarioFor(dispatch: DispatchMode): Scenario {
  const inline = dispatch === 'inline';
  const id = dispatch === 'queue' ? 'overhead' : `overhead-${dispatch}`;
  const title = {
    queue: 'Overhead per policy step',
    await: 'Overhead per policy step (dispatch: await, scored by the orchestrator)',
    inline: 'Overhead per policy step (dispatch: inline, scored by the orchestrator)',
  }[dispatch];
  return {
    id,
    title,
    estimateS: { full: 30, quick: 12 },
    async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
      const started = performance.now();
      const measured = quick ? 60 : 300;
      const warmup = quick ? 10 : 30;
      const bulk = quick ? 300 : BULK_WARMUP;
      const stage = await Stage.start(ctx, {
        name: 'overhead',
        latencyScale: 0,
        metrics: true,
        registry: {
          maxTurns: 3,
          policy: { medianMs: 50, capacity: 256 },
          experts: [{ name: 'Solo', capacity: 16, medianMs: 150, domains: ALL_DOMAINS }],
          dispatch,
        },
        workers: inline
          ? [{ role: 'orchestrator' }, { role: 'scorer' }]
          : [{ role: 'orchestrator' }, { role: 'expert' }, { role: 'scorer' }],
      });
      const eventsConn = ctx.conn.duplicate();
      const events = new QueueEvents(ROLLOUT_QUEUE, { connection: eventsConn, prefix: stage.prefix });
      const queue = new Queue(ROLLOUT_QUEUE, { connection: ctx.conn, prefix: stage.prefix });
      try {
        const items =
          (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
        const plan = await stage.plan('overhead', ['maestro'], seedsFor(measured + warmup + TRACED, items));
        // The bulk warm-up's rollouts: another sweep, on other seeds.
        const warm = await stage.plan(
          'overhead-warm',
          ['maestro'],
          seedsFor(bulk, items).map((s) => 1_000 + s),
        );
        warm.rollouts = warm.rollouts.slice(0, bulk);
        const rollouts = plan.rollouts.slice(0, measured + warmup);
        await saveSweepMeta(ctx.conn, stage.prefix, ctx.store, plan.meta);
        await events.waitUntilReady();
        const runner = new InProcessRunner({
          registry: stage.registry,
          store: ctx.store,
          catalog: ctx.catalog,
          redis: ctx.conn,
          prefix: stage.prefix,
        });

        /** Submits one rollout as the producer does and waits for its completion (ms). */
        const throughCluster = async (r: (typeof rollouts)[number]) => {
          const t = performance.now();
          const job = await queue.add('rollout', r, {
            jobId: r.rolloutId,
            attempts: ROLLOUT_ATTEMPTS,
            backoff: { type: 'exponential', delay: 1_000 },
            removeOnComplete: false,
            removeOnFail: false,
          });
          await job.waitUntilFinished(events, 60_000);
          return performance.now() - t;
        };
        // CPU time of every process involved (bench, simulator, Redis, workers): the work each
        // path costs, whatever the scheduler on a shared machine makes the wall clock say.
        const procs = [
          { label: 'bench (in-process run; submits and waits)', pid: process.pid },
          { label: 'simulated servers', pid: stage.pids().sim },
          { label: 'redis-server', pid: ctx.redisPid },
          ...stage
            .pids()
            .workers.map((w) => ({ label: w.role.replace(/^overhead:/, 'worker '), pid: w.pid })),
        ];
        const cpuNow = () => procs.map((p) => cpuMs(p.pid) ?? 0);
        const perIn = procs.map(() => 0);
        const perCluster = procs.map(() => 0);
        const inMs: number[] = [];
        const clusterMs: number[] = [];
        const steps: number[] = [];
        let redisBefore = await redisSnapshot(ctx.conn);
        const scrape = async () => {
          // Skill runs are timed where they happen: the expert pool, or the orchestrator.
          const [orch, pool] = [stage.workers[0]?.metricsUrl, stage.workers[inline ? 0 : 1]?.metricsUrl];
          return {
            policySum: orch ? await scrapeValue(orch, 'maestro_policy_step_duration_seconds_sum') : null,
            skillSum: pool ? await scrapeValue(pool, 'maestro_skill_duration_seconds_sum') : null,
          };
        };
        let scrapeBefore = { policySum: 0 as number | null, skillSum: 0 as number | null };
        // The first `warmup` rollouts run cold (processes just started; reported apart). Then
        // the bulk warm-up: both paths run the same other rollouts, several at a time, so that
        // both measure code V8 has compiled, as in processes that have been running a sweep.
        const coldPerStep: number[] = [];
        for (const [i, r] of rollouts.entries()) {
          if (i === warmup && warm.rollouts.length) {
            const w0 = performance.now();
            await runner.runMany(warm.meta, warm.rollouts, WARM_CONCURRENCY);
            await stage.submit(warm);
            await stage.waitDone(warm);
            ctx.log(
              `  ${id}: warmed up with ${warm.rollouts.length} rollouts on each path (${elapsedS(w0).toFixed(1)} s)`,
            );
          }
          if (i === warmup) {
            ctx.mark('start');
            redisBefore = await redisSnapshot(ctx.conn);
            scrapeBefore = await scrape();
            runner.timing.decide = runner.timing.skill = runner.timing.score = runner.timing.record = 0;
            runner.timing.rollouts = 0;
          }
          const c0 = cpuNow();
          const t = performance.now();
          const res = await runner.run(plan.meta, r);
          const tIn = performance.now() - t;
          const c1 = cpuNow();
          const tCluster = await throughCluster(r);
          const c2 = cpuNow();
          if (i >= warmup) {
            procs.forEach((_, k) => {
              perIn[k] = (perIn[k] ?? 0) + (c1[k] ?? 0) - (c0[k] ?? 0);
              perCluster[k] = (perCluster[k] ?? 0) + (c2[k] ?? 0) - (c1[k] ?? 0);
            });
            inMs.push(tIn);
            clusterMs.push(tCluster);
            steps.push(res.steps);
          } else coldPerStep.push((tCluster - tIn) / Math.max(1, res.steps));
        }
        ctx.mark('end');
        const redisAfter = await redisSnapshot(ctx.conn);
        const cpuIn = perIn.reduce((a, v) => a + v, 0);
        const cpuCluster = perCluster.reduce((a, v) => a + v, 0);
        const scrapeAfter = await scrape();
        // A few more rollouts under MONITOR: every Redis command of one rollout, in order.
        const traces = [];
        for (const r of plan.rollouts.slice(measured + warmup, measured + warmup + TRACED)) {
          traces.push(await traceRollout(ctx.conn, () => throughCluster(r)));
        }
        const complete = traces.filter((t) => t.rows.length > 0).sort((a, b) => a.totalMs - b.totalMs);
        const trace = complete[Math.floor(complete.length / 2)];
        const floor = await calibrate(ctx.conn, stage.prefix, quick ? 50 : 200);
        // Hops per rollout: rollout → expert → rollout (each a job taken by a worker after another
        // job finished or was added; the orchestrator scores the cheap metric in the last step);
        // await: rollout → expert, the reply popped by the waiting rollout; inline: the rollout
        // alone (no expert job).
        const HOPS = { queue: 3, await: 2, inline: 1 }[dispatch];
        const n = inMs.length;
        const perStep = clusterMs.map((c, i) => (c - (inMs[i] ?? 0)) / (steps[i] ?? 1));
        const p50 = quantile(perStep, 0.5);
        const p99 = quantile(perStep, 0.99);
        const totalSteps = steps.reduce((a, s) => a + s, 0);
        const redisRun = redisDelta(redisBefore, redisAfter);
        const redis = redisRun.byCommand;
        const redisCalls = redisRun.commands;
        const redisUsec = redis.reduce((a, r) => a + r.usec, 0);
        const tm = runner.timing;
        const clusterPolicy =
          scrapeAfter.policySum !== null && scrapeBefore.policySum !== null
            ? ((scrapeAfter.policySum - scrapeBefore.policySum) * 1000) / n
            : null;
        const clusterSkill =
          scrapeAfter.skillSum !== null && scrapeBefore.skillSum !== null
            ? ((scrapeAfter.skillSum - scrapeBefore.skillSum) * 1000) / n
            : null;
        const clusterMean = mean(clusterMs);
        const inMean = mean(inMs);
        const rest =
          clusterPolicy !== null && clusterSkill !== null ? clusterMean - clusterPolicy - clusterSkill : null;
        return {
          id,
          title,
          target: `p50 ≤ ${TARGET_P50_MS} ms added per policy step`,
          pass: p50 <= TARGET_P50_MS,
          headline: `p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms added per policy step (CPU added: ${round((cpuCluster - cpuIn) / totalSteps, 2)} ms per step; cold, the first ${coldPerStep.length} rollouts: p50 ${round(quantile(coldPerStep, 0.5), 2)} ms)`,
          figures: {
            rollouts: n,
            policyStepsPerRollout: round(totalSteps / n, 2),
            overheadPerStepMs: {
              p50: round(p50, 3),
              p90: round(quantile(perStep, 0.9), 3),
              p99: round(p99, 3),
            },
            /** The first rollouts, before the bulk warm-up: processes just started. */
            coldOverheadPerStepMs: {
              rollouts: coldPerStep.length,
              p50: round(quantile(coldPerStep, 0.5), 3),
            },
            bulkWarmupRollouts: warm.rollouts.length,
            clusterRolloutMs: { p50: round(quantile(clusterMs, 0.5), 3), mean: round(clusterMean, 3) },
            inProcessRolloutMs: { p50: round(quantile(inMs, 0.5), 3), mean: round(inMean, 3) },
            redisCommandsPerRollout: round(redisCalls / n, 1),
            redisServerUsecPerRollout: round(redisUsec / n, 1),
            redisBytesPerRollout: {
              in: round(redisRun.bytesIn / n, 0),
              out: round(redisRun.bytesOut / n, 0),
            },
            cpuMsPerRollout: { inProcess: round(cpuIn / n, 2), cluster: round(cpuCluster / n, 2) },
            calibration: {
              redisPingP50Ms: round(floor.pingMs, 3),
              emptyBullmqJobP50Ms: round(floor.emptyJobMs, 3),
              queueHopsPerRollout: HOPS,
              hopFloorPerPolicyStepMs: round((HOPS * floor.emptyJobMs) / (totalSteps / n), 2),
            },
            cpuMsAddedPerPolicyStep: round((cpuCluster - cpuIn) / totalSteps, 2),
          },
          tables: [
            {
              title: 'Where one rollout’s time goes (mean ms per rollout)',
              columns: ['part', 'in-process', 'cluster'],
              rows: [
                [
                  'policy decisions (HTTP to the simulated policy)',
                  round(tm.decide / n, 2),
                  clusterPolicy === null ? '-' : round(clusterPolicy, 2),
                ],
                [
                  'skill runs (HTTP to the simulated expert)',
                  round(tm.skill / n, 2),
                  clusterSkill === null ? '-' : round(clusterSkill, 2),
                ],
                ['scoring + durable record (fsync)', round((tm.score + tm.record) / n, 2), 'in the rest'],
                ['queue hops, Redis, job payloads', '-', rest === null ? '-' : round(rest, 2)],
                ['total (wall clock)', round(inMean, 2), round(clusterMean, 2)],
                [
                  'CPU time of all processes (bench, simulator, Redis, workers)',
                  round(cpuIn / n, 2),
                  round(cpuCluster / n, 2),
                ],
              ],
            },
            {
              title: 'CPU time per rollout by process (ms, /proc, 10 ms ticks summed over all rollouts)',
              columns: ['process', 'in-process run', 'cluster run'],
              rows: [
                ...procs.map((p, k) => [
                  p.label,
                  round((perIn[k] ?? 0) / n, 2),
                  round((perCluster[k] ?? 0) / n, 2),
                ]),
                ['total', round(cpuIn / n, 2), round(cpuCluster / n, 2)],
              ],
            },
            {
              title: `One rollout, command by command (MONITOR; the median of ${complete.length} of ${TRACED} traced completely, ${round(trace?.totalMs ?? 0, 1)} ms end to end): the gaps are where time goes — a policy call before the rollout's updateData, a skill run between the expert's moveToActive and moveToFinished, scoring and the fsync'd record before the count script and the rollout's moveToFinished, and process wake-ups (a marker popped by a blocked worker) before each moveToActive`,
              columns: ['+ms', 'gap ms', 'command', 'queue'],
              rows: trace?.rows ?? [],
            },
            {
              title: `Redis commands per rollout (server side, ${round(redisUsec / n, 0)} µs of Redis CPU per rollout; ${round(redisRun.bytesIn / n, 0)} bytes in and ${round(redisRun.bytesOut / n, 0)} out per rollout, the in-process runs' few commands included)`,
              columns: ['command', 'calls / rollout', 'µs / rollout'],
              rows: redis.slice(0, 8).map((r) => [r.command, round(r.calls / n, 2), round(r.usec / n, 1)]),
            },
          ],
          notes: [
            `${n} rollouts of the simulated maestro policy (${round(totalSteps / n, 2)} policy steps each: one skill call, then the answer); policy and expert servers answer at once (latency scale 0).`,
            `Warm-up: ${coldPerStep.length} rollouts one at a time right after the workers started (their p50 overhead, ${round(quantile(coldPerStep, 0.5), 2)} ms per step, is reported apart as the cold figure), then ${warm.rollouts.length} other rollouts through each path, ${WARM_CONCURRENCY} at a time in-process and all queued at once through the cluster, before the measured ones: a worker's CPU per rollout keeps falling over its first thousands of rollouts while V8 compiles its code, and the target is about workers that have been running a sweep. Both paths get the same warm-up.`,
            {
              inline:
                'Each rollout ran in-process (reference: same policy, skill, scoring and fsync’d record code, no queue) and then through the cluster (orchestrator and scorer as separate processes; the orchestrator makes the expert call itself, registry dispatch: inline, and scores the cheap metric itself, as orchestrators do by default where their data directory holds the sweep), alternately; overhead = (cluster − in-process) / policy steps, per rollout.',
              await:
                'Each rollout ran in-process (reference: same policy, skill, scoring and fsync’d record code, no queue) and then through the cluster (orchestrator, expert pool and scorer as separate processes; each expert call is a job on the expert’s queue that the rollout awaits, registry dispatch: await, and the orchestrator scores the cheap metric in the rollout’s last step), alternately; overhead = (cluster − in-process) / policy steps, per rollout.',
              queue:
                'Each rollout ran in-process (reference: same policy, skill, scoring and fsync’d record code, no queue) and then through the cluster (orchestrator, expert pool and scorer as separate processes; the orchestrator scores the cheap metric in the rollout’s last step, as orchestrators do by default where their data directory holds the sweep), alternately; overhead = (cluster − in-process) / policy steps, per rollout.',
            }[dispatch],
            'Cluster time is measured from queue.add of the rollout to its completed event (QueueEvents), so it includes the scoring, the record and the event delivery.',
            `Floor on this machine: a Redis PING takes ${round(floor.pingMs, 2)} ms (p50) and an empty BullMQ job (add → a no-op worker → completed event) ${round(floor.emptyJobMs, 2)} ms; a rollout makes ${HOPS} queue hops for ${round(totalSteps / n, 2)} policy steps, so the queue alone costs at least ≈ ${round((HOPS * floor.emptyJobMs) / (totalSteps / n), 1)} ms per step here, before any payload, state save or scoring work.`,
            'CPU time is read from /proc for every process involved around each run (10 ms ticks, summed over all rollouts): it is what the queue costs in work, independent of how long the processes waited for a core on the shared machine.',
            'The cluster columns of the breakdown come from the workers’ own Prometheus histograms (maestro_policy_step_duration_seconds, maestro_skill_duration_seconds); "the rest" is everything the queue adds.',
          ],
          durationS: elapsedS(started),
        };
      } finally {
        await queue.close();
        await events.close();
        eventsConn.disconnect();
        await stage.stop();
      }
    },
  };
}

export const overheadScenario = overheadScenarioFor('queue');
export const overheadAwaitScenario = overheadScenarioFor('await');
export const overheadInlineScenario = overheadScenarioFor('inline');
