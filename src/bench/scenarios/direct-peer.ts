/**
 * Direct peer: the direct baseline over 1,000 text items against one OpenAI-compatible
 * simulated endpoint (50 ms per request, capacity 64), one `worker --role all` already
 * running, timed around `maestro-eval sweep FILE --wait` run as its own process. The
 * endpoint alone needs items ÷ 64 × 50 ms (the ideal); everything above it is the control
 * plane. Reported as ratios of one run: wall ÷ ideal, CPU per rollout (worker, client,
 * Redis), Redis commands and bytes per rollout, and the resident memory of the worker and
 * of the `sweep --wait` client.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_CATALOG, DEFAULT_SUITE } from '../../core/paths.ts';
import type { DispatchMode } from '../../core/registry.ts';
import { DataStore } from '../../data/store.ts';
import type { SpawnedWorker } from '../../process/spawn.ts';
import { FLOOR_QUEUE } from '../floor.ts';
import type { BenchContext } from '../harness.ts';
import { Stage, spawnNode, waitForLine } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { writeTextItems } from '../text-items.ts';
import { cpuMs, elapsedS, mainThreadCpuMs, rssBytes, type Scenario } from './common.ts';
import {
  type ClientMarks,
  type ClientSample,
  fileCreationCpuMs,
  redisDelta,
  redisSnapshot,
  sampleProcess,
  wallPhases,
  watchProcess,
} from './peer-meter.ts';

const CAPACITY = 64;
const LATENCY_MS = 50;
const BENCHMARK = 'tallyqa';
const EXPERT = 'Solo';
/** The larger run: the items under this many seeds. */
const SCALE_SEEDS = 10;
/** Sweeps of the measured size run before the measured one (see measure). */
const WARMUP_SWEEPS = 3;
/** Targets of issue 15. */
const TARGET = {
  wallRatio: 1.5,
  cpuMsPerRollout: 1.5,
  redisCpuMsPerRollout: 0.3,
  workerMiB: 150,
  clientMiB: 100,
};

/**
 * The sweep file of a measured run. A baseline reads the benchmark catalog and suite of its
 * own checkout (an older one may not know the keys this checkout's files have).
 */
export function sweepFile(stage: Stage, name: string, seeds: number[]): string {
  const file = join(stage.dir, `${name}.sweep.yaml`);
  const root = stage.opts.bin ? dirname(dirname(stage.opts.bin)) : null;
  const doc = {
    name,
    registry: [stage.registryFile],
    catalog: root ? join(root, 'benchmarks', 'catalog.yaml') : DEFAULT_CATALOG,
    suite: root ? join(root, 'benchmarks', 'suites', 'default.yaml') : DEFAULT_SUITE,
    benchmarks: [BENCHMARK],
    policies: [`direct:${EXPERT}`],
    seeds,
  };
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/**
 * The client of a measured run: `maestro-eval sweep FILE --wait`, or for the floor the bare
 * client adding the calls (see src/bench/floor.ts). `submitted` matches its line saying every
 * rollout is enqueued (its first group the sweep's id, or the floor's tag), `ended` its line
 * saying every one is done.
 */
interface ClientRun {
  args: string[];
  label: string;
  submitted: RegExp;
  ended: RegExp;
}

const sweepClient = (file: string): ClientRun => ({
  args: ['sweep', file, '--wait'],
  label: 'sweep --wait',
  submitted: /^sweep (\S+):.* enqueued/m,
  ended: /^sweep \S+: \d+\/\d+ scored/m,
});

const floorClient = (tag: string, calls: number): ClientRun => ({
  args: ['bench-floor-client', '--calls', String(calls), '--tag', tag],
  label: 'floor client',
  submitted: /^floor (\S+): \d+ calls added/m,
  ended: /^floor \S+: \d+\/\d+ completed/m,
});

/** Runs a client as its own process; returns its wall time, CPU and peak RSS. */
async function timedSweep(ctx: BenchContext, stage: Stage, run: ClientRun) {
  const started = performance.now();
  const spawnedAt = Date.now();
  const client: SpawnedWorker = spawnNode(
    ctx.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfileDir}`] : [],
    run.args,
    stage.env(),
    { echo: ctx.verbose, label: run.label },
    stage.opts.bin,
  );
  if (client.child.pid) ctx.processLabels.set(client.child.pid, `${stage.opts.name}: ${run.label}`);
  let enqueuedAt = 0;
  let sweepId = '';
  /** When the client printed that every rollout is done (Date.now()). */
  let scoredAt = 0;
  client.child.stdout?.on('data', (b: Buffer) => {
    const text = b.toString();
    const submitted = enqueuedAt ? null : run.submitted.exec(text);
    if (submitted) {
      enqueuedAt = performance.now();
      sweepId = submitted[1] ?? '';
    }
    if (!scoredAt && run.ended.test(text)) scoredAt = Date.now();
  });
  const sample: ClientSample = await watchProcess(client, 10);
  const wallMs = performance.now() - started;
  if (sample.exitCode !== 0)
    throw new Error(`${run.label} exited ${sample.exitCode}:\n${client.output.slice(-10).join('\n')}`);
  const marks: ClientMarks = { spawnedAt, scoredAt, exitedAt: Date.now(), sweepId };
  return { wallMs, afterEnqueueMs: enqueuedAt ? performance.now() - enqueuedAt : wallMs, marks, ...sample };
}

/**
 * Where the wall of the measured sweep went (see wallPhases), from its records; for the floor,
 * from its jobs (BullMQ's processedOn and finishedOn of each).
 */
async function phases(stage: Stage, marks: ClientMarks, busyMs: number, floorCalls = 0) {
  if (!floorCalls) {
    const records = await new DataStore(stage.opts.dataDir ?? stage.ctx.dataDir).readRecords(marks.sweepId);
    return wallPhases(records, marks, busyMs);
  }
  const pipeline = stage.ctx.conn.pipeline();
  for (let i = 0; i < floorCalls; i++)
    pipeline.hmget(`${stage.prefix}:${FLOOR_QUEUE}:${marks.sweepId}-${i}`, 'processedOn', 'finishedOn');
  const spans = ((await pipeline.exec()) ?? []).map(([, v]) => {
    const [on, off] = (v as Array<string | null>).map(Number);
    return { startedAt: new Date(on ?? 0).toISOString(), finishedAt: new Date(off ?? 0).toISOString() };
  });
  return wallPhases(spans, marks, busyMs);
}

/**
 * The measured sweep: wall time and client figures, worker, simulator and Redis deltas. With
 * `floorCalls`, the floor's client instead, adding that many calls (the stage's worker is the
 * floor's).
 */
async function measure(ctx: BenchContext, stage: Stage, label: string, seeds = 1, floorCalls = 0) {
  const workerPids = stage.workers.map((w) => w.child.pid ?? 0);
  for (const w of stage.workers) await waitForLine(w, 'ready:');
  /** CPU of every worker process of the stage (one `--role all`, or one per role). */
  const workerCpu = () => workerPids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
  /** The part of it on their main threads (the rest: V8's compiler and GC, libuv's pool). */
  const workerMainCpu = () => workerPids.reduce((sum, pid) => sum + (mainThreadCpuMs(pid) ?? 0), 0);
  // Warm-up: WARMUP_SWEEPS sweeps of the same items on other seeds (connections, and a worker
  // whose code V8 has compiled, as in a worker that has been running); the first one's
  // figures are the cold ones.
  const coldCpu0 = workerCpu();
  const client = (name: string, seedList: number[]) =>
    floorCalls
      ? floorClient(name, (floorCalls / seeds) * seedList.length)
      : sweepClient(sweepFile(stage, name, seedList));
  const first = await timedSweep(ctx, stage, client(`direct-peer-warmup-${label}-1`, [1]));
  const cold = { wallMs: first.wallMs, workerCpuMs: workerCpu() - coldCpu0 };
  for (let k = 2; k <= WARMUP_SWEEPS; k++)
    await timedSweep(ctx, stage, client(`direct-peer-warmup-${label}-${k}`, [k]));
  const measured = client(
    `direct-peer-${label}`,
    Array.from({ length: seeds }, (_, i) => 100 + i),
  );
  const before = await redisSnapshot(ctx.conn);
  const workerCpu0 = workerCpu();
  const workerMainCpu0 = workerMainCpu();
  const simCpu0 = cpuMs(stage.sim?.child.pid ?? 0) ?? 0;
  const busy0 = (await stage.simStats())[EXPERT]?.busyMs ?? 0;
  ctx.mark('start');
  const run = await timedSweep(ctx, stage, measured);
  ctx.mark('end');
  const busyMs = ((await stage.simStats())[EXPERT]?.busyMs ?? 0) - busy0;
  return {
    run,
    phases: await phases(stage, run.marks, busyMs, floorCalls),
    cold,
    workerPids,
    workerCpuMs: workerCpu() - workerCpu0,
    workerMainCpuMs: workerMainCpu() - workerMainCpu0,
    simCpuMs: (cpuMs(stage.sim?.child.pid ?? 0) ?? 0) - simCpu0,
    redis: redisDelta(before, await redisSnapshot(ctx.conn)),
    /** The largest worker process (each has the target). */
    workerMem: workerPids
      .map(sampleProcess)
      .reduce((a, b) => (b.peakRss > a.peakRss ? b : a), { rss: 0, peakRss: 0 }),
  };
}

type Measured = Awaited<ReturnType<typeof measure>>;

/** The row of the workers' CPU spent beside their main threads (the JavaScript's). */
const WORKER_OTHER_THREADS =
  "CPU ms, workers, beside their main threads (V8 compiling and collecting, libuv's pool)";

/** The figures of a measured sweep of `n` rollouts, per rollout. */
function figures(n: number, m: Measured) {
  const { run, cold, workerPids, workerCpuMs, workerMainCpuMs, simCpuMs, redis, workerMem, phases: ph } = m;
  const idealMs = (n / CAPACITY) * LATENCY_MS;
  const per = (v: number) => v / n;
  return {
    rollouts: n,
    idealMs: round(idealMs, 0),
    wallMs: round(run.wallMs, 0),
    wallRatio: round(run.wallMs / idealMs, 2),
    afterEnqueueMs: round(run.afterEnqueueMs, 0),
    afterEnqueueRatio: round(run.afterEnqueueMs / idealMs, 2),
    /** Where the wall went (ms; see phases); null when the records or the client's lines were not found. */
    phases: ph
      ? {
          startMs: round(ph.startMs, 0),
          spanMs: round(ph.spanMs, 0),
          spanRatio: round(ph.spanMs / idealMs, 2),
          endpointInFlight: round(ph.inFlight, 1),
          endSeenMs: round(ph.endSeenMs, 0),
          reportMs: round(ph.reportMs, 0),
        }
      : null,
    /** The warm-up sweep: the first after the worker started. */
    cold: { wallRatio: round(cold.wallMs / idealMs, 2), workerCpuMs: round(per(cold.workerCpuMs), 3) },
    cpuMsPerRollout: {
      worker: round(per(workerCpuMs), 3),
      /** Of `worker`, what ran beside the workers' main threads. */
      workerOtherThreads: round(per(workerCpuMs - workerMainCpuMs), 3),
      client: round(per(run.cpuMs), 3),
      allRoles: round(per(workerCpuMs + run.cpuMs), 3),
      redis: round(per(redis.cpuMs), 3),
      simulator: round(per(simCpuMs), 3),
    },
    redisPerRollout: {
      commands: round(per(redis.commands), 1),
      socketReads: round(per(redis.reads), 1),
      bytesIn: round(per(redis.bytesIn), 0),
      bytesOut: round(per(redis.bytesOut), 0),
    },
    memoryMiB: {
      workerRss: round(Math.max(...workerPids.map((pid) => rssBytes(pid) ?? 0)) / 2 ** 20, 1),
      workerPeak: round(workerMem.peakRss / 2 ** 20, 1),
      clientPeak: round(run.peakRss / 2 ** 20, 1),
    },
  };
}

type Phases = NonNullable<ReturnType<typeof figures>['phases']>;
/** The rows of where the wall went (see phases). */
const PHASES: Array<[string, (p: Phases) => number | string]> = [
  ['ms from spawn to the first rollout started', (p) => p.startMs],
  ['ms of rollouts (first started to last finished), ÷ ideal', (p) => `${p.spanMs}, ${p.spanRatio}`],
  [`endpoint requests in flight, mean over the rollouts (of ${CAPACITY})`, (p) => p.endpointInFlight],
  ['ms from the last rollout finished to the client seeing the end', (p) => p.endSeenMs],
  ['ms of report and exit', (p) => p.reportMs],
];

/** The scenario's result from its figures. */
function result(
  n: number,
  f: ReturnType<typeof figures>,
  redis: Measured['redis'],
  started: number,
  /** The floor's wall ÷ ideal in the same round, when it was measured. */
  floorRatio?: number,
): ScenarioResult {
  const per = (v: number) => v / n;
  const pass =
    f.wallRatio <= TARGET.wallRatio &&
    f.cpuMsPerRollout.allRoles <= TARGET.cpuMsPerRollout &&
    f.cpuMsPerRollout.redis <= TARGET.redisCpuMsPerRollout &&
    f.memoryMiB.workerPeak <= TARGET.workerMiB &&
    f.memoryMiB.clientPeak <= TARGET.clientMiB;
  return {
    id: 'direct-peer',
    title: 'Direct peer (direct baseline, one endpoint)',
    target: `wall ≤ ${TARGET.wallRatio}× ideal; CPU ≤ ${TARGET.cpuMsPerRollout} ms/rollout (all roles); Redis CPU ≤ ${TARGET.redisCpuMsPerRollout} ms/rollout; worker ≤ ${TARGET.workerMiB} MB, client ≤ ${TARGET.clientMiB} MB`,
    pass,
    headline: `wall ${f.wallRatio}× ideal (${f.wallMs} vs ${f.idealMs} ms); CPU ${f.cpuMsPerRollout.allRoles} ms/rollout, Redis ${f.cpuMsPerRollout.redis} ms; ${f.redisPerRollout.commands} commands/rollout; RSS worker ${f.memoryMiB.workerPeak} MiB, client ${f.memoryMiB.clientPeak} MiB${floorRatio === undefined ? '' : `; the floor (a bare BullMQ client and worker) ${floorRatio}× ideal`}`,
    figures: f,
    tables: [
      {
        title: 'Per rollout',
        columns: ['figure', 'value', 'target'],
        rows: [
          ['wall ÷ ideal (spawn of sweep --wait to its exit)', f.wallRatio, `≤ ${TARGET.wallRatio}`],
          ['wall ÷ ideal, after the enqueue line', f.afterEnqueueRatio, '—'],
          ...PHASES.map(([name, pick]) => [name, f.phases ? pick(f.phases) : '—', '—']),
          ['wall ÷ ideal, warm-up sweep (first after the worker started)', f.cold.wallRatio, '—'],
          ['CPU ms, worker, warm-up sweep', f.cold.workerCpuMs, '—'],
          ['CPU ms, workers (all roles, all processes)', f.cpuMsPerRollout.worker, '—'],
          [WORKER_OTHER_THREADS, f.cpuMsPerRollout.workerOtherThreads, '—'],
          ['CPU ms, sweep --wait client', f.cpuMsPerRollout.client, '—'],
          ['CPU ms, worker + client', f.cpuMsPerRollout.allRoles, `≤ ${TARGET.cpuMsPerRollout}`],
          ['CPU ms, Redis (INFO cpu)', f.cpuMsPerRollout.redis, `≤ ${TARGET.redisCpuMsPerRollout}`],
          ['CPU ms, simulated endpoint', f.cpuMsPerRollout.simulator, '—'],
          ['Redis commands', f.redisPerRollout.commands, '—'],
          ['Redis socket reads (≈ client writes)', f.redisPerRollout.socketReads, '—'],
          ['Redis bytes in / out', `${f.redisPerRollout.bytesIn} / ${f.redisPerRollout.bytesOut}`, '—'],
          ['worker peak RSS (MiB; the largest process)', f.memoryMiB.workerPeak, `≤ ${TARGET.workerMiB}`],
          ['sweep --wait peak RSS (MiB)', f.memoryMiB.clientPeak, `≤ ${TARGET.clientMiB}`],
        ],
      },
      {
        title: 'Redis commands of the measured sweep (INFO commandstats), per rollout',
        columns: ['command', 'calls/rollout', 'µs/rollout'],
        rows: redis.byCommand
          .slice(0, 15)
          .map((c) => [c.command, round(per(c.calls), 2), round(per(c.usec), 1)]),
      },
    ],
    notes: [
      `${n} text items (no images) of ${BENCHMARK} (integer metric), policy direct:${EXPERT}: one expert call per rollout. The simulated endpoint answers in ${LATENCY_MS} ms (σ 0) and serves ${CAPACITY} requests at once; the registry capacity is ${CAPACITY}. Ideal = ${n} ÷ ${CAPACITY} × ${LATENCY_MS} ms.`,
      `One \`worker --role all\` (orchestrator, expert pool, scorer; default concurrency), or for a "-split" version one worker process per role (\`--role orchestrator\`, \`--role expert\`, \`--role scorer\`, as a deployment runs them; the orchestrator still scores, the scorer idles), was started and warmed up with ${WARMUP_SWEEPS} sweeps of the same ${n} items on other seeds before the measured one, as a worker that has been running is (the warm-up rows are the first of them: a worker's first sweep, while V8 is still compiling its code). Wall is the \`maestro-eval sweep FILE --wait\` process from spawn to exit (its start-up, planning, submission and waiting included); that process always starts cold.`,
      `The ${(SCALE_SEEDS * 1000).toLocaleString('en-US')}-rollout table (full runs only): one run per dispatch of this checkout, on a stage of its own warmed up the same way, whose measured sweep is the same items under ${SCALE_SEEDS} seeds; the ideal is then ${SCALE_SEEDS} times as long, the client's start-up and report are not. The targets are stated for 1,000 rollouts.`,
      `Where the wall went: the rollouts' span is from the earliest startedAt to the latest finishedAt of the sweep's records (the worker's clock, the same machine's); the client's marks are its spawn, the line saying every rollout is scored, and its exit. The endpoint's mean requests in flight is its busy time (the simulator's sum of request durations) ÷ that span: below ${CAPACITY}, calls waited for the control plane, not for the endpoint.`,
      'CPU: /proc/<pid>/stat of the worker (difference) and of the client (sampled every 10 ms until it exits); of the worker CPU, /proc/<pid>/task/<pid>/stat is its main thread (the JavaScript) and the rest ran on its other threads (V8 compiling code and collecting garbage in the background, the libuv pool writing and syncing files); Redis CPU is used_cpu_sys + used_cpu_user of INFO cpu; commands and bytes from INFO commandstats and INFO stats (total_net_input_bytes/total_net_output_bytes), all before/after the measured sweep. Peak RSS is VmHWM.',
    ],
    durationS: elapsedS(started),
  };
}

/**
 * A version measured: this checkout or a baseline's (`bin`), its expert calls' dispatch, and
 * its workers: one `worker --role all`, or (`split`) one process per role, as a deployment
 * runs them.
 */
interface Version {
  label: string;
  bin?: string | undefined;
  dispatch?: DispatchMode | undefined;
  split?: boolean;
  /** The floor: the same calls through a bare BullMQ queue and worker (src/bench/floor.ts). */
  floor?: boolean;
}

/** The workers of a split version: an orchestrator, an expert pool and a scorer (idle here: the orchestrator scores). */
const SPLIT_ROLES = [
  { role: 'orchestrator' as const },
  { role: 'expert' as const },
  { role: 'scorer' as const },
];

/** Starts the floor's worker on the stage (serving the stage's expert endpoint), as one of its workers. */
function startFloorWorker(ctx: BenchContext, stage: Stage): void {
  const expert = stage.registry.experts.find((e) => e.name === EXPERT);
  if (!expert) throw new Error(`direct-peer: the stage's registry has no expert ${EXPERT}`);
  const worker = spawnNode(
    ctx.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfileDir}`] : [],
    ['bench-floor-worker', '--base-url', expert.baseUrl, '--model', expert.model],
    stage.env(),
    { echo: ctx.verbose, label: `${stage.opts.name}:floor` },
  );
  if (worker.child.pid) ctx.processLabels.set(worker.child.pid, 'floor worker');
  stage.workers.push(worker);
}

/**
 * One measured run on a stage of its own: this checkout's workers and CLI, the baseline's, or
 * the floor.
 */
async function measuredRun(
  ctx: BenchContext,
  n: number,
  dataDir: string,
  label: string,
  version: Version,
  /** The measured sweep runs the items under this many seeds (n × seeds rollouts). */
  seeds = 1,
) {
  const { bin, dispatch, split, floor } = version;
  const stage = await Stage.start(ctx, {
    name: `direct-peer-${label}`,
    latencyScale: 1,
    dataDir,
    registry: {
      maxTurns: 4,
      policy: { medianMs: LATENCY_MS, sigma: 0, capacity: CAPACITY },
      experts: [{ name: EXPERT, capacity: CAPACITY, medianMs: LATENCY_MS, sigma: 0, domains: ['counting'] }],
      ...(dispatch ? { dispatch } : {}),
    },
    workers: floor ? [] : split ? SPLIT_ROLES : [{ role: 'all' }],
    ...(bin ? { bin } : {}),
  });
  try {
    if (floor) startFloorWorker(ctx, stage);
    const m = await measure(ctx, stage, label, seeds, floor ? n * seeds : 0);
    const f = figures(n * seeds, m);
    ctx.log(`  direct-peer ${label}: ${JSON.stringify(f)}`);
    return { label, f, redis: m.redis };
  } finally {
    await stage.stop();
  }
}

/** With baselines: each version's runs, alternated (only ratios within a run are compared). */
function beforeAfterTable(runs: Array<Awaited<ReturnType<typeof measuredRun>>>, versions: string[]) {
  const runsOf = (v: string) => runs.filter((r) => r.label.replace(/-\d+$/, '') === v);
  type F = ReturnType<typeof figures>;
  const row = (name: string, pick: (f: F) => number | string, target: string) => [
    name,
    ...versions.map((v) =>
      runsOf(v)
        .map((r) => pick(r.f))
        .join(', '),
    ),
    target,
  ];
  /** Each run's wall over the floor's in the same round (labels end in the round's number). */
  const overFloor = (r: (typeof runs)[number]) => {
    const floor = runs.find((x) => x.label === `floor-${/-(\d+)$/.exec(r.label)?.[1]}`);
    return floor ? round(r.f.wallMs / floor.f.wallMs, 2) : '—';
  };
  return {
    title: `Versions alternated in this run (${runs.map((r) => r.label).join(', ')}); "this" is the checkout running the bench`,
    columns: ['per rollout', ...versions, 'target'],
    rows: [
      row('wall ÷ ideal', (f) => f.wallRatio, `≤ ${TARGET.wallRatio}`),
      [
        "wall ÷ the floor's wall in the same round",
        ...versions.map((v) => runsOf(v).map(overFloor).join(', ')),
        '—',
      ],
      row('wall ÷ ideal, after the enqueue line', (f) => f.afterEnqueueRatio, '—'),
      ...PHASES.map(([name, pick]) => row(name, (f) => (f.phases ? pick(f.phases) : '—'), '—')),
      row('wall ÷ ideal, warm-up sweep', (f) => f.cold.wallRatio, '—'),
      row('CPU ms, worker, warm-up sweep', (f) => f.cold.workerCpuMs, '—'),
      row('CPU ms, workers (all roles, all processes)', (f) => f.cpuMsPerRollout.worker, '—'),
      row(WORKER_OTHER_THREADS, (f) => f.cpuMsPerRollout.workerOtherThreads, '—'),
      row('CPU ms, sweep --wait client', (f) => f.cpuMsPerRollout.client, '—'),
      row('CPU ms, worker + client', (f) => f.cpuMsPerRollout.allRoles, `≤ ${TARGET.cpuMsPerRollout}`),
      row('CPU ms, Redis (INFO cpu)', (f) => f.cpuMsPerRollout.redis, `≤ ${TARGET.redisCpuMsPerRollout}`),
      row('Redis commands', (f) => f.redisPerRollout.commands, '—'),
      row('Redis socket reads (≈ client writes)', (f) => f.redisPerRollout.socketReads, '—'),
      row('Redis bytes in / out', (f) => `${f.redisPerRollout.bytesIn} / ${f.redisPerRollout.bytesOut}`, '—'),
      row(
        'worker peak RSS (MiB; the largest process)',
        (f) => f.memoryMiB.workerPeak,
        `≤ ${TARGET.workerMiB}`,
      ),
      row('sweep --wait peak RSS (MiB)', (f) => f.memoryMiB.clientPeak, `≤ ${TARGET.clientMiB}`),
    ],
  };
}

/** The runs at SCALE_SEEDS × the items, one column per dispatch. */
function scaledTable(runs: Array<Awaited<ReturnType<typeof measuredRun>>>, rollouts: number) {
  type F = ReturnType<typeof figures>;
  const row = (name: string, pick: (f: F) => number | string, target = '—') => [
    name,
    ...runs.map((r) => pick(r.f)),
    target,
  ];
  return {
    title: `${rollouts.toLocaleString('en-US')} rollouts (the items under ${SCALE_SEEDS} seeds), one run per dispatch of this checkout`,
    columns: ['per rollout', ...runs.map((r) => r.label), 'target at 1,000'],
    rows: [
      row('wall ÷ ideal', (f) => f.wallRatio, `≤ ${TARGET.wallRatio}`),
      ...PHASES.map(([name, pick]) => row(name, (f) => (f.phases ? pick(f.phases) : '—'))),
      row('CPU ms, workers (all roles, all processes)', (f) => f.cpuMsPerRollout.worker),
      row(WORKER_OTHER_THREADS, (f) => f.cpuMsPerRollout.workerOtherThreads),
      row('CPU ms, sweep --wait client', (f) => f.cpuMsPerRollout.client),
      row('CPU ms, worker + client', (f) => f.cpuMsPerRollout.allRoles, `≤ ${TARGET.cpuMsPerRollout}`),
      row('CPU ms, Redis (INFO cpu)', (f) => f.cpuMsPerRollout.redis, `≤ ${TARGET.redisCpuMsPerRollout}`),
      row('Redis commands', (f) => f.redisPerRollout.commands),
      row(
        'worker peak RSS (MiB; the largest process)',
        (f) => f.memoryMiB.workerPeak,
        `≤ ${TARGET.workerMiB}`,
      ),
      row('sweep --wait peak RSS (MiB)', (f) => f.memoryMiB.clientPeak, `≤ ${TARGET.clientMiB}`),
    ],
  };
}

export const directPeerScenario: Scenario = {
  id: 'direct-peer',
  title: 'Direct peer (direct baseline, one endpoint)',
  estimateS: { full: 240, quick: 55 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const n = quick ? 300 : 1_000;
    const dataDir = join(ctx.root, 'direct-peer-data');
    await writeTextItems(dataDir, BENCHMARK, n, 'generated:direct-peer');
    // Each baseline, then this checkout, with expert calls through the queue ("this"; "-split":
    // the same with one worker process per role), awaited ("this-await") and made by the
    // orchestrator ("this-inline", registry `dispatch: inline`), twice over; first the floor:
    // the same calls through a bare BullMQ queue and worker, nothing of the product around them.
    const versions: Version[] = [
      { label: 'floor', floor: true },
      ...ctx.baselines.flatMap((b) => [
        b,
        { ...b, label: `${b.label}-split`, split: true },
        { ...b, label: `${b.label}-inline`, dispatch: 'inline' as const },
      ]),
      { label: 'this' },
      { label: 'this-split', split: true },
      { label: 'this-await', dispatch: 'await' },
      { label: 'this-inline', dispatch: 'inline' },
    ];
    const rounds = quick ? 1 : 2;
    const runs: Array<Awaited<ReturnType<typeof measuredRun>>> = [];
    for (let r = 1; r <= rounds; r++)
      for (const v of versions) runs.push(await measuredRun(ctx, n, dataDir, `${v.label}-${r}`, v));
    // The same at ten times the rollouts (the items under 10 seeds), once per dispatch of this
    // checkout: the client's start-up and report weigh a tenth as much, the per-rollout
    // control plane as much.
    const scaled: Array<Awaited<ReturnType<typeof measuredRun>>> = [];
    if (!quick)
      for (const v of versions.filter((x) => !x.bin))
        scaled.push(await measuredRun(ctx, n, dataDir, `${v.label}-x${SCALE_SEEDS}`, v, SCALE_SEEDS));
    const last = runs[runs.length - 1]!;
    const floorRun = runs.filter((r) => r.label.startsWith('floor-')).at(-1);
    const out = result(n, last.f, last.redis, started, floorRun?.f.wallRatio);
    const fileMs = round(fileCreationCpuMs(dataDir), 3);
    ctx.log(`  direct-peer: creating a file in the data folder costs ${fileMs} ms of CPU`);
    if (scaled.length) out.tables.splice(1, 0, scaledTable(scaled, n * SCALE_SEEDS));
    out.tables.unshift(
      beforeAfterTable(
        runs,
        versions.map((v) => v.label),
      ),
    );
    out.notes.push(
      `"floor" is the least a Node.js client and worker pay here to send these calls through BullMQ: a bare client (\`maestro-eval bench-floor-client\`, src/bench/floor.ts) adds one job per item (${CAPACITY} per addBulk) and checks every 5 ms whether the queue has completed them all; a bare BullMQ worker (\`bench-floor-worker\`, concurrency ${CAPACITY}) posts each job's prompt to the same endpoint and returns the answer. No planning, registry, rollout state, scoring, records or report; both start through the same bundle and code cache as the product's processes. Its "rollouts started" and "finished" are its jobs' processedOn and finishedOn. What the product's versions add to the floor's figures is what the control plane costs; a target below the floor's figure is out of reach on this machine for any design that sends calls through a queue from a Node.js client.`,
      `${ctx.baselines.length ? `Baselines: ${ctx.baselines.map((b) => `${b.label} (${b.bin})`).join(', ')}. ` : ''}"this" (and each baseline) sends each expert call through the expert's queue (registry default, dispatch: queue), from one \`worker --role all\`; "this-split" (and "<baseline>-split") does the same with one worker process per role, where CPU is summed over the three processes and RSS is the largest one's; "this-await" waits for each call's reply (dispatch: await); "this-inline" (and "<baseline>-inline") has the orchestrator make it (dispatch: inline). The headline and the per-rollout table are of the last run, this-inline.`,
      `Creating a small file in the data folder (${dataDir}) cost ${fileMs} ms of CPU here (2,000 files, measured after the runs); records go to journals (one file per writing process, appended in groups), so no rollout creates a file: this figure is the cost a file per record would add here (\`--work-dir\` picks the folder).`,
    );
    return out;
  },
};
