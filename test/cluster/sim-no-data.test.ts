import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { freePort } from '../../src/process/redis-server.ts';
import { spawnCli, stopProcess } from '../../src/process/spawn.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';
import { CATALOG, TestCluster } from '../helpers/cluster.ts';

/**
 * A simulator started without the workers' data directory cannot know the items: it warns
 * at start-up, and every answer about an unknown item is an error whose cause says what to
 * fix, so the sweep reports errors instead of 0 % with no warning.
 */
describe('the simulator without the data directory', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'tallyqa'] });
  let blind: SimServer;
  let empty: string;
  let records: ItemRecord[];

  beforeAll(async () => {
    await cluster.start();
    empty = join(cluster.dir, 'empty-data');
    mkdirSync(empty);
    blind = await startSimServer({
      registry: loadRegistry(cluster.registryFiles, {}),
      catalog: loadCatalog(CATALOG),
      dataDir: empty,
      port: 0,
      latencyScale: 0.05,
    });
    await cluster.worker(['--role', 'all'], { MAESTRO_SIM_URL: blind.url });
    const plan = await cluster.plan(cluster.sweepFile('blind', ['maestro', 'direct:gpt-5']));
    await cluster.submit(plan);
    await cluster.wait(plan);
    records = await cluster.store.readRecords(plan.meta.id);
  }, 300_000);

  afterAll(async () => {
    await blind?.close();
    await cluster.cleanup();
  });

  it('records every item as an error naming the cause, never as a wrong answer', () => {
    expect(records).toHaveLength(8);
    expect(records.filter((r) => r.status !== 'error')).toEqual([]);
    for (const r of records) expect(r.error).toMatch(/is not in its data directory .*empty-data/);
  });

  it('`maestro-eval sim` warns at start-up when its data directory holds no dataset', async () => {
    const sim = spawnCli(
      ['sim', '--port', String(await freePort())],
      { ...cluster.env(), MAESTRO_DATA_DIR: empty },
      { label: 'sim' },
    );
    try {
      const started = Date.now();
      while (
        !sim.output.some((l) => l.startsWith('ready:')) &&
        sim.child.exitCode === null &&
        Date.now() - started < 60_000
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const text = sim.output.join('\n');
      expect(text).toMatch(/WARNING: no datasets in .*empty-data/);
      expect(text).toMatch(/ready: simulated endpoints/);
    } finally {
      await stopProcess(sim);
    }
  }, 300_000);
});
