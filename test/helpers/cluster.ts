import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { loadBenchmarks } from '../../src/cli/context.ts';
import { waitForSweep } from '../../src/cli/sweep.ts';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import { keys, SCORE_QUEUE } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import { type SpawnedWorker, spawnCli, stopProcess } from '../../src/process/spawn.ts';
import { loadSweepFile } from '../../src/producer/config.ts';
import { type PlanFilters, planSweep, type SweepPlan } from '../../src/producer/plan.ts';
import { submitSweep } from '../../src/producer/submit.ts';
import { writeReport } from '../../src/scoring/index.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = resolve(import.meta.dirname, '../..');
export const CATALOG = join(ROOT, 'benchmarks/catalog.yaml');
export const SUITE = join(ROOT, 'benchmarks/suites/default.yaml');
export const SIM_REGISTRY = join(ROOT, 'registry/simulated.yaml');

export interface ClusterOptions {
  /** Fixture items per benchmark. */
  items?: number;
  benchmarks?: string[];
  /** Multiplies simulated latencies. */
  latencyScale?: number;
  /** Rewrites every expert capacity in the simulated registry. */
  capacity?: number;
  /** Extra registry files merged after the simulated one. */
  extraRegistry?: string[];
  redisUrl?: string;
  /** Reuse a data directory (fixtures already generated). */
  dataDir?: string;
}

/**
 * A private cluster for one test: a random key prefix on the test Redis, a temp data
 * directory with generated fixtures, the simulated servers (in this process, real HTTP)
 * and worker processes started on demand. `cleanup()` removes everything.
 */
export class TestCluster {
  readonly prefix = `{t-${randomBytes(5).toString('hex')}}`;
  readonly dir: string;
  readonly dataDir: string;
  readonly store: DataStore;
  readonly registryFiles: string[];
  sim!: SimServer;
  redisUrl: string;
  readonly workers: SpawnedWorker[] = [];
  readonly conn: Redis;
  private readonly ownsDataDir: boolean;

  constructor(readonly opts: ClusterOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'maestro-test-'));
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? join(this.dir, 'data');
    this.store = new DataStore(this.dataDir);
    this.redisUrl = opts.redisUrl ?? REDIS_URL;
    this.conn = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    let registry = SIM_REGISTRY;
    if (opts.capacity) {
      registry = join(this.dir, 'registry.yaml');
      const text = readFileSync(SIM_REGISTRY, 'utf8').replace(/capacity: \d+/g, `capacity: ${opts.capacity}`);
      writeFileSync(registry, text);
    }
    this.registryFiles = [registry, ...(opts.extraRegistry ?? [])];
  }

  async start(): Promise<this> {
    const catalog = loadCatalog(CATALOG);
    if (this.ownsDataDir) {
      await generateFixtures(this.store, {
        perBenchmark: this.opts.items ?? 2,
        ...(this.opts.benchmarks ? { benchmarks: this.opts.benchmarks } : {}),
      });
    }
    this.sim = await startSimServer({
      registry: loadRegistry(this.registryFiles, {}),
      catalog,
      dataDir: this.dataDir,
      port: 0,
      latencyScale: this.opts.latencyScale ?? 0.05,
    });
    return this;
  }

  /** Environment for worker processes and CLI runs. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      REDIS_URL: this.redisUrl,
      MAESTRO_PREFIX: this.prefix,
      MAESTRO_DATA_DIR: this.dataDir,
      MAESTRO_SIM_URL: this.sim.url,
      MAESTRO_REGISTRY: this.registryFiles.join(','),
      MAESTRO_LOCK_MS: '3000',
      MAESTRO_STALLED_MS: '1000',
      MAESTRO_SIM_LATENCY_SCALE: '',
      ...extra,
    };
  }

  /** Starts a worker process and waits for its ready line. */
  async worker(args: string[], extraEnv: Record<string, string> = {}): Promise<SpawnedWorker> {
    // The test file rides in the environment: the suite's teardown names it for a worker left running.
    const testFile = expect.getState().testPath ?? '';
    const w = spawnCli(
      ['worker', ...args, '--shutdown-ms', '5000'],
      this.env({ MAESTRO_TEST_FILE: testFile, ...extraEnv }),
      {
        label: args.join(' '),
      },
    );
    this.workers.push(w);
    const started = Date.now();
    while (!w.output.some((l) => l.startsWith('ready:'))) {
      if (w.child.exitCode !== null)
        throw new Error(`worker ${args.join(' ')} exited:\n${w.output.join('\n')}`);
      if (Date.now() - started > 240_000)
        throw new Error(`worker ${args.join(' ')} not ready:\n${w.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return w;
  }

  /** Writes a sweep file for this cluster. */
  sweepFile(name: string, policies: string[], extra: Record<string, unknown> = {}): string {
    const file = join(this.dir, `${name}.yaml`);
    const doc = {
      name,
      registry: this.registryFiles,
      catalog: CATALOG,
      suite: SUITE,
      ...(this.opts.benchmarks ? { benchmarks: this.opts.benchmarks } : {}),
      policies,
      seeds: [0],
      ...extra,
    };
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  async plan(file: string, filters: PlanFilters = {}): Promise<SweepPlan> {
    process.env.MAESTRO_SIM_URL = this.sim.url;
    const config = loadSweepFile(file);
    const registry = loadRegistry(config.registry);
    const { catalog, suite } = loadBenchmarks(config.catalog, config.suite);
    return planSweep(config, { registry, catalog, suite, store: this.store }, filters);
  }

  async submit(plan: SweepPlan) {
    return submitSweep(this.conn, this.prefix, this.store, plan);
  }

  /** Waits for the sweep; the default is generous: tests run on loaded, shared machines. */
  async wait(plan: SweepPlan, timeoutMs = 300_000) {
    return waitForSweep(this.conn, this.prefix, plan, { timeoutMs, log: () => {}, pollMs: 200 });
  }

  /** How many times each rollout's record was written. */
  async scoredCounts(sweepId: string): Promise<Record<string, number>> {
    const raw = await this.conn.hgetall(keys.scored(this.prefix, sweepId));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /** How many jobs were ever added to the scoring queue (its event stream's `added` entries). */
  async scoringJobsAdded(): Promise<number> {
    const events = (await this.conn.xrange(`${this.prefix}:${SCORE_QUEUE}:events`, '-', '+')) as Array<
      [string, string[]]
    >;
    return events.filter(([, fields]) => fields[0] === 'event' && fields[1] === 'added').length;
  }

  async stopWorkers(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') {
    await Promise.all(
      this.workers.splice(0).map(async (w) => {
        if (signal === 'SIGKILL') {
          w.child.kill('SIGKILL');
          await w.exited;
        } else await stopProcess(w, 10_000);
      }),
    );
  }

  async cleanup() {
    await this.stopWorkers('SIGKILL');
    await this.sim?.close();
    let cursor = '0';
    do {
      const [next, found] = await this.conn.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await this.conn.del(...found);
    } while (cursor !== '0');
    this.conn.disconnect();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The sweep's report written from its records: the results table (Markdown) and the records. */
export async function resultsTable(cluster: TestCluster, sweepId: string) {
  const records = await cluster.store.readRecords(sweepId);
  const catalog = loadCatalog(CATALOG);
  const out = join(cluster.dir, `report-${sweepId}`);
  await writeReport(out, records, { catalog, suite: loadSuite(SUITE, catalog), sweepId });
  return { md: readFileSync(join(out, 'results.md'), 'utf8'), records, dir: out };
}
