import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import type { DataStore, DatasetManifest } from '../data/store.ts';
import { getImporter } from './index.ts';
import { importFiles } from './run.ts';

/**
 * Imports the fixture sets the repository ships (benchmarks/fixtures/files/<id>/), each in
 * its benchmark's release format, with the catalog's default importer and mapping: the same
 * path real data takes.
 */
export async function importFixtureSets(
  store: DataStore,
  catalog: BenchmarkCatalog,
  benchmarks: readonly string[],
  opts: {
    /** At most this many items per benchmark. */
    limit?: number;
    /** Files to import instead of the catalog's fixture files, per benchmark. */
    files?: Record<string, string[]>;
  } = {},
): Promise<Record<string, DatasetManifest>> {
  const plans = benchmarks.map((id) => {
    const b = catalog.get(id);
    const spec = b.import;
    const files = opts.files?.[id] ?? spec?.fixtures ?? [];
    if (!spec || files.length === 0) {
      throw new ConfigError('(catalog)', `${id}.import.fixtures`, `benchmark "${id}" has no fixture files`);
    }
    return { id, spec, files, importer: getImporter(spec.format) };
  });
  const out: Record<string, DatasetManifest> = {};
  for (const p of plans) {
    const r = await importFiles({
      importer: p.importer,
      files: p.files,
      store,
      catalog,
      benchmark: p.id,
      ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      source: `fixtures:${p.spec.format}`,
    });
    const m = r.datasets[0];
    if (m) out[p.id] = m;
  }
  return out;
}
