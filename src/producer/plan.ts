import { type BenchmarkCatalog, benchmarkDef, type Suite } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import { fingerprint, slug } from '../core/hash.ts';
import type { RolloutJobData } from '../core/jobs.ts';
import { jobIds } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import { createPolicy } from '../policies/index.ts';
import type { SweepConfig } from './config.ts';

export interface SweepPlan {
  meta: SweepMeta;
  rollouts: RolloutJobData[];
  /** What the user should know about the plan (benchmarks left out, …). */
  notes?: string[];
}

/** Filters that choose what to enqueue now, without changing the sweep's identity. */
export interface PlanFilters {
  benchmarks?: string[];
  policies?: string[];
  /** First N items per benchmark. */
  limit?: number;
}

/**
 * Expands a sweep into rollouts (benchmarks × policies × items × seeds). The sweep id is
 * derived from a fingerprint of everything that decides results (registry, policy
 * settings, dataset versions, seeds, turn limit), so the same sweep always maps to the
 * same job ids and re-submitting it fills only the gaps.
 */
export async function planSweep(
  config: SweepConfig,
  deps: { registry: Registry; catalog: BenchmarkCatalog; suite: Suite; store: DataStore },
  filters: PlanFilters = {},
): Promise<SweepPlan> {
  const { registry, catalog, suite, store } = deps;
  const benchmarkIds = config.benchmarks ?? [...suite.inDomain, ...suite.outOfDomain];
  for (const id of [...benchmarkIds, ...(filters.benchmarks ?? [])]) catalog.get(id);
  for (const key of filters.policies ?? []) {
    if (!config.policies.some((p) => p.key === key)) {
      throw new ConfigError(config.file, 'policies', `policy "${key}" is not in this sweep`, {
        hint: `the sweep has: ${config.policies.map((p) => p.key).join(', ')}`,
      });
    }
  }
  // Fail now, not on a worker: every policy must resolve against the registry.
  config.policies.forEach((spec, i) => {
    try {
      createPolicy(spec, registry);
    } catch (err) {
      throw new ConfigError(config.file, `policies[${i}]`, err instanceof Error ? err.message : String(err));
    }
  });

  const { datasets, notes } = await loadDatasets(store, benchmarkIds, config.limit, filters.benchmarks);
  const maxTurns = config.maxTurns ?? registry.maxTurns;
  // Fail now, not on a worker: the judge must be in the registry.
  const judge = config.judge ? judgeOf(registry, config.judge, config.file) : undefined;
  const judgeRef = judge ? { name: judge.name, model: judge.model } : undefined;
  const fp = fingerprint({
    registry: registry.fingerprint(),
    policies: config.policies,
    benchmarks: datasets.map((d) => ({ id: d.id, version: d.version })),
    seeds: config.seeds,
    maxTurns,
    limit: config.limit ?? null,
    // Only a non-default mode enters the fingerprint (official sweeps keep their ids).
    ...(config.scoring === 'lenient' ? { scoring: 'lenient' } : {}),
    // The judge's model and settings decide verdicts (no judge: ids as before).
    ...(judge ? { judge: [judge.model, judge.temperature, judge.maxTokens] } : {}),
    // How each benchmark is scored and routed decides results too.
    metrics: datasets.map((d) => {
      const b = catalog.get(d.id);
      return [b.id, b.metric, b.answerType, b.domain];
    }),
  });
  const id = `${config.name}-${fp.slice(0, 12)}`;
  const meta: SweepMeta = {
    v: 1,
    id,
    name: config.name,
    fingerprint: fp,
    createdAt: new Date().toISOString(),
    registryFingerprint: registry.fingerprint(),
    policies: config.policies,
    benchmarks: datasets.map((d) => ({ id: d.id, version: d.version, count: d.items.length })),
    seeds: config.seeds,
    maxTurns,
    ...(config.limit ? { limit: config.limit } : {}),
    ...(config.scoring ? { scoring: config.scoring } : {}),
    ...(judgeRef ? { judge: judgeRef } : {}),
    // Guards are operational: changing them does not change the sweep's identity.
    ...(config.itemBudgetMs ? { itemBudgetMs: config.itemBudgetMs } : {}),
    ...(config.pauseOnErrors ? { pauseOnErrors: config.pauseOnErrors } : {}),
    catalog: datasets.map((d) => benchmarkDef(catalog.get(d.id))),
    suite,
  };

  // Job ids start with the sweep id (name and fingerprint): a renamed sweep with the same
  // content has jobs of its own instead of finding the other sweep's.
  const short = slug(id, 64);
  const rollouts: RolloutJobData[] = [];
  for (const ds of datasets) {
    if (filters.benchmarks && !filters.benchmarks.includes(ds.id)) continue;
    const items = filters.limit ? ds.items.slice(0, filters.limit) : ds.items;
    for (const policy of config.policies) {
      if (filters.policies && !filters.policies.includes(policy.key)) continue;
      for (const item of items) {
        for (const seed of config.seeds) {
          for (let sample = 0; sample < (policy.samples ?? 1); sample++) {
            rollouts.push({
              v: 1,
              sweepId: id,
              rolloutId: jobIds.rollout(short, ds.id, policy.key, item.id, seed, sample),
              policy: policy.key,
              benchmark: ds.id,
              itemId: item.id,
              seed,
              sample,
              state: { phase: 'policy', turn: 0, steps: [], pending: [] },
            });
          }
        }
      }
    }
  }
  return { meta, rollouts, ...(notes.length ? { notes } : {}) };
}

/**
 * The sweep's datasets. With a `--benchmarks` filter, a benchmark outside it whose dataset is
 * not imported here is left out of the sweep (and a note says so): only the datasets being run
 * are demanded.
 */
async function loadDatasets(
  store: DataStore,
  ids: string[],
  limit: number | undefined,
  only: string[] | undefined,
) {
  const datasets = [];
  const skipped: string[] = [];
  for (const id of ids) {
    if (only && !only.includes(id) && !store.hasDataset(id)) {
      skipped.push(id);
      continue;
    }
    const ds = await store.loadDataset(id);
    const items = limit ? ds.items.slice(0, limit) : ds.items;
    datasets.push({ id, version: ds.manifest.version, items });
  }
  const notes = skipped.length
    ? [
        `not imported here, left out of this sweep: ${skipped.join(', ')} (import them and submit again for the full sweep; its id will differ)`,
      ]
    : [];
  return { datasets, notes };
}

/** The sweep's judge from the registry, or a ConfigError naming the sweep file's `judge` field. */
function judgeOf(registry: Registry, name: string, file: string) {
  try {
    return registry.judge(name);
  } catch (err) {
    throw new ConfigError(file, 'judge', err instanceof Error ? err.message : String(err), {
      hint: `judges in the registry: ${registry.judges.map((j) => j.name).join(', ') || '(none)'}; or judge: none`,
    });
  }
}
