/**
 * Registry augmentation as an experiment: the same sweep, the same code and the same
 * worker command, run once on the in-domain registry and once with the out-of-domain file
 * merged in. Only the registry files differ between the two runs.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { buildSystemPrompt } from '../../src/policies/prompt.ts';
import { SIM_REGISTRY, TestCluster } from '../helpers/cluster.ts';

const OOD_SIM = resolve(import.meta.dirname, '../../registry/ood-simulated.yaml');
const OOD_BENCHMARKS = ['ocrbench', 'vlmsareblind', 'erqa', 'humanevalv'];
const NEW_EXPERTS = ['Qwen3.5-9B', 'Step3-VL-10B'];
const NEW_SKILLS = ['OCRBench_Router', 'Diagram_Reasoning', 'Embodied_Reasoning', 'Code_Problem_Solver'];
const WORKER = ['--role', 'all'];

/** Mean of the per-benchmark accuracies (the out-of-domain average). */
function oodAverage(records: ItemRecord[]): number {
  const per = OOD_BENCHMARKS.map((b) => {
    const rs = records.filter((r) => r.benchmark === b);
    return rs.filter((r) => r.correct).length / rs.length;
  });
  return per.reduce((a, x) => a + x, 0) / per.length;
}

describe('augmenting the registry with out-of-domain experts and skill packs', () => {
  const base = new TestCluster({ items: 8, benchmarks: OOD_BENCHMARKS, latencyScale: 0.02 });
  const augmented = new TestCluster({
    items: 8,
    benchmarks: OOD_BENCHMARKS,
    latencyScale: 0.02,
    extraRegistry: [OOD_SIM],
  });
  const records = new Map<TestCluster, ItemRecord[]>();

  beforeAll(async () => {
    await Promise.all(
      [base, augmented].map(async (cluster) => {
        await cluster.start();
        await cluster.worker(WORKER);
        const plan = await cluster.plan(cluster.sweepFile('augment', ['maestro']));
        await cluster.submit(plan);
        await cluster.wait(plan);
        records.set(cluster, await cluster.store.readRecords(plan.meta.id));
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([base.cleanup(), augmented.cleanup()]);
  });

  it('differs only by the registry file: same code, same worker command, same items', async () => {
    expect(base.registryFiles).toEqual([SIM_REGISTRY]);
    expect(augmented.registryFiles).toEqual([SIM_REGISTRY, OOD_SIM]);
    for (const b of OOD_BENCHMARKS) {
      const [x, y] = await Promise.all([base.store.loadDataset(b), augmented.store.loadDataset(b)]);
      expect(y.manifest.version).toBe(x.manifest.version);
    }
    expect(records.get(base)).toHaveLength(32);
    expect(records.get(augmented)).toHaveLength(32);
  });

  it('offers the new experts and Level-1 skills in the generated policy prompt', () => {
    const before = buildSystemPrompt(loadRegistry(base.registryFiles, {}));
    const after = buildSystemPrompt(loadRegistry(augmented.registryFiles, {}));
    for (const name of [...NEW_EXPERTS, ...NEW_SKILLS]) {
      expect(before).not.toContain(name);
      expect(after).toContain(`- ${name}: `);
    }
    // Level-2 solvers are reached through their routers, never offered directly.
    expect(after).not.toContain('Text_Recognition');
  });

  it('lets the simulated policy route out-of-domain items to the new experts and skills', () => {
    const firstCalls = (c: TestCluster) => (records.get(c) ?? []).map((r) => r.steps[0]);
    const usedBefore = firstCalls(base).filter((s) => NEW_EXPERTS.includes(s?.expert ?? ''));
    expect(usedBefore).toEqual([]);
    const after = firstCalls(augmented);
    const onNew = after.filter(
      (s) => NEW_EXPERTS.includes(s?.expert ?? '') && NEW_SKILLS.includes(s?.skill ?? ''),
    );
    expect(onNew.length).toBeGreaterThanOrEqual(24);
    // Each new Level-1 skill was used, and the routers reached their Level-2 solvers.
    for (const skill of NEW_SKILLS) expect(after.some((s) => s?.skill === skill)).toBe(true);
    expect(after.some((s) => s?.calls.some((c) => /routed to \w+/.test(c.note ?? '')))).toBe(true);
    expect((records.get(augmented) ?? []).filter((r) => r.status === 'error')).toEqual([]);
  });

  it('changes out-of-domain accuracy (it rises with the better-suited experts and skills)', () => {
    const before = oodAverage(records.get(base) ?? []);
    const after = oodAverage(records.get(augmented) ?? []);
    expect(after).not.toBe(before);
    expect(after).toBeGreaterThan(before + 0.1);
  });
});
