/**
 * Chaos-suite harness: a TestCluster whose simulated servers take fault settings and an
 * observer, helpers to audit a sweep (nothing lost, nothing counted twice), an in-process
 * uninterrupted baseline, a seeded PRNG, and the ledger that writes the suite's figures to
 * test/chaos/last-run.json.
 */

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { startWorkers } from '../../src/cli/worker.ts';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { readEnv } from '../../src/core/env.ts';
import { mulberry32 } from '../../src/core/hash.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { compactResult } from '../../src/core/jobs.ts';
import { keys, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { trackPid } from '../../src/process/pids.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import type { SimContext } from '../../src/sim/context.ts';
import { type SimFaults, startSimServer } from '../../src/sim/server.ts';
import { CATALOG, type ClusterOptions, resultsTable, TestCluster } from '../helpers/cluster.ts';

export { resultsTable };

export const LEDGER = resolve(import.meta.dirname, 'last-run.json');

export interface ChaosOptions extends ClusterOptions {
  /** Faults of the simulated servers at start (change them later with `sim.setFaults`). */
  faults?: Record<string, SimFaults>;
  /** Sees every chat request the simulated servers accept. */
  observe?: (kind: 'policy' | 'expert' | 'service', ctx: SimContext) => void;
  /** Extra registry (YAML text) merged after the simulated one. */
  registryYaml?: string;
}

/** Writes a registry file for a cluster before it exists (the constructor needs the path). */
function extraRegistryFile(yaml: string | undefined): { files: string[]; dir?: string } {
  if (!yaml) return { files: [] };
  const dir = mkdtempSync(join(tmpdir(), 'maestro-chaos-reg-'));
  const file = join(dir, 'chaos-registry.yaml');
  writeFileSync(file, yaml);
  return { files: [file], dir };
}

export class ChaosCluster extends TestCluster {
  private readonly registryDir: string | undefined;

  constructor(readonly chaos: ChaosOptions = {}) {
    const extra = extraRegistryFile(chaos.registryYaml);
    super({ ...chaos, extraRegistry: [...(chaos.extraRegistry ?? []), ...extra.files] });
    this.registryDir = extra.dir;
    // Redis may be restarted under this connection: it reconnects, and errors are expected.
    this.conn.on('error', () => {});
  }

  override async start(): Promise<this> {
    const catalog = loadCatalog(CATALOG);
    if (!this.chaos.dataDir) {
      await generateFixtures(this.store, {
        perBenchmark: this.chaos.items ?? 2,
        ...(this.chaos.benchmarks ? { benchmarks: this.chaos.benchmarks } : {}),
      });
    }
    process.env.MAESTRO_SIM_URL ??= 'http://127.0.0.1:9';
    this.sim = await startSimServer({
      registry: loadRegistry(this.registryFiles, {
        ...process.env,
        MAESTRO_SIM_URL: process.env.MAESTRO_SIM_URL,
      }),
      catalog,
      dataDir: this.dataDir,
      port: 0,
      latencyScale: this.chaos.latencyScale ?? 0.05,
      ...(this.chaos.faults ? { faults: this.chaos.faults } : {}),
      ...(this.chaos.observe ? { observe: this.chaos.observe } : {}),
    });
    return this;
  }

  /** A fresh cluster on a copy of this one's datasets and images (same sweep ids). */
  sibling(extra: Partial<ChaosOptions> = {}): ChaosCluster {
    const copy = mkdtempSync(join(tmpdir(), 'maestro-chaos-copy-'));
    for (const sub of ['datasets', 'images']) {
      cpSync(join(this.dataDir, sub), join(copy, sub), { recursive: true });
    }
    const c = new ChaosCluster({ ...this.chaos, faults: {}, ...extra, dataDir: copy });
    c.ownedCopy = copy;
    return c;
  }

  private ownedCopy: string | undefined;

  override async cleanup(): Promise<void> {
    await super.cleanup();
    if (this.registryDir) rmSync(this.registryDir, { recursive: true, force: true });
    if (this.ownedCopy) rmSync(this.ownedCopy, { recursive: true, force: true });
  }
}

/** Runs a sweep to the end with workers inside this process (the uninterrupted reference). */
export async function runInProcess(cluster: ChaosCluster, plan: SweepPlan, timeoutMs = 300_000) {
  const saved = process.env.MAESTRO_SIM_URL;
  process.env.MAESTRO_SIM_URL = cluster.sim.url;
  const env = readEnv({
    REDIS_URL: cluster.redisUrl,
    MAESTRO_PREFIX: cluster.prefix,
    MAESTRO_DATA_DIR: cluster.dataDir,
    // Nothing crashes here; long locks keep a busy test process from looking stalled.
    MAESTRO_LOCK_MS: '30000',
    MAESTRO_STALLED_MS: '15000',
  });
  const handle = await startWorkers({
    roles: ['all'],
    env,
    registry: loadRegistry(cluster.registryFiles),
    store: cluster.store,
    catalog: loadCatalog(CATALOG),
    log: () => {},
  });
  try {
    await cluster.submit(plan);
    await cluster.wait(plan, timeoutMs);
  } finally {
    await handle.close();
    process.env.MAESTRO_SIM_URL = saved;
  }
}

/** Per-item outcome (what a table is made of), keyed by rollout. */
export function outcomes(records: ItemRecord[]): Record<string, string> {
  return Object.fromEntries(
    records.map((r) => [r.rolloutId, `${r.status}|${r.extracted}|${r.correct}|${r.steps.length}`]),
  );
}

/** The results table (results.md) of a sweep, from its durable records. */

export interface Audit {
  items: number;
  records: number;
  /** Planned rollouts without a record. */
  lost: number;
  /** Rollouts whose record was written more than once (`scored` > 1). */
  doubleCounted: number;
  /** Rollouts with a record but no `scored` entry. */
  scoredMissing: number;
  /** Rollouts whose record on disk is not the one Redis counted (another `done` result). */
  mismatched: number;
  /** Records that belong to no planned rollout. */
  strays: number;
  errors: number;
}

/** Nothing lost, nothing counted twice: checks the records and the `scored` hash of a sweep. */
export async function audit(cluster: TestCluster, plan: SweepPlan): Promise<Audit> {
  const records = await cluster.store.readRecords(plan.meta.id);
  const scored = await cluster.conn.hgetall(keys.scored(cluster.prefix, plan.meta.id));
  const done = await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id));
  const planned = new Set(plan.rollouts.map((r) => r.rolloutId));
  const have = new Set(records.map((r) => r.rolloutId));
  return {
    items: planned.size,
    records: records.length,
    lost: [...planned].filter((id) => !have.has(id)).length,
    doubleCounted: Object.values(scored).filter((v) => Number(v) > 1).length,
    scoredMissing: [...have].filter((id) => scored[id] === undefined).length,
    mismatched: records.filter(
      (r) => done[r.rolloutId] !== undefined && done[r.rolloutId] !== compactResult(r),
    ).length,
    strays: [...have].filter((id) => !planned.has(id)).length,
    errors: records.filter((r) => r.status === 'error').length,
  };
}

/** The planned rollouts without a record: their job's state and failure, done and scored entries. */
export async function lostItems(cluster: TestCluster, plan: SweepPlan): Promise<string> {
  const have = new Set((await cluster.store.readRecords(plan.meta.id)).map((r) => r.rolloutId));
  const done = await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id));
  const scored = await cluster.conn.hgetall(keys.scored(cluster.prefix, plan.meta.id));
  const queue = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
  const lines: string[] = [];
  try {
    for (const r of plan.rollouts.filter((x) => !have.has(x.rolloutId))) {
      const job = await queue.getJob(r.rolloutId);
      lines.push(
        `${r.rolloutId}: ${job ? await job.getState() : 'no job'}, attempts ${job?.attemptsMade}, done ${done[r.rolloutId]}, scored ${scored[r.rolloutId]}${job?.failedReason ? `, failed: ${job.failedReason}` : ''}, returned ${JSON.stringify(job?.returnvalue)}`,
      );
    }
  } finally {
    await queue.close();
  }
  return lines.length ? `items without a record:\n${lines.join('\n')}` : 'every item has a record';
}

/**
 * The rollouts of a plan without a done entry, each with its job's state, phase, pending
 * calls and failure: what a failed wait prints, so a stuck sweep says where it stuck.
 */
export async function stuckRollouts(cluster: TestCluster, plan: SweepPlan): Promise<string> {
  const done = await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id));
  const queue = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
  const lines: string[] = [];
  try {
    for (const r of plan.rollouts.filter((x) => done[x.rolloutId] === undefined).slice(0, 10)) {
      const job = await queue.getJob(r.rolloutId);
      const state = job?.data?.state as { phase?: string; pending?: Array<{ kind: string }> } | undefined;
      const deps = job ? await job.getDependenciesCount() : undefined;
      lines.push(
        `${r.rolloutId}: ${job ? await job.getState() : 'no job'}, phase ${state?.phase}, pending ${state?.pending?.map((p) => p.kind).join('+')}, children ${JSON.stringify(deps)}, attempts ${job?.attemptsMade}${job?.failedReason ? `, failed: ${job.failedReason}` : ''}`,
      );
    }
  } finally {
    await queue.close();
  }
  return lines.join('\n');
}

/** Small seeded PRNG: the same seed gives the same chaos schedule. */
export const seeded = mulberry32;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true (or throws with `what` after `timeoutMs`). */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 300_000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs the CLI as a child process (the test process hosts the simulators, so never sync). */
export function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 300_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    trackPid(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr: stderr.trim() });
    });
  });
}

/** Figures of one chaos scenario, summed into test/chaos/last-run.json. */
export interface ChaosFigures {
  processesKilled?: number;
  workerRestarts?: number;
  gracefulStops?: number;
  redisRestarts?: number;
  faultsInjected?: number;
  hostileReplies?: number;
  items: number;
  itemsLost: number;
  itemsDoubleCounted: number;
  [extra: string]: number | undefined;
}

const SUMMED = [
  'processesKilled',
  'workerRestarts',
  'gracefulStops',
  'redisRestarts',
  'faultsInjected',
  'hostileReplies',
  'items',
  'itemsLost',
  'itemsDoubleCounted',
] as const;

/**
 * Adds one scenario's figures to the ledger. Test files run in parallel processes, so the
 * read-modify-write holds a lock (a directory) and the file is replaced atomically.
 */
export async function recordChaos(scenario: string, figures: ChaosFigures): Promise<void> {
  const lock = `${LEDGER}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - started > 10_000) rmSync(lock, { recursive: true, force: true });
      await sleep(20);
    }
  }
  try {
    let ledger: { scenarios: Record<string, Record<string, number | string | undefined>> } = {
      scenarios: {},
    };
    try {
      ledger = JSON.parse(readFileSync(LEDGER, 'utf8'));
      ledger.scenarios ??= {};
    } catch {
      // first scenario of a run, or an unreadable file: start over
    }
    ledger.scenarios[scenario] = { ...figures, at: new Date().toISOString() };
    const totals: Record<string, number> = {};
    for (const key of SUMMED) {
      totals[key] = Object.values(ledger.scenarios).reduce((a, s) => a + Number(s[key] ?? 0), 0);
    }
    const text = `${JSON.stringify({ updatedAt: new Date().toISOString(), totals, scenarios: ledger.scenarios }, null, 2)}\n`;
    const tmp = `${LEDGER}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    const { renameSync } = await import('node:fs');
    renameSync(tmp, LEDGER);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Injected faults counted by the simulated servers (all endpoints). */
export function injectedFaults(cluster: TestCluster): number {
  return Object.values(cluster.sim.stats()).reduce((a, s) => a + s.errorsInjected, 0);
}
