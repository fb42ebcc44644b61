import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type BenchmarkCatalog, loadCatalog, loadMappingFile } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import { DEFAULT_CATALOG } from '../core/paths.ts';
import { type DataStore, DatasetManifest } from '../data/store.ts';
import type { ImportResult } from '../importers/index.ts';
import { dataStore, type GlobalOptions, resolveEnv } from './context.ts';
import { positiveInt } from './options.ts';

/**
 * `maestro-eval data …`: import datasets from their release formats, list them, write
 * fixtures. Importers (sharp, parquet) load only when a command runs, so registering these
 * commands costs nothing to other commands such as `worker`.
 */

/** The `--format` ids (test/importers checks them against src/importers/index.ts). */
export const IMPORT_FORMATS = ['verl-parquet', 'hf', 'vlmeval-tsv'] as const;

const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export interface DataImportOptions {
  format?: string;
  benchmark?: string;
  mapping?: string;
  onError: 'skip' | 'fail';
  limit?: number;
  catalog?: string;
  maxImageMb?: number;
  maxImageMp?: number;
  /** Progress line every N rows when stderr is not a terminal. Default 1000. */
  progressEvery?: number;
}

/** Runs `data import`: the importer, with progress and skipped rows written to `err`. */
export async function runDataImport(
  store: DataStore,
  files: string[],
  o: DataImportOptions,
  io: { out: (line: string) => void; err: NodeJS.WritableStream & { isTTY?: boolean } } = {
    out: (l) => console.log(l),
    err: process.stderr,
  },
): Promise<ImportResult> {
  const { getImporter, importFiles } = await import('../importers/index.ts');
  const catalog: BenchmarkCatalog = loadCatalog(o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG);
  const benchmark = o.benchmark ? catalog.get(o.benchmark) : undefined;
  const format = o.format ?? benchmark?.import?.format;
  if (!format) {
    throw new ConfigError(
      '(data import)',
      '--format',
      'no format given and the benchmark has no default one',
      {
        hint: `pass --format ${IMPORT_FORMATS.join('|')}`,
      },
    );
  }
  const importer = getImporter(format);
  const tty = io.err.isTTY === true;
  const every = o.progressEvery ?? 1000;
  const result = await importFiles({
    importer,
    files,
    store,
    catalog,
    ...(o.benchmark ? { benchmark: o.benchmark } : {}),
    mapping: o.mapping ? loadMappingFile(resolve(o.mapping)) : null,
    onError: o.onError,
    ...(o.limit ? { limit: o.limit } : {}),
    limits: {
      ...(o.maxImageMb ? { maxBytes: Math.round(o.maxImageMb * 1024 * 1024) } : {}),
      ...(o.maxImageMp ? { maxPixels: Math.round(o.maxImageMp * 1e6) } : {}),
    },
    progressEvery: tty ? Math.max(1, Math.min(every, 100)) : every,
    onProgress: (p) => {
      const line = `${p.rows} rows read, ${p.items} items, ${p.skipped} skipped (${p.file})`;
      if (tty) io.err.write(`\r${line}`);
      else io.err.write(`${line}\n`);
    },
    onSkip: (p) => io.err.write(`${tty ? '\n' : ''}skipped: ${p.message}\n`),
  });
  if (tty) io.err.write('\n');
  for (const m of result.datasets) {
    io.out(
      `imported ${m.count} items into ${m.benchmark} (version ${m.version.slice(0, 12)}) in ${store.root}`,
    );
  }
  if (result.skipped.length > 0) io.out(`${result.skipped.length} bad row(s) skipped (listed above)`);
  if (result.filtered > 0) io.out(`${result.filtered} row(s) left out by the mapping's keep filter`);
  return result;
}

/** The datasets in a data directory, by benchmark id. */
export function listDatasets(store: DataStore): DatasetManifest[] {
  const dir = join(store.root, 'datasets');
  if (!existsSync(dir)) return [];
  const out: DatasetManifest[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'manifest.json');
    if (!existsSync(file)) continue;
    const parsed = DatasetManifest.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

export function datasetsTable(manifests: DatasetManifest[]): string {
  const rows = manifests.map((m) => [
    m.benchmark,
    String(m.count),
    m.version.slice(0, 12),
    m.createdAt,
    m.source,
  ]);
  const header = ['benchmark', 'items', 'version', 'created', 'source'];
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(width[i] ?? 0) : c.padEnd(width[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Registers `data import`, `data list` and `data fixtures` (see src/cli/commands.ts). */
export function register(program: Command, { globals }: { globals: () => GlobalOptions }): void {
  const data = program.command('data').description('datasets in the data directory');

  data
    .command('import')
    .description('import benchmark files in their release format into the data directory')
    .argument('<files...>', 'files to import (read in order)')
    .addOption(
      new Option('--format <format>', "importer (default: the benchmark's format in the catalog)").choices(
        IMPORT_FORMATS,
      ),
    )
    .option('--benchmark <id>', 'benchmark of the items (verl-parquet: default its data_source column)')
    .option('--mapping <file>', "YAML column mapping overriding the benchmark's default mapping")
    .addOption(
      new Option('--on-error <mode>', 'bad rows stop the import or are left out')
        .choices(['skip', 'fail'])
        .default('fail'),
    )
    .option('--limit <n>', 'only the first N items per benchmark', positiveInt)
    .option('--catalog <file>', 'benchmark catalog (default benchmarks/catalog.yaml)')
    .option('--max-image-mb <n>', 'largest image accepted, in MB (default 50)', positiveNumber)
    .option('--max-image-mp <n>', 'largest image accepted, in megapixels (default 100)', positiveNumber)
    .option('--progress-every <n>', 'progress line every N rows (default 1000)', positiveInt)
    .action(async (files: string[], o: DataImportOptions) => {
      await runDataImport(dataStore(resolveEnv(globals())), files, o);
    });

  data
    .command('list')
    .description('datasets in the data directory, with item counts and versions')
    .action(() => {
      const store = dataStore(resolveEnv(globals()));
      const manifests = listDatasets(store);
      if (manifests.length === 0) {
        console.log(`no datasets in ${store.root} (run \`maestro-eval data import\` or \`data fixtures\`)`);
        return;
      }
      console.log(datasetsTable(manifests));
    });

  data
    .command('fixtures')
    .description('generate the fixture datasets of the 14 benchmarks')
    .option('--items <n>', 'items per benchmark', positiveInt, 4)
    .action(async (o: { items: number }) => {
      const { generateFixtures } = await import('../../benchmarks/fixtures/generate.ts');
      const env = resolveEnv(globals());
      const manifests = await generateFixtures(dataStore(env), { perBenchmark: o.items });
      for (const m of Object.values(manifests))
        console.log(`${m.benchmark.padEnd(14)} ${m.count} items  version ${m.version.slice(0, 12)}`);
    });
}
