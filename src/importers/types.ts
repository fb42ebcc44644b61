import type { Benchmark, BenchmarkCatalog, ColumnMapping } from '../core/benchmarks.ts';
import type { Item } from '../core/items.ts';
import type { DataStore } from '../data/store.ts';

/** Limits on one image; an image over either is a bad row. */
export interface ImageLimits {
  /** Encoded size in bytes. Default 50 MB. */
  maxBytes: number;
  /** Width × height. Default 100 megapixels. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPixels: 100_000_000,
});

/**
 * What is wrong with one row. `field` names the column (a dotted path for nested fields)
 * when the problem is in one; the import driver adds the file and row.
 */
export class RowError extends Error {
  readonly field: string | null;
  constructor(field: string | null, message: string) {
    super(message);
    this.name = 'RowError';
    this.field = field;
  }
}

/** Everything an importer needs to read one file. */
export interface ReadContext {
  /** The file as the user named it (used in messages). */
  file: string;
  /** Its absolute path. */
  path: string;
  store: DataStore;
  catalog: BenchmarkCatalog;
  /** `--benchmark`, when given. Formats without a benchmark column require it. */
  benchmark: Benchmark | null;
  /** Mapping fields given with `--mapping`; they override the benchmark's default mapping. */
  mapping: ColumnMapping | null;
  limits: ImageLimits;
}

/** One converted row: the item, and the field its id came from (for duplicate-id messages). */
export interface ConvertedRow {
  item: Item;
  idField: string | null;
}

/** A row of a source file, converted on demand so a bad row costs nothing to skip. */
export interface SourceRow {
  /** 1-based data row (JSONL: the line number). */
  row: number;
  /** Throws a RowError when the row is bad. */
  convert(): Promise<ConvertedRow>;
}

/** An importer: the definition object `src/importers/index.ts` collects. */
export interface ImporterDefinition {
  /** The id given to `--format`. */
  id: string;
  description: string;
  /** File name endings it reads (`.parquet`, `.jsonl`, …). */
  fileKinds: readonly string[];
  /** True when rows name their benchmark (verl `data_source`), so `--benchmark` is optional. */
  benchmarkFromRows: boolean;
  /**
   * Opens one file and lists its rows. Throws a ConfigError naming the file when the file
   * cannot be read at all (not a parquet file, no header, a missing column).
   */
  open(ctx: ReadContext): Promise<Iterable<SourceRow>>;
}
