/**
 * What every benchmark scenario stands on: a private Redis, a data directory with
 * fixture items, and "stages" — one simulated-server process plus worker processes for a
 * registry, under a fresh key prefix — with helpers to plan, submit and time sweeps.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { FIXTURE_BENCHMARKS, generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { type BenchmarkCatalog, loadCatalog, loadSuite, type Suite } from '../core/benchmarks.ts';
import { DEFAULT_CATALOG, DEFAULT_SUITE } from '../core/paths.ts';
import { keys } from '../core/queues.ts';
import { assertRedisReachable } from '../core/redis.ts';
import { type DispatchMode, loadRegistry, type Registry } from '../core/registry.ts';
import { DataStore } from '../data/store.ts';
import { trackPid } from '../process/pids.ts';
import { freePort, type RedisHandle, startRedisServer } from '../process/redis-server.ts';
import { CLI_BIN, type SpawnedWorker, spawnCli, stopProcess } from '../process/spawn.ts';
import { loadSweepFile } from '../producer/config.ts';
import { planSweep, type SweepPlan } from '../producer/plan.ts';
import { submitSweep } from '../producer/submit.ts';
import type { EndpointStats } from '../sim/server.ts';
import { monotonicUs, type ProfileWindow } from './profile.ts';

/** Benchmarks the scenarios draw items from (code execution scoring left out: it measures Python, not the cluster). */
export const BENCH_BENCHMARKS: string[] = FIXTURE_BENCHMARKS.filter((b) => b !== 'humanevalv');

export interface SweepFileOptions {
  /** Another registry file than the stage's. */
  registryFile?: string;
  /** Other benchmarks than the bench's default set. */
  benchmarks?: string[];
}

export interface BenchContextOptions {
  /** Use this Redis instead of starting a private one. */
  redisUrl?: string;
  /** Fixture items per benchmark. */
  itemsPerBenchmark: number;
  log: (line: string) => void;
  /** Echo worker output. */
  verbose?: boolean;
  /** Write a V8 CPU profile of every worker process here (node --cpu-prof). */
  cpuProfileDir?: string;
  /** Where the stages keep their data directories and files. Default: the OS temp folder. */
  workDir?: string;
  /**
   * Other checkouts (built) to measure beside this one in the same run: scenarios that
   * support it alternate their workers and CLI with this checkout's (before/after).
   */
  baselines?: string[];
}

/** The run-wide environment: Redis, data, catalog. */
export class BenchContext {
  readonly root: string;
  readonly dataDir: string;
  readonly store: DataStore;
  readonly catalog: BenchmarkCatalog;
  readonly suite: Suite;
  readonly log: (line: string) => void;
  readonly verbose: boolean;
  /** Where worker CPU profiles go (set per scenario by the runner); none when undefined. */
  cpuProfileDir: string | undefined;
  /** The baseline checkouts measured beside this one: a label (the folder's name) and CLI entry. */
  readonly baselines: Array<{ label: string; bin: string }>;
  /** The measured phase of the current scenario (monotonic µs), for CPU profile summaries. */
  profileWindows: ProfileWindow[] = [];
  /** Labels of the worker processes started, by pid (to name their CPU profiles). */
  readonly processLabels = new Map<number, string>();
  redisUrl = '';
  /** Pid of the private redis-server (0 when an external Redis is used). */
  redisPid = 0;
  conn!: Redis;
  private redis?: RedisHandle;

  private constructor(opts: BenchContextOptions) {
    if (opts.workDir) mkdirSync(opts.workDir, { recursive: true });
    this.root = mkdtempSync(join(opts.workDir ?? tmpdir(), 'maestro-bench-'));
    this.dataDir = join(this.root, 'data');
    this.store = new DataStore(this.dataDir);
    this.catalog = loadCatalog(DEFAULT_CATALOG);
    this.suite = loadSuite(DEFAULT_SUITE, this.catalog);
    this.log = opts.log;
    this.verbose = opts.verbose ?? false;
    this.cpuProfileDir = opts.cpuProfileDir;
    this.baselines = (opts.baselines ?? []).map((dir) => ({
      label: basename(resolve(dir)),
      bin: join(resolve(dir), 'bin', 'maestro-eval.js'),
    }));
  }

  static async create(opts: BenchContextOptions): Promise<BenchContext> {
    const ctx = new BenchContext(opts);
    try {
      if (opts.redisUrl) {
        await assertRedisReachable(opts.redisUrl);
        ctx.redisUrl = opts.redisUrl;
      } else {
        const redis = await startRedisServer();
        ctx.redis = redis;
        ctx.redisUrl = redis.url;
        ctx.redisPid = redis.pid;
      }
      ctx.conn = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
      await generateFixtures(ctx.store, {
        perBenchmark: opts.itemsPerBenchmark,
        benchmarks: BENCH_BENCHMARKS,
      });
      return ctx;
    } catch (err) {
      await ctx.close();
      throw err;
    }
  }

  /** Marks the start or the end of the scenario's measured phase (for CPU profiles). */
  mark(edge: 'start' | 'end'): void {
    const now = monotonicUs();
    const last = this.profileWindows.at(-1);
    if (edge === 'start') this.profileWindows.push({ startUs: now, endUs: Number.MAX_SAFE_INTEGER });
    else if (last) last.endUs = now;
  }

  /** Redis server facts for the report. */
  async redisInfo(): Promise<{ version: string; ownServer: boolean; maxmemoryPolicy: string }> {
    const info = await this.conn.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const policy = ((await this.conn.config('GET', 'maxmemory-policy')) as string[])[1] ?? 'unknown';
    return { version, ownServer: Boolean(this.redis), maxmemoryPolicy: policy };
  }

  async close(): Promise<void> {
    this.conn?.disconnect();
    await this.redis?.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** An expert of a scenario's registry. */
export interface ExpertSpec {
  name: string;
  capacity: number;
  /** Median service time (ms) and lognormal sigma. */
  medianMs: number;
  sigma?: number;
  /** Domains the simulated policy routes to this expert (it is the most accurate there). */
  domains: string[];
  /** Simulated server capacity when it differs from the registry capacity (a bigger GPU batch). */
  serverCapacity?: number;
  knee?: { at: number; slowdown: number };
  adaptive?: Record<string, unknown>;
}

export interface RegistrySpec {
  experts: ExpertSpec[];
  /** The simulated `maestro` policy endpoint. */
  policy: { medianMs: number; sigma?: number; capacity: number };
  maxTurns: number;
  /** How expert calls are made (registry `dispatch`); default the registry's (queue). */
  dispatch?: DispatchMode;
}

/** Registry document for a scenario, pointing at the simulator's URL. */
function registryDoc(spec: RegistrySpec, simUrl: string, forServer: boolean): unknown {
  const allDomains = [...new Set(spec.experts.flatMap((e) => e.domains))];
  return {
    version: 1,
    defaults: { maxTurns: spec.maxTurns },
    ...(spec.dispatch && !forServer ? { dispatch: spec.dispatch } : {}),
    policies: [
      {
        name: 'maestro',
        model: 'maestro-bench-sim',
        baseUrl: `${simUrl}/maestro/v1`,
        capacity: spec.policy.capacity,
        temperature: 0,
        sim: {
          routingQuality: 1,
          latencyMs: { median: spec.policy.medianMs, sigma: spec.policy.sigma ?? 0.3 },
        },
      },
    ],
    experts: spec.experts.map((e) => ({
      name: e.name,
      model: e.name,
      baseUrl: `${simUrl}/${e.name}/v1`,
      capacity: forServer ? (e.serverCapacity ?? e.capacity) : e.capacity,
      strengths: e.domains.join(', '),
      ...(e.adaptive && !forServer ? { adaptive: e.adaptive } : {}),
      sim: {
        accuracy: Object.fromEntries(e.domains.map((d) => [d, 0.9])),
        defaultAccuracy: 0.2,
        latencyMs: { median: e.medianMs, sigma: e.sigma ?? 0.3 },
        ...(e.knee ? { knee: e.knee } : {}),
      },
    })),
    skills: [
      {
        name: 'analyze',
        level: 1,
        description: 'look at the image and answer',
        implementation: 'generic',
        domains: allDomains,
      },
    ],
  };
}

export interface WorkerSpec {
  role: 'orchestrator' | 'expert' | 'scorer' | 'all';
  /** Extra CLI arguments (e.g. --concurrency 32). */
  args?: string[];
  /** Extra environment (e.g. MAESTRO_INLINE_SCORING). */
  env?: Record<string, string>;
}

export interface StageOptions {
  name: string;
  registry: RegistrySpec;
  /** Multiplies simulated latencies (0 = answer at once). */
  latencyScale: number;
  workers: WorkerSpec[];
  /** Serve Prometheus metrics from each worker (ports chosen here). */
  metrics?: boolean;
  /** A data directory of the stage's own (default the run's). */
  dataDir?: string;
  /** The CLI entry of the workers (default this checkout's; a baseline's for before/after runs). */
  bin?: string;
}

/** One simulated-server process and a set of worker processes under a fresh prefix. */
export class Stage {
  prefix: string;
  readonly dir: string;
  registryFile = '';
  serverRegistryFile = '';
  simUrl = '';
  registry!: Registry;
  sim?: SpawnedWorker;
  readonly workers: Array<SpawnedWorker & { metricsUrl?: string }> = [];

  private constructor(
    readonly ctx: BenchContext,
    readonly opts: StageOptions,
  ) {
    this.prefix = `{bench-${opts.name}-${randomBytes(3).toString('hex')}}`;
    this.dir = join(ctx.root, `stage-${opts.name}-${randomBytes(3).toString('hex')}`);
  }

  /**
   * A stage without workers or traffic, over `dataDir`: a registry for sweep files (one
   * expert, Solo), a key prefix and the simulator, for scenarios that plan, feed or read
   * sweeps themselves.
   */
  static quiet(ctx: BenchContext, name: string, dataDir: string): Promise<Stage> {
    return Stage.start(ctx, {
      name,
      latencyScale: 0,
      dataDir,
      registry: {
        maxTurns: 4,
        policy: { medianMs: 1, capacity: 64 },
        experts: [{ name: 'Solo', capacity: 64, medianMs: 1, domains: ['counting'] }],
      },
      workers: [],
    });
  }

  static async start(ctx: BenchContext, opts: StageOptions): Promise<Stage> {
    const stage = new Stage(ctx, opts);
    try {
      await stage.startSim();
      await stage.startWorkers(opts.workers);
      return stage;
    } catch (err) {
      await stage.stop();
      throw err;
    }
  }

  /** The environment of the stage's processes (workers, and CLI commands run against the stage). */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      REDIS_URL: this.ctx.redisUrl,
      MAESTRO_PREFIX: this.prefix,
      MAESTRO_DATA_DIR: this.opts.dataDir ?? this.ctx.dataDir,
      MAESTRO_REGISTRY: this.registryFile,
      MAESTRO_SIM_URL: this.simUrl,
      MAESTRO_METRICS_PORT: '0',
      ...extra,
    };
  }

  /** Writes the workers' registry (and the simulator's) for a spec; returns the workers' file. */
  writeRegistry(spec: RegistrySpec, label = 'registry'): string {
    const file = join(this.dir, `${label}.yaml`);
    writeFileSync(file, JSON.stringify(registryDoc(spec, this.simUrl, false), null, 1));
    return file;
  }

  private async startSim(): Promise<void> {
    const port = await freePort();
    this.simUrl = `http://127.0.0.1:${port}`;
    mkdirSync(this.dir, { recursive: true });
    this.registryFile = this.writeRegistry(this.opts.registry);
    this.serverRegistryFile = join(this.dir, 'server.yaml');
    writeFileSync(
      this.serverRegistryFile,
      JSON.stringify(registryDoc(this.opts.registry, this.simUrl, true)),
    );
    this.registry = loadRegistry([this.registryFile], {});
    this.sim = spawnNode(
      this.ctx.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.ctx.cpuProfileDir}`] : [],
      ['sim', '--registry', this.serverRegistryFile, '--port', String(port)],
      this.env({ MAESTRO_SIM_LATENCY_SCALE: String(this.opts.latencyScale) }),
      { echo: this.ctx.verbose, label: `sim:${this.opts.name}` },
    );
    if (this.sim.child.pid) this.ctx.processLabels.set(this.sim.child.pid, `${this.opts.name}: simulator`);
    await waitForLine(this.sim, 'ready:');
  }

  /** Starts worker processes (optionally with another registry file) and waits until they are ready. */
  async startWorkers(specs: WorkerSpec[], registryFile = this.registryFile): Promise<SpawnedWorker[]> {
    const started: Array<SpawnedWorker & { metricsUrl?: string }> = [];
    for (const spec of specs) {
      const port = this.opts.metrics ? await freePort() : 0;
      const w: SpawnedWorker & { metricsUrl?: string } = spawnNode(
        this.ctx.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.ctx.cpuProfileDir}`] : [],
        ['worker', '--role', spec.role, '--shutdown-ms', '10000', ...(spec.args ?? [])],
        this.env({ ...spec.env, MAESTRO_REGISTRY: registryFile, MAESTRO_METRICS_PORT: String(port) }),
        { echo: this.ctx.verbose, label: `${this.opts.name}:${spec.role}` },
        this.opts.bin,
      );
      if (port) w.metricsUrl = `http://127.0.0.1:${port}/metrics`;
      if (w.child.pid) this.ctx.processLabels.set(w.child.pid, w.role);
      started.push(w);
      this.workers.push(w);
    }
    await Promise.all(started.map((w) => waitForLine(w, 'ready:')));
    return started;
  }

  async stopWorkers(which: SpawnedWorker[] = this.workers): Promise<void> {
    await Promise.all(which.map((w) => stopProcess(w, 15_000)));
    for (const w of which) {
      const i = this.workers.indexOf(w);
      if (i >= 0) this.workers.splice(i, 1);
    }
  }

  /**
   * Writes a sweep file over the bench benchmarks (or `opts.benchmarks`) with these policies
   * and seeds; returns its path.
   */
  sweepFile(name: string, policies: string[], seeds: number[], opts: SweepFileOptions = {}): string {
    const file = join(this.dir, `${name}.sweep.yaml`);
    writeFileSync(
      file,
      JSON.stringify({
        name,
        registry: [opts.registryFile ?? this.registryFile],
        catalog: DEFAULT_CATALOG,
        suite: DEFAULT_SUITE,
        benchmarks: opts.benchmarks ?? BENCH_BENCHMARKS,
        policies,
        seeds,
      }),
    );
    return file;
  }

  /** Plans a sweep (see sweepFile) against the bench's data folder, or `store`'s. */
  async plan(
    name: string,
    policies: string[],
    seeds: number[],
    opts: SweepFileOptions & { store?: DataStore } = {},
  ): Promise<SweepPlan> {
    const config = loadSweepFile(this.sweepFile(name, policies, seeds, opts));
    return planSweep(config, {
      registry: loadRegistry(config.registry, {}),
      catalog: this.ctx.catalog,
      suite: this.ctx.suite,
      store: opts.store ?? this.ctx.store,
    });
  }

  async submit(plan: SweepPlan) {
    return submitSweep(this.ctx.conn, this.prefix, this.ctx.store, plan);
  }

  /** Scored rollouts of a sweep so far. */
  done(plan: SweepPlan): Promise<number> {
    return this.ctx.conn.hlen(keys.done(this.prefix, plan.meta.id));
  }

  /** Polls until `count` rollouts are scored; returns the time it happened (performance.now()). */
  async waitDone(
    plan: SweepPlan,
    count = plan.rollouts.length,
    opts: { pollMs?: number; timeoutMs?: number; onPoll?: (done: number) => void } = {},
  ): Promise<number> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const done = await this.done(plan);
      opts.onPoll?.(done);
      if (done >= count) return performance.now();
      if (Date.now() > deadline) {
        const tail = this.workers.flatMap((w) => w.output.slice(-3).map((l) => `[${w.role}] ${l}`));
        throw new Error(
          `${this.opts.name}: ${done}/${count} rollouts scored before the timeout\n${tail.join('\n')}`,
        );
      }
      for (const w of this.workers) {
        if (w.child.exitCode !== null)
          throw new Error(`${w.role} exited:\n${w.output.slice(-10).join('\n')}`);
      }
      await sleep(opts.pollMs ?? 20);
    }
  }

  async simStats(): Promise<Record<string, EndpointStats>> {
    const res = await fetch(`${this.simUrl}/_sim/stats`);
    return (await res.json()) as Record<string, EndpointStats>;
  }

  /** Stops the workers, deletes the keys and moves to a fresh prefix (the simulator stays). */
  async reset(): Promise<void> {
    await this.stopWorkers([...this.workers]);
    await this.clearKeys();
    this.prefix = `{bench-${this.opts.name}-${randomBytes(3).toString('hex')}}`;
  }

  /** Pids of the simulator and the workers (for CPU accounting). */
  pids(): { sim: number; workers: Array<{ role: string; pid: number }> } {
    return {
      sim: this.sim?.child.pid ?? 0,
      workers: this.workers.map((w) => ({ role: w.role, pid: w.child.pid ?? 0 })),
    };
  }

  /** Deletes the stage's keys (for reuse of the prefix or at the end). */
  async clearKeys(): Promise<void> {
    await deletePrefix(this.ctx.conn, this.prefix);
  }

  async stop(): Promise<void> {
    await this.stopWorkers([...this.workers]);
    if (this.sim) await stopProcess(this.sim, 5_000);
    await this.clearKeys().catch(() => {});
  }
}

export async function deletePrefix(conn: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await conn.unlink(...found);
  } while (cursor !== '0');
}

/** Like spawnCli, with Node options before the script (e.g. --cpu-prof). */
export function spawnNode(
  nodeArgs: string[],
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { echo?: boolean; label?: string },
  bin?: string,
): SpawnedWorker {
  if (nodeArgs.length === 0 && !bin) return spawnCli(args, env, opts);
  const child = spawn(process.execPath, [...nodeArgs, bin ?? CLI_BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackPid(child);
  const output: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      if (opts.echo) process.stderr.write(`[${opts.label}] ${line}\n`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, role: opts.label ?? args.join(' '), exited, output };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until a spawned process prints a line starting with `prefix` (or dies). */
export async function waitForLine(w: SpawnedWorker, prefix: string, timeoutMs = 60_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const line = w.output.find((l) => l.startsWith(prefix));
    if (line) return line;
    if (w.child.exitCode !== null)
      throw new Error(`${w.role} exited during start-up:\n${w.output.join('\n')}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${w.role} not ready after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Scrapes a Prometheus endpoint and returns the value of one sample (first series). */
export async function scrapeValue(url: string, metric: string): Promise<number | null> {
  const text = await (await fetch(url)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${metric} `) || line.startsWith(`${metric}{`)) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(v)) return v;
    }
  }
  return null;
}
