import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { BenchmarkCatalog, ColumnMapping } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import type { Item } from '../core/items.ts';
import type { DataStore, DatasetManifest } from '../data/store.ts';
import { mergeMapping } from './mapping.ts';
import {
  DEFAULT_IMAGE_LIMITS,
  type ImageLimits,
  type ImporterDefinition,
  type ReadContext,
  RowError,
} from './types.ts';

/**
 * The import driver: reads every row of every file with one importer, converts rows to
 * Items (images stored by hash as they come), reports bad rows with file, row and field,
 * refuses duplicate item ids naming both rows, and writes each benchmark's dataset once at
 * the end with DataStore.writeDataset (atomic). A failed import therefore never leaves a
 * half-written dataset; at most some content-addressed images nothing refers to.
 */

export interface RowProblem {
  file: string;
  row: number;
  field: string | null;
  reason: string;
  /** `<file> at row <n>, field "<field>": <reason>`. */
  message: string;
}

export interface ImportProgress {
  file: string;
  /** Rows read so far over all files. */
  rows: number;
  items: number;
  skipped: number;
}

export interface ImportOptions {
  importer: ImporterDefinition;
  /** Files in the importer's format, read in order. */
  files: string[];
  store: DataStore;
  catalog: BenchmarkCatalog;
  /** Benchmark id for every item. Required unless the format names it per row (verl). */
  benchmark?: string;
  /** Mapping fields overriding the benchmark's default mapping (`--mapping`). */
  mapping?: ColumnMapping | null;
  /** What a bad row does: stop the import (`fail`, the default) or be reported and left out. */
  onError?: 'skip' | 'fail';
  /** At most this many items per benchmark (the first ones). */
  limit?: number;
  /** Image limits. Default 50 MB and 100 megapixels. */
  limits?: Partial<ImageLimits>;
  /** The dataset manifest's `source`. Default `<format>:<file names>`. */
  source?: string;
  /** Called every `progressEvery` rows (default 1000) and once at the end. */
  onProgress?: (p: ImportProgress) => void;
  progressEvery?: number;
  /** Called for each skipped row (with `onError: 'skip'`). */
  onSkip?: (p: RowProblem) => void;
}

export interface ImportResult {
  /** One manifest per benchmark written. */
  datasets: DatasetManifest[];
  rows: number;
  items: number;
  skipped: RowProblem[];
  /** Rows left out by the mapping's `keep` filter (not errors). */
  filtered: number;
}

function problem(file: string, row: number, field: string | null, reason: string): RowProblem {
  const where = `row ${row}${field ? `, field "${field}"` : ''}`;
  return { file, row, field, reason, message: `${file} at ${where}: ${reason}` };
}

function toError(p: RowProblem, cause?: unknown): ConfigError {
  return new ConfigError(p.file, `row ${p.row}${p.field ? `, field "${p.field}"` : ''}`, p.reason, {
    hint: 'fix the row, or pass --on-error skip to leave bad rows out',
    ...(cause === undefined ? {} : { cause }),
  });
}

export async function importFiles(opts: ImportOptions): Promise<ImportResult> {
  const { importer, store, catalog } = opts;
  const onError = opts.onError ?? 'fail';
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...(opts.limits ?? {}) };
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const every = opts.progressEvery ?? 1000;
  if (opts.files.length === 0) throw new ConfigError('(import)', 'files', 'no input files given');
  const fixed = opts.benchmark ? catalog.get(opts.benchmark) : null;
  if (!fixed && !importer.benchmarkFromRows) {
    throw new ConfigError('(import)', '--benchmark', `the ${importer.id} format needs --benchmark <id>`);
  }
  for (const file of opts.files) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new ConfigError(file, '', 'no such file');
    const lower = file.toLowerCase();
    if (!importer.fileKinds.some((k) => lower.endsWith(k))) {
      throw new ConfigError(
        file,
        '',
        `the ${importer.id} format reads ${importer.fileKinds.join(', ')} files`,
        { hint: 'pick the --format that matches the file' },
      );
    }
  }

  const keep = fixed ? (mergeMapping(importer.id, fixed, opts.mapping ?? null).keep ?? {}) : {};
  let filtered = 0;
  const items = new Map<string, Item[]>();
  const firstSeen = new Map<string, { file: string; row: number }>();
  const skipped: RowProblem[] = [];
  let rows = 0;
  let count = 0;
  let reported = -1;
  const progress = (file: string) => {
    if (rows === reported) return;
    reported = rows;
    opts.onProgress?.({ file, rows, items: count, skipped: skipped.length });
  };

  files: for (const file of opts.files) {
    const ctx: ReadContext = {
      file,
      path: resolve(file),
      store,
      catalog,
      benchmark: fixed,
      mapping: opts.mapping ?? null,
      limits,
    };
    for (const source of await importer.open(ctx)) {
      if (fixed && (items.get(fixed.id)?.length ?? 0) >= limit) break files;
      rows++;
      try {
        const { item, idField } = await source.convert();
        if (!kept(item, keep)) {
          filtered++;
          continue;
        }
        const list = items.get(item.benchmark) ?? [];
        if (list.length < limit) {
          const key = JSON.stringify([item.benchmark, item.id]);
          const first = firstSeen.get(key);
          if (first) {
            throw new RowError(
              idField,
              `duplicate item id "${item.id}" (first at ${first.file} row ${first.row})`,
            );
          }
          firstSeen.set(key, { file, row: source.row });
          list.push(item);
          items.set(item.benchmark, list);
          count++;
        }
      } catch (err) {
        if (!(err instanceof RowError)) throw err;
        const p = problem(file, source.row, err.field, err.message);
        if (onError === 'fail') throw toError(p, err);
        skipped.push(p);
        opts.onSkip?.(p);
      }
      if (rows % every === 0) progress(file);
    }
  }
  progress(opts.files[opts.files.length - 1] as string);

  if (count === 0) {
    throw new ConfigError(
      opts.files.join(', '),
      '',
      `no item was imported${skipped.length ? ` (${skipped.length} bad row(s) skipped; the first: ${skipped[0]?.message})` : ''}`,
    );
  }
  const source = opts.source ?? `${importer.id}:${opts.files.map((f) => basename(f)).join(',')}`;
  const datasets: DatasetManifest[] = [];
  for (const [benchmark, list] of items) datasets.push(await store.writeDataset(benchmark, list, source));
  return { datasets, rows, items: count, skipped, filtered };
}

/** Whether an item passes a mapping's `keep` filter: each listed extra field holds a listed value. */
export function kept(item: Item, keep: NonNullable<ColumnMapping['keep']>): boolean {
  return Object.entries(keep).every(([field, values]) => {
    const v = item.extra[field];
    return v !== undefined && v !== null && values.some((x) => String(x) === String(v));
  });
}
