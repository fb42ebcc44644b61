import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from './errors.ts';
import { AnswerType } from './items.ts';
import { parseWith, readYamlFile } from './yaml-file.ts';

/**
 * Benchmark definitions are data: `benchmarks/catalog.yaml` lists every benchmark (metric,
 * answer type, where its public release comes from and how to import it), and suite files
 * (`benchmarks/suites/*.yaml`) pick the in-domain and out-of-domain ones. Adding a benchmark
 * or a suite needs no code as long as its metric and file format already exist.
 */

/** A column of a source row; a dotted path (`metadata.context`) reads inside struct/object columns. */
const Column = z.string().min(1);

/** How a value read for `extra` is converted. `auto` keeps the source type (TSV cells are strings). */
export const ExtraType = z.enum(['auto', 'string', 'number', 'integer', 'boolean', 'list', 'json']);
export type ExtraType = z.infer<typeof ExtraType>;

export const ExtraField = z.union([
  Column,
  z.strictObject({ column: Column, type: ExtraType.default('auto') }),
]);
export type ExtraField = z.infer<typeof ExtraField>;

/**
 * How the columns of a source file become a canonical Item. Every field is optional: each
 * importer fills its format's defaults (see docs/benchmarks.md).
 */
export const ColumnMapping = z.strictObject({
  /** Column holding the item id. */
  id: Column.optional(),
  /**
   * Item id template: `{value}` (the id column; `{value:4}` zero-pads an integer to 4 digits),
   * `{row}` / `{row:4}` (1-based row of the file), `{benchmark}`, `{file}` (file name without
   * extension). Default `{value}` with an id column, else `{file}-{row}`.
   */
  idTemplate: z.string().min(1).optional(),
  /** Column with the question text. Default `question`. */
  question: Column.optional(),
  /** Remove `<image>` placeholders from the question. Default true. */
  stripImageTokens: z.boolean().optional(),
  /**
   * Image columns, in order. A cell holds one image or a list of them; an image is bytes,
   * `{bytes, path}` (Hugging Face Image), base64 text, a `data:` URL or a relative path.
   */
  images: z.array(Column).optional(),
  /** How image strings are read: `auto` (base64 when it looks like it, else a path), `base64`, `path`. */
  imageEncoding: z.enum(['auto', 'base64', 'path']).optional(),
  /** Folder, relative to the data file's folder, that relative image paths start from. */
  imageDir: z.string().optional(),
  /** Options: one list column, or one column per option (labelled by the column name, e.g. A…H). */
  options: z.union([Column, z.array(Column).min(1)]).optional(),
  /** Column with the answer. Default `answer`. */
  answer: Column.optional(),
  /**
   * How the answer cell reads: `label` (an option letter), `text` (an option's text; the
   * answer itself on rows without options, as in MathVista's free-form items), `index`
   * (0-based option index), `list` (all accepted answers: a list, or a list written as text),
   * `value` (one answer), `auto` (label or option text when there are options, else value).
   */
  answerFormat: z.enum(['auto', 'label', 'text', 'index', 'list', 'value']).optional(),
  /** Answer type of the items. Default: `choice` when an item has options, else the benchmark's. */
  answerType: AnswerType.optional(),
  /** `extra` fields of the item: key → column (or `{column, type}`), in this order. */
  extra: z.record(z.string(), ExtraField).optional(),
  /**
   * The options are written inside the question text, as V* and ERQA ship them: lines
   * `(A) text` / `A. text`, or inline after `Choices:` (`Choices: A. x B. y`). The question
   * keeps the text before the first option; an instruction after the last option (a new
   * line, or a sentence such as ". Please answer …") is dropped.
   */
  optionsInQuestion: z.boolean().optional(),
  /** Fixed `extra` values every item gets (e.g. HumanEval-V's entry point `solution`). */
  extraValues: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /**
   * `extra` values read from the file name: key → { text in the file name → value }; the
   * first entry whose text occurs in the name (case-insensitive) applies, e.g.
   * `{ question_type: { descriptive: descriptive, reasoning: reasoning } }` for CharXiv's
   * two TSVs. A file that matches none is an error.
   */
  fileExtra: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /** Columns not used above: copied into `extra` as they are, or ignored. */
  otherColumns: z.enum(['extra', 'ignore']).optional(),
  /**
   * Only items whose `extra` fields hold one of the listed values are imported (compared as
   * text), e.g. `{ q_lang: [en] }`; other rows are left out and counted as filtered. `{}`
   * keeps every row (use it in `--mapping` to lift a default filter).
   */
  keep: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).optional(),
});
export type ColumnMapping = z.infer<typeof ColumnMapping>;

/** How a benchmark is imported, as written in the catalog (`mapping` may name a YAML file). */
const ImportEntry = z.strictObject({
  /** Importer id (src/importers): `verl-parquet`, `hf` or `vlmeval-tsv`. */
  format: z.string().min(1),
  /** How the public release is distributed, for people reading the catalog. */
  distribution: z.string().min(1),
  /** The column mapping, inline or a YAML file relative to the catalog. */
  mapping: z.union([z.string().min(1), ColumnMapping]).optional(),
  /** Shipped fixture files in this format, relative to the catalog. */
  fixtures: z.array(z.string().min(1)).optional(),
  /**
   * Mappings for other formats the benchmark is also distributed in (format id → mapping,
   * inline or a YAML file), used when `--format` names that format.
   */
  alternates: z.record(z.string(), z.union([z.string().min(1), ColumnMapping])).optional(),
});

/** The resolved import definition of a benchmark. */
export interface ImportSpec {
  format: string;
  distribution: string;
  mapping: ColumnMapping;
  /** Where the mapping came from (the catalog, or a mapping file). */
  mappingFile: string;
  /** Absolute paths of the shipped fixture files. */
  fixtures: string[];
  /** Mappings for other formats (format id → mapping). */
  alternates?: Record<string, ColumnMapping>;
}

/**
 * The scorer people cite for a benchmark: what `official` scoring mode re-implements.
 * `name` is the id of the implementation in src/scoring/official, `source` the upstream
 * repository and file, `rule` the rule in one sentence.
 */
export const ScorerOfRecord = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, "_" or "-"'),
  source: z.string().regex(/^[\w.-]+\/[\w.-]+ \S+/, '"owner/repository path/to/file" (then anything)'),
  rule: z.string().min(10),
});
export type ScorerOfRecord = z.infer<typeof ScorerOfRecord>;

/**
 * How a benchmark's sub-scores are published (`subscores:` in the catalog): the item's
 * `extra` field that names each item's group, and how the groups make the headline.
 * - `headline: overall`: accuracy over all items (with `meanOver`, over each value of that
 *   field first, then their plain mean: HR-Bench's cycles); the groups are shown beside it.
 * - `headline: mean`: the unweighted mean of the groups' accuracies (VLMs Are Blind's task mean).
 * - `headline: sum`: right answers as points out of `outOf` (OCRBench's score out of 1,000),
 *   scaled to `outOf` when a run has another number of items.
 * Values are compared as text (`true` for a boolean field), case-insensitively when listed in
 * `merge`, which folds several values into one group; `groups` gives the published order.
 */
export const SubscoreSpec = z
  .strictObject({
    field: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an extra field name (letters, digits, "_", "-", ".")'),
    groups: z.array(z.string().min(1)).optional(),
    merge: z
      .record(z.string().min(1), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1))
      .optional(),
    meanOver: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'an extra field name')
      .optional(),
    headline: z.enum(['overall', 'mean', 'sum']),
    outOf: z.number().int().positive().optional(),
  })
  .refine((s) => s.headline !== 'sum' || s.outOf !== undefined, {
    message: '`headline: sum` needs `outOf` (the points of the full benchmark)',
    path: ['outOf'],
  });
export type SubscoreSpec = z.infer<typeof SubscoreSpec>;

const BenchmarkFields = {
  id: z.string().regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, "_" or "-"'),
  name: z.string(),
  group: z.enum(['in-domain', 'out-of-domain']),
  /** Domain used by routers, simulators and reports (chart, math, counting, …). */
  domain: z.string(),
  source: z.string(),
  split: z.string(),
  answerType: AnswerType,
  /** Metric id implemented in src/scoring/metrics (the `lenient` scoring mode). */
  metric: z.string(),
  /** The scorer of record (the `official` scoring mode); without one, official mode scores leniently. */
  scorer: ScorerOfRecord.optional(),
  /** The sub-scores papers publish (groups of items by an `extra` field) and the headline they make. */
  subscores: SubscoreSpec.optional(),
};

export const Benchmark = z.object({
  ...BenchmarkFields,
  /** The default importer and its column mapping; absent for benchmarks imported with an explicit mapping. */
  import: z.custom<ImportSpec>().optional(),
});
export type Benchmark = z.infer<typeof Benchmark>;

const BenchmarkEntry = z.object({ ...BenchmarkFields, import: ImportEntry.optional() });

export const Catalog = z.object({ benchmarks: z.array(BenchmarkEntry).min(1) });

export const Suite = z.object({
  name: z.string(),
  inDomain: z.array(z.string()),
  outOfDomain: z.array(z.string()),
});
export type Suite = z.infer<typeof Suite>;

/**
 * A benchmark's definition as a sweep stores it (Redis sweep meta and sweep.json): what
 * workers need to route and score its items, and how it was imported, with no catalog file.
 */
export const BenchmarkDef = z.object({
  ...BenchmarkFields,
  import: z.object({ format: z.string(), mapping: ColumnMapping }).optional(),
});
export type BenchmarkDef = z.infer<typeof BenchmarkDef>;

/** The definition a sweep stores for a catalog benchmark. */
export function benchmarkDef(b: Benchmark): BenchmarkDef {
  const { import: imp, ...rest } = b;
  return imp ? { ...rest, import: { format: imp.format, mapping: imp.mapping } } : rest;
}

/** A catalog of the definitions a sweep stored. */
export function catalogFromDefs(defs: BenchmarkDef[], source = '(sweep)'): BenchmarkCatalog {
  return new BenchmarkCatalog(
    defs.map(({ import: imp, ...rest }) =>
      imp
        ? {
            ...rest,
            import: { ...imp, distribution: source, mappingFile: source, fixtures: [] },
          }
        : rest,
    ),
  );
}

export class BenchmarkCatalog {
  readonly benchmarks: Benchmark[];
  constructor(benchmarks: Benchmark[]) {
    this.benchmarks = benchmarks;
  }
  find(id: string): Benchmark | undefined {
    return this.benchmarks.find((b) => b.id === id);
  }
  get(id: string): Benchmark {
    const b = this.find(id);
    if (!b) {
      throw new NotFoundError(`unknown benchmark "${id}"`, {
        hint: `known benchmarks: ${this.benchmarks.map((x) => x.id).join(', ')}`,
      });
    }
    return b;
  }
}

/** Reads a mapping file: a bare mapping, or a document with a `mapping:` key. */
export function loadMappingFile(file: string): ColumnMapping {
  const doc = readYamlFile(file);
  const body =
    doc && typeof doc === 'object' && !Array.isArray(doc) && 'mapping' in doc
      ? (doc as { mapping: unknown }).mapping
      : doc;
  return parseWith(ColumnMapping, body ?? {}, file);
}

function readMapping(
  m: string | ColumnMapping | undefined,
  file: string,
  field: string,
): { mapping: ColumnMapping; mappingFile: string } {
  if (typeof m !== 'string') return { mapping: m ?? {}, mappingFile: file };
  const mappingFile = resolve(dirname(file), m);
  if (!existsSync(mappingFile)) throw new ConfigError(file, field, `no such file ${mappingFile}`);
  return { mapping: loadMappingFile(mappingFile), mappingFile };
}

function resolveImport(entry: z.infer<typeof ImportEntry>, file: string, index: number): ImportSpec {
  const base = dirname(file);
  const { mapping, mappingFile } = readMapping(entry.mapping, file, `benchmarks[${index}].import.mapping`);
  const fixtures = (entry.fixtures ?? []).map((f) => resolve(base, f));
  const spec: ImportSpec = {
    format: entry.format,
    distribution: entry.distribution,
    mapping,
    mappingFile,
    fixtures,
  };
  if (entry.alternates) {
    spec.alternates = Object.fromEntries(
      Object.entries(entry.alternates).map(([format, m]) => [
        format,
        readMapping(m, file, `benchmarks[${index}].import.alternates.${format}`).mapping,
      ]),
    );
  }
  return spec;
}

/** Catalogs read by this process, by path, with the file's size and time they were read at. */
const catalogs = new Map<string, { mtimeMs: number; size: number; catalog: BenchmarkCatalog }>();

/**
 * Reads a benchmark catalog (a YAML file), once per process while the file is unchanged: a
 * command that plans a sweep and then writes its report reads it twice.
 */
export function loadCatalog(file: string): BenchmarkCatalog {
  const path = resolve(file);
  let stat: { mtimeMs: number; size: number } | undefined;
  try {
    stat = statSync(path);
  } catch {
    stat = undefined; // readYamlFile says what is wrong with the path
  }
  const hit = catalogs.get(path);
  if (stat && hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.catalog;
  const catalog = readCatalog(file);
  if (stat) catalogs.set(path, { mtimeMs: stat.mtimeMs, size: stat.size, catalog });
  return catalog;
}

function readCatalog(file: string): BenchmarkCatalog {
  const entries = parseWith(Catalog, readYamlFile(file), file).benchmarks;
  const seen = new Set<string>();
  const benchmarks = entries.map((entry, i): Benchmark => {
    if (seen.has(entry.id)) throw new ConfigError(file, `benchmarks[${i}].id`, `duplicate id "${entry.id}"`);
    seen.add(entry.id);
    const { import: imp, ...rest } = entry;
    return imp ? { ...rest, import: resolveImport(imp, file, i) } : rest;
  });
  return new BenchmarkCatalog(benchmarks);
}

export function loadSuite(file: string, catalog: BenchmarkCatalog): Suite {
  const suite = parseWith(Suite, readYamlFile(file), file);
  const groups = [
    ['inDomain', suite.inDomain],
    ['outOfDomain', suite.outOfDomain],
  ] as const;
  for (const [key, ids] of groups) {
    ids.forEach((id, i) => {
      if (!catalog.find(id)) {
        throw new ConfigError(file, `${key}[${i}]`, `unknown benchmark "${id}"`, {
          hint: `known benchmarks: ${catalog.benchmarks.map((b) => b.id).join(', ')}`,
        });
      }
    });
  }
  return suite;
}
