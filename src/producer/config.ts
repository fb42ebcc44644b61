import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { DEFAULT_CATALOG, DEFAULT_REGISTRY } from '../core/paths.ts';
import { PauseOnErrors, PolicySpec, parsePolicyKey } from '../core/sweep.ts';
import { parseWith, readYamlFile } from '../core/yaml-file.ts';

const PolicyEntry = z.union([
  z.string().min(1),
  PolicySpec.partial({ key: true }).extend({ kind: PolicySpec.shape.kind }),
]);

/** A sweep file (anywhere): what to run. Paths are relative to the file; defaults come from the package. */
export const SweepFile = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" or "-"'),
  /** Registry files, merged in order. Default: the package's simulated registry. */
  registry: z.array(z.string()).min(1).optional(),
  /** Benchmark catalog. Default: the package's benchmarks/catalog.yaml. */
  catalog: z.string().optional(),
  /**
   * Suite (in-domain and out-of-domain benchmarks). Default: the package's default suite with
   * the package's catalog, else every benchmark of the catalog, grouped by its `group`.
   */
  suite: z.string().optional(),
  /** Benchmarks to run; default: the whole suite. */
  benchmarks: z.array(z.string()).optional(),
  policies: z.array(PolicyEntry).min(1),
  seeds: z.array(z.number().int()).min(1).default([0]),
  /** Items per benchmark (first N by dataset order); default all. Part of the sweep's identity. */
  limit: z.number().int().positive().optional(),
  /** Turn limit; default the registry's (4 in the release). */
  maxTurns: z.number().int().positive().optional(),
  /** Wall-clock budget of one rollout in ms (an error "time budget exceeded" past it). Default none. */
  itemBudgetMs: z.number().int().positive().optional(),
  /** How items are scored: `official` (the scorers of record, default) or `lenient`. */
  scoring: z.enum(['official', 'lenient']).optional(),
  /**
   * The judge model (a `judges:` entry of the registry) for scorers of record that need one
   * (CharXiv, MathVista's extraction step); `none` or absent: no judge (CharXiv then scores
   * with its exact-match proxy). Part of the sweep's identity.
   */
  judge: z.string().min(1).optional(),
  /** Pause when more than `rate` of the last `window` finished items are errors. Default off. */
  pauseOnErrors: PauseOnErrors.optional(),
});
export type SweepFile = z.infer<typeof SweepFile>;

export interface SweepConfig {
  name: string;
  registry: string[];
  catalog: string;
  /** Suite file; absent: the package's default suite, or a custom catalog's own groups. */
  suite?: string;
  benchmarks?: string[];
  policies: PolicySpec[];
  seeds: number[];
  limit?: number;
  maxTurns?: number;
  itemBudgetMs?: number;
  scoring?: 'official' | 'lenient';
  /** The judge's registry name; absent: none. */
  judge?: string;
  pauseOnErrors?: PauseOnErrors;
  file: string;
}

export function toPolicySpec(entry: z.infer<typeof PolicyEntry>, file: string, index: number): PolicySpec {
  try {
    if (typeof entry === 'string') return parsePolicyKey(entry);
    const key =
      entry.key ??
      (entry.kind === 'direct'
        ? `direct:${entry.model}`
        : entry.kind === 'maestro'
          ? (entry.endpoint ?? 'maestro')
          : entry.kind);
    return PolicySpec.parse({ ...entry, key });
  } catch (err) {
    throw new ConfigError(file, `policies[${index}]`, err instanceof Error ? err.message : String(err));
  }
}

export function loadSweepFile(file: string): SweepConfig {
  const parsed = parseWith(SweepFile, readYamlFile(file), file);
  const base = dirname(resolve(file));
  const policies = parsed.policies.map((p, i) => toPolicySpec(p, file, i));
  const keys = new Set<string>();
  policies.forEach((p, i) => {
    if (keys.has(p.key)) throw new ConfigError(file, `policies[${i}]`, `policy "${p.key}" is listed twice`);
    keys.add(p.key);
  });
  return {
    name: parsed.name,
    registry: parsed.registry?.map((r) => resolve(base, r)) ?? [DEFAULT_REGISTRY],
    catalog: parsed.catalog ? resolve(base, parsed.catalog) : DEFAULT_CATALOG,
    ...(parsed.suite ? { suite: resolve(base, parsed.suite) } : {}),
    ...(parsed.benchmarks ? { benchmarks: parsed.benchmarks } : {}),
    policies,
    seeds: parsed.seeds,
    ...(parsed.limit ? { limit: parsed.limit } : {}),
    ...(parsed.maxTurns ? { maxTurns: parsed.maxTurns } : {}),
    ...(parsed.itemBudgetMs ? { itemBudgetMs: parsed.itemBudgetMs } : {}),
    ...(parsed.scoring ? { scoring: parsed.scoring } : {}),
    ...(parsed.judge && parsed.judge !== 'none' ? { judge: parsed.judge } : {}),
    ...(parsed.pauseOnErrors ? { pauseOnErrors: parsed.pauseOnErrors } : {}),
    file,
  };
}
