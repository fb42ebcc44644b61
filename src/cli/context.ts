import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  type BenchmarkCatalog,
  catalogFromDefs,
  loadCatalog,
  loadSuite,
  type Suite,
} from '../core/benchmarks.ts';
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

/**
 * A catalog and its suite. Without a suite file: the default suite for the package's catalog,
 * else every benchmark of the catalog grouped by its `group`.
 */
export function loadBenchmarks(
  catalogFile = DEFAULT_CATALOG,
  suiteFile?: string,
): { catalog: BenchmarkCatalog; suite: Suite } {
  const catalog = loadCatalog(catalogFile);
  if (suiteFile || resolve(catalogFile) === DEFAULT_CATALOG) {
    return { catalog, suite: loadSuite(suiteFile ?? DEFAULT_SUITE, catalog) };
  }
  const ids = (group: string) => catalog.benchmarks.filter((b) => b.group === group).map((b) => b.id);
  return {
    catalog,
    suite: { name: basename(catalogFile), inDomain: ids('in-domain'), outOfDomain: ids('out-of-domain') },
  };
}

/** The catalog and suite a sweep stored, else the package's (sweeps stored by older versions). */
export function sweepBenchmarks(meta: SweepMeta): { catalog: BenchmarkCatalog; suite: Suite } {
  const own = loadBenchmarks();
  if (!meta.catalog) return own;
  // Sub-scores only shape the tables: a sweep stored before its benchmark had them gets the catalog's.
  const defs = meta.catalog.map((d) => {
    const subscores = d.subscores ?? own.catalog.find(d.id)?.subscores;
    return subscores ? { ...d, subscores } : d;
  });
  return { catalog: catalogFromDefs(defs), suite: meta.suite ?? own.suite };
}

/**
 * Sweeps recorded in the data directory, oldest first (works without Redis). A `sweep.json`
 * that is not a sweep's (cut short, edited by hand) is left out.
 */
export function sweepsOnDisk(store: DataStore): SweepMeta[] {
  const dir = join(store.root, 'sweeps');
  if (!existsSync(dir)) return [];
  const metas: SweepMeta[] = [];
  for (const name of readdirSync(dir)) {
    const meta = readSweepMeta(join(dir, name, 'sweep.json'));
    if (meta) metas.push(meta);
  }
  return metas.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The sweep that file describes; none when it is missing, not JSON or not a sweep. */
function readSweepMeta(file: string): SweepMeta | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = SweepMeta.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The sweep whose id this is, read from its own folder (no look at the others), if any. */
function sweepById(store: DataStore, id: string): SweepMeta | undefined {
  const meta = readSweepMeta(join(store.sweepDir(id), 'sweep.json'));
  return meta?.id === id ? meta : undefined;
}

/**
 * A sweep by id (read from its folder), or by name (latest of that name), or the latest
 * sweep. A data directory may hold hundreds of sweeps: only a name, or no argument, reads them
 * all.
 */
export function findSweep(store: DataStore, idOrName: string | undefined): SweepMeta {
  const byId = idOrName ? sweepById(store, idOrName) : undefined;
  if (byId) return byId;
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
