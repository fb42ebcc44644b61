import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { loadBenchmarks } from '../../src/cli/context.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import { loadSweepFile } from '../../src/producer/config.ts';
import { planSweep } from '../../src/producer/plan.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'maestro-judge-plan-'));
const store = new DataStore(join(dir, 'data'));
const registryFile = join(ROOT, 'registry/simulated.yaml');

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await generateFixtures(store, { perBenchmark: 1, benchmarks: ['charxiv'] });
}, 120_000);

async function plan(judge?: string) {
  const file = join(dir, `s-${judge ?? 'absent'}.yaml`);
  const doc = {
    name: 'judged',
    registry: [registryFile],
    catalog: join(ROOT, 'benchmarks/catalog.yaml'),
    suite: join(ROOT, 'benchmarks/suites/default.yaml'),
    benchmarks: ['charxiv'],
    policies: ['direct:Chart-R1'],
    ...(judge ? { judge } : {}),
  };
  writeFileSync(file, JSON.stringify(doc));
  const config = loadSweepFile(file);
  const { catalog, suite } = loadBenchmarks(config.catalog, config.suite);
  return planSweep(config, { registry: loadRegistry(config.registry, {}), catalog, suite, store });
}

describe("a sweep's judge", () => {
  it('is recorded in the sweep and is part of its identity; none is the same as absent', async () => {
    const without = await plan();
    const none = await plan('none');
    const judged = await plan('sim-judge');
    expect(without.meta.judge).toBeUndefined();
    expect(none.meta.id).toBe(without.meta.id);
    expect(judged.meta.judge).toEqual({ name: 'sim-judge', model: 'judge-sim' });
    expect(judged.meta.id).not.toBe(without.meta.id);
  });

  it('must be in the registry; the error names the sweep file field', async () => {
    await expect(plan('gpt-judge')).rejects.toThrow(/at judge: unknown judge "gpt-judge"/);
  });

  it('is a registry entry with a cap and defaults', () => {
    const j = loadRegistry([registryFile], {}).judge('SIM_JUDGE');
    expect(j).toMatchObject({ name: 'sim-judge', capacity: 4, temperature: 0, maxTokens: 512, attempts: 4 });
  });
});
