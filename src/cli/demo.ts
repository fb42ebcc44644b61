import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FIXTURE_BENCHMARKS } from '../../benchmarks/fixtures/generate.ts';
import { FIXTURE_FILE_ITEMS, writeFixtureFiles } from '../../benchmarks/fixtures/write-files.ts';
import { readEnv } from '../core/env.ts';
import { describeError, MaestroError } from '../core/errors.ts';
import { DEFAULT_REGISTRY, DEMO_SWEEP } from '../core/paths.ts';
import { connectRedis } from '../core/redis.ts';
import { loadRegistry } from '../core/registry.ts';
import { DataStore } from '../data/store.ts';
import { importFixtureSets } from '../importers/fixtures.ts';
import { ensureRedis } from '../process/redis-server.ts';
import { type SpawnedWorker, spawnCli, stopProcess } from '../process/spawn.ts';
import { startSimServer } from '../sim/server.ts';
import { loadBenchmarks } from './context.ts';
import { runReport } from './report.ts';
import { runSweepCommand } from './sweep.ts';

export interface DemoOptions {
  /** Fixture items per benchmark. Default 4. */
  items?: number;
  dataDir?: string;
  /** Orchestrator processes. Default 1. */
  orchestrators?: number;
  echoWorkers?: boolean;
  log?: (line: string) => void;
  /** The sweep file. Default sweeps/demo.yaml. */
  sweep?: string;
}

export const DEMO_PREFIX = '{maestro-demo}';

/** Deletes every key under a prefix (the demo starts clean each time). */
async function clearPrefix(url: string, prefix: string): Promise<void> {
  const conn = connectRedis(url, 'client');
  conn.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await conn.del(...found);
    } while (cursor !== '0');
  } finally {
    conn.disconnect();
  }
}

/** Waits until a spawned worker prints its ready line (or dies). */
async function waitReady(w: SpawnedWorker, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!w.output.some((l) => l.startsWith('ready:'))) {
    if (w.child.exitCode !== null) {
      throw new MaestroError(`worker "${w.role}" exited during start-up:\n${w.output.slice(-10).join('\n')}`);
    }
    if (Date.now() - started > timeoutMs)
      throw new MaestroError(`worker "${w.role}" did not become ready in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The embedded default: simulated policy and expert servers (real HTTP), separate worker
 * processes for every role, a real sweep over all 14 benchmarks' fixtures, the table.
 */
export async function runDemo(opts: DemoOptions = {}) {
  const log = opts.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  const redis = await ensureRedis(process.env, log);
  const baseEnv = readEnv();
  const dataDir = resolve(opts.dataDir ?? baseEnv.MAESTRO_DATA_DIR);
  const env = { ...baseEnv, REDIS_URL: redis.url, MAESTRO_PREFIX: DEMO_PREFIX, MAESTRO_DATA_DIR: dataDir };
  const store = new DataStore(dataDir);
  const workers: SpawnedWorker[] = [];
  let sim: Awaited<ReturnType<typeof startSimServer>> | undefined;
  try {
    await clearPrefix(redis.url, DEMO_PREFIX);
    const perBenchmark = opts.items ?? 4;
    log(
      `Importing fixture datasets (${perBenchmark} items × ${FIXTURE_BENCHMARKS.length} benchmarks, each from its release format) into ${dataDir}`,
    );
    {
      // The shipped files hold FIXTURE_FILE_ITEMS items each; larger sets are written first.
      const { catalog: fixtureCatalog } = loadBenchmarks();
      if (perBenchmark <= FIXTURE_FILE_ITEMS) {
        await importFixtureSets(store, fixtureCatalog, FIXTURE_BENCHMARKS, { limit: perBenchmark });
      } else {
        const tmp = await mkdtemp(join(tmpdir(), 'maestro-fixture-files-'));
        try {
          const files = await writeFixtureFiles(tmp, { perBenchmark });
          await importFixtureSets(store, fixtureCatalog, FIXTURE_BENCHMARKS, { files });
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      }
    }

    const { catalog } = loadBenchmarks();
    sim = await startSimServer({ registry: loadRegistry([DEFAULT_REGISTRY]), catalog, dataDir, port: 0 });
    process.env.MAESTRO_SIM_URL = sim.url;
    log(`Simulated policy and expert servers on ${sim.url}`);

    const childEnv = {
      ...process.env,
      REDIS_URL: redis.url,
      MAESTRO_PREFIX: DEMO_PREFIX,
      MAESTRO_DATA_DIR: dataDir,
      MAESTRO_SIM_URL: sim.url,
      MAESTRO_REGISTRY: DEFAULT_REGISTRY,
    };
    const roles = [
      ...Array.from({ length: opts.orchestrators ?? 1 }, () => 'orchestrator'),
      'expert',
      'scorer',
    ];
    for (const [i, role] of roles.entries()) {
      workers.push(
        spawnCli(['worker', '--role', role], childEnv, {
          echo: opts.echoWorkers ?? false,
          label: `${role}#${i}`,
        }),
      );
    }
    await Promise.all(workers.map((w) => waitReady(w)));
    log(`Workers up: ${roles.length} processes (${roles.join(', ')})`);

    // A fresh run each time: drop this sweep's old records.
    const sweep = resolve(opts.sweep ?? DEMO_SWEEP);
    const { plan } = await runSweepCommand(env, store, { file: sweep, dryRun: true, log: () => {} });
    await rm(store.sweepDir(plan.meta.id), { recursive: true, force: true });
    await runSweepCommand(env, store, { file: sweep, wait: true, table: false, log });

    const report = await runReport(store, plan.meta.id);
    const stats = sim.stats();
    const registry = loadRegistry([DEFAULT_REGISTRY]);
    const peaks = registry.experts
      .map((e) => `${e.name} ${stats[e.name]?.peakInFlight ?? 0}/${e.capacity}`)
      .join(', ');
    log('');
    log(report.text);
    log(`Peak concurrent requests per expert (peak/capacity): ${peaks}`);
    log(`Files: ${Object.values(report.files).join('\n       ')}`);
    log(`Per-item records: ${store.sweepDir(plan.meta.id)}/records/`);
    log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { plan, report, stats };
  } catch (err) {
    for (const w of workers) {
      if (w.output.length) log(`--- last output of ${w.role} ---\n${w.output.slice(-5).join('\n')}`);
    }
    throw err instanceof MaestroError ? err : new MaestroError(describeError(err), { cause: err });
  } finally {
    await Promise.all(workers.map((w) => stopProcess(w)));
    await sim?.close();
    await redis.stop();
  }
}
