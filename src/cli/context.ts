import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BenchmarkCatalog, loadCatalog, loadSuite, type Suite } from '../core/benchmarks.ts';
import { type Env, readEnv } from '../core/env.ts';
import { NotFoundError } from '../core/errors.ts';
import { DEFAULT_CATALOG, DEFAULT_REGISTRY, DEFAULT_SUITE } from '../core/paths.ts';
import { loadRegistry, type Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';
import { DataStore } from '../data/store.ts';

/** Options every command accepts (flags win over environment variables). */
export interface GlobalOptions {
  redisUrl?: string;
  prefix?: string;
  dataDir?: string;
}

export function resolveEnv(g: GlobalOptions): Env {
  const env = readEnv();
  return {
    ...env,
    ...(g.redisUrl ? { REDIS_URL: g.redisUrl } : {}),
    ...(g.prefix ? { MAESTRO_PREFIX: g.prefix } : {}),
    ...(g.dataDir ? { MAESTRO_DATA_DIR: g.dataDir } : {}),
  };
}

/** Registry files: flags, else MAESTRO_REGISTRY (comma-separated), else the simulated registry. */
export function registryFiles(flag: string[] | undefined): string[] {
  if (flag?.length) return flag.map((f) => resolve(f));
  const env = process.env.MAESTRO_REGISTRY;
  if (env) return env.split(',').map((f) => resolve(f.trim()));
  return [DEFAULT_REGISTRY];
}

export function loadRegistryFrom(flag: string[] | undefined): Registry {
  return loadRegistry(registryFiles(flag));
}

export function loadBenchmarks(
  catalogFile = DEFAULT_CATALOG,
  suiteFile = DEFAULT_SUITE,
): { catalog: BenchmarkCatalog; suite: Suite } {
  const catalog = loadCatalog(catalogFile);
  return { catalog, suite: loadSuite(suiteFile, catalog) };
}

/** Sweeps recorded in the data directory, oldest first (works without Redis). */
export function sweepsOnDisk(store: DataStore): SweepMeta[] {
  const dir = join(store.root, 'sweeps');
  if (!existsSync(dir)) return [];
  const metas: SweepMeta[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name, 'sweep.json');
    if (!existsSync(file)) continue;
    const parsed = SweepMeta.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) metas.push(parsed.data);
  }
  return metas.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** A sweep by id or name (latest of that name), or the latest sweep. */
export function findSweep(store: DataStore, idOrName: string | undefined): SweepMeta {
  const all = sweepsOnDisk(store);
  const match = idOrName ? all.filter((m) => m.id === idOrName || m.name === idOrName) : all;
  const found = match[match.length - 1];
  if (!found) {
    throw new NotFoundError(
      idOrName ? `no sweep "${idOrName}" in ${store.root}` : `no sweep in ${store.root} yet`,
      {
        hint: all.length
          ? `sweeps: ${all.map((m) => m.id).join(', ')}`
          : 'run `maestro-eval sweep` (or `npm run demo`) first',
      },
    );
  }
  return found;
}

export function dataStore(env: Env): DataStore {
  return new DataStore(env.MAESTRO_DATA_DIR);
}
