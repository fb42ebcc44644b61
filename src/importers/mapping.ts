import { basename, extname } from 'node:path';
import type { Benchmark, ColumnMapping, ExtraField, ExtraType } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import { type AnswerType, type ImageRef, Item } from '../core/items.ts';
import { cellImages, type ImageContext, type ImageEncoding } from './images.ts';
import { splitInlineOptions } from './inline-options.ts';
import { parseListLiteral } from './literal.ts';
import { RowError } from './types.ts';

/**
 * The column mapping of the `hf` and `vlmeval-tsv` importers: a mapping from
 * benchmarks/catalog.yaml (or `--mapping`) with the format's defaults filled in, and the
 * conversion of one source row into a canonical Item.
 */

export type AnswerFormat = NonNullable<ColumnMapping['answerFormat']>;

export interface ResolvedMapping {
  id: string | null;
  idTemplate: string;
  question: string;
  stripImageTokens: boolean;
  images: string[];
  /** The image columns are the format's default, not the mapping's (see `withoutAbsentImages`). */
  imagesDefaulted: boolean;
  /** Encoding of image strings, per image column. */
  imageEncoding: (column: string) => ImageEncoding;
  imageDir: string | null;
  options: string | string[] | null;
  answer: string;
  answerFormat: AnswerFormat;
  answerType: AnswerType | null;
  extra: Array<{ key: string; column: string; type: ExtraType }>;
  optionsInQuestion: boolean;
  extraValues: Record<string, string | number | boolean>;
  fileExtra: Record<string, Record<string, string>>;
  otherColumns: 'extra' | 'ignore';
}

const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
/** VLMEvalKit's option columns. */
export const OPTION_LETTERS: readonly string[] = LETTERS;

/**
 * The mapping an import uses: the benchmark's default mapping when the import uses the
 * benchmark's default format, with `--mapping` fields on top.
 */
export function mergeMapping(
  importerId: string,
  benchmark: Benchmark | null,
  override: ColumnMapping | null,
): ColumnMapping {
  const spec = benchmark?.import;
  const base = spec?.format === importerId ? spec.mapping : (spec?.alternates?.[importerId] ?? {});
  return { ...base, ...(override ?? {}) };
}

const TEMPLATE_PART = /\{([a-z]+)(?::(\d+))?\}/g;
const TEMPLATE_KEYS = new Set(['value', 'row', 'benchmark', 'file']);

function checkTemplate(template: string, hasIdColumn: boolean, source: string): void {
  for (const m of template.matchAll(TEMPLATE_PART)) {
    const key = m[1] as string;
    if (!TEMPLATE_KEYS.has(key)) {
      throw new ConfigError(source, 'idTemplate', `unknown placeholder {${key}} in "${template}"`, {
        hint: 'use {value}, {row}, {benchmark} or {file}; {value:4} and {row:4} zero-pad to 4 digits',
      });
    }
    if (key === 'value' && !hasIdColumn) {
      throw new ConfigError(source, 'idTemplate', `"${template}" uses {value} but no id column is set`);
    }
  }
}

/** Fills the format's defaults into a mapping. */
export function resolveMapping(
  m: ColumnMapping,
  defaults: {
    id?: string | null;
    images: string[];
    options?: string | string[] | null;
    imageEncoding: (column: string) => ImageEncoding;
    otherColumns: 'extra' | 'ignore';
  },
  source = '(mapping)',
): ResolvedMapping {
  const id = m.id ?? defaults.id ?? null;
  const idTemplate = m.idTemplate ?? (id ? '{value}' : '{file}-{row}');
  checkTemplate(idTemplate, id !== null, source);
  const extra = Object.entries(m.extra ?? {}).map(([key, f]: [string, ExtraField]) =>
    typeof f === 'string'
      ? { key, column: f, type: 'auto' as const }
      : { key, column: f.column, type: f.type },
  );
  const encoding = m.imageEncoding;
  return {
    id,
    idTemplate,
    question: m.question ?? 'question',
    stripImageTokens: m.stripImageTokens ?? true,
    images: m.images ?? defaults.images,
    imagesDefaulted: m.images === undefined,
    imageEncoding: encoding ? () => encoding : defaults.imageEncoding,
    imageDir: m.imageDir ?? null,
    options: m.options ?? defaults.options ?? null,
    answer: m.answer ?? 'answer',
    answerFormat: m.answerFormat ?? 'auto',
    answerType: m.answerType ?? null,
    extra,
    optionsInQuestion: m.optionsInQuestion ?? false,
    extraValues: m.extraValues ?? {},
    fileExtra: m.fileExtra ?? {},
    otherColumns: m.otherColumns ?? defaults.otherColumns,
  };
}

/**
 * A text-only file: when the mapping does not name image columns and the file has none of the
 * format's default image columns, its items have no images (no `images: []` needed).
 */
export function withoutAbsentImages(m: ResolvedMapping, columns: ReadonlySet<string>): ResolvedMapping {
  if (!m.imagesDefaulted || m.images.some((c) => hasColumn(columns, c))) return m;
  return { ...m, images: [] };
}

/** Where a mapping came from, for error messages. */
export function mappingSource(benchmark: Benchmark | null, override: ColumnMapping | null): string {
  if (override) return '--mapping';
  return benchmark?.import?.mappingFile ?? '(mapping)';
}

/** Top-level columns a mapping reads (the first segment of dotted paths). */
export function usedColumns(m: ResolvedMapping): Set<string> {
  const cols = [m.question, m.answer, ...m.images, ...m.extra.map((e) => e.column)];
  if (m.id) cols.push(m.id);
  if (typeof m.options === 'string') cols.push(m.options);
  else if (m.options) cols.push(...m.options);
  return new Set(cols);
}

/** Required columns of a mapping, for a file-level check against a header or schema. */
export function requiredColumns(m: ResolvedMapping): string[] {
  const cols = [m.question, m.answer];
  if (m.id) cols.push(m.id);
  if (m.images[0]) cols.push(m.images[0]);
  if (typeof m.options === 'string') cols.push(m.options);
  return cols;
}

/** Whether `columns` (a header or a parquet schema) has a column, a dotted path counting by its first part. */
export function hasColumn(columns: ReadonlySet<string>, path: string): boolean {
  return columns.has(path) || columns.has(path.split('.')[0] as string);
}

/** A value by column name, or by a dotted path into nested objects. */
export function getPath(row: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(row, path)) return row[path];
  let cur: unknown = row;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (typeof v === 'number' && Number.isNaN(v));
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return 'binary data';
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** A scalar as text; numbers and BigInts as their decimal form. */
export function scalarText(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  throw new RowError(field, `expected text, got ${describe(v)}`);
}

/** A value made JSON-safe: BigInts become numbers (or text when too large); binary is refused. */
export function jsonSafe(v: unknown, field: string): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Uint8Array) throw new RowError(field, 'binary data cannot go into extra');
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, field));
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, jsonSafe(x, field)]),
    );
  }
  return v;
}

function toNumber(v: unknown, field: string, integer: boolean): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'string' && v.trim() !== '') n = Number(v.trim());
  else throw new RowError(field, `expected ${integer ? 'an integer' : 'a number'}, got ${describe(v)}`);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new RowError(field, `expected ${integer ? 'an integer' : 'a number'}, got "${String(v)}"`);
  }
  return n;
}

/** A list cell: a real list, or a list written as text (Python or JSON), or one value. */
export function toList(v: unknown, field: string): string[] {
  if (Array.isArray(v)) return v.map((x) => scalarText(x, field));
  const text = scalarText(v, field).trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      return parseListLiteral(text);
    } catch (err) {
      throw new RowError(field, `list cannot be read (${(err as Error).message}): ${text.slice(0, 60)}`);
    }
  }
  return [text];
}

/** Converts a value for `extra` to the declared type. */
export function convertExtra(v: unknown, type: ExtraType, field: string): unknown {
  switch (type) {
    case 'auto':
      return jsonSafe(v, field);
    case 'string':
      return scalarText(v, field);
    case 'number':
      return toNumber(v, field, false);
    case 'integer':
      return toNumber(v, field, true);
    case 'boolean': {
      if (typeof v === 'boolean') return v;
      const t = String(v).trim().toLowerCase();
      if (['true', '1', 'yes'].includes(t)) return true;
      if (['false', '0', 'no'].includes(t)) return false;
      throw new RowError(field, `expected a boolean, got "${String(v)}"`);
    }
    case 'list':
      return toList(v, field);
    case 'json':
      if (typeof v !== 'string') return jsonSafe(v, field);
      try {
        return JSON.parse(v);
      } catch (err) {
        throw new RowError(field, `not valid JSON (${(err as Error).message})`);
      }
  }
}

function fillTemplate(template: string, parts: Record<string, string>): string {
  return template.replace(TEMPLATE_PART, (_m, key: string, width?: string) => {
    const v = parts[key] ?? '';
    return width && /^\d+$/.test(v) ? v.padStart(Number(width), '0') : v;
  });
}

/** Removes the `<image>` placeholders multimodal chat formats put in the question text. */
export function stripImageTokens(text: string): string {
  return text.replace(/<image>\s*/g, '').trim();
}

/** Reads an item id (used by importers that do not go through `convertRow`). */
export function itemId(
  template: string,
  parts: { value?: string; row: number; benchmark: string; file: string },
): string {
  return fillTemplate(template, {
    value: parts.value ?? '',
    row: String(parts.row),
    benchmark: parts.benchmark,
    file: basename(parts.file, extname(parts.file)),
  });
}

export interface RowContext {
  mapping: ResolvedMapping;
  benchmark: Benchmark;
  file: string;
  /** Image context per column (encodings differ: `image` is base64, `image_path` a path). */
  images: (column: string) => ImageContext;
  /** Columns of the file (TSV header, parquet schema), for `otherColumns`; else the row's keys. */
  columns?: readonly string[];
}

function readOptions(
  row: Record<string, unknown>,
  m: ResolvedMapping,
): Array<{ label: string; text: string }> {
  if (m.options === null) return [];
  if (typeof m.options === 'string') {
    const v = getPath(row, m.options);
    if (isEmpty(v)) return [];
    const texts = toList(v, m.options);
    if (texts.length > LETTERS.length) {
      throw new RowError(m.options, `has ${texts.length} options; at most ${LETTERS.length} are supported`);
    }
    return texts.map((text, i) => ({ label: LETTERS[i] as string, text }));
  }
  const out: Array<{ label: string; text: string }> = [];
  for (const col of m.options) {
    const v = getPath(row, col);
    if (isEmpty(v)) continue;
    out.push({ label: col, text: scalarText(v, col) });
  }
  return out;
}

function readAnswers(
  row: Record<string, unknown>,
  m: ResolvedMapping,
  options: Array<{ label: string; text: string }>,
): string[] {
  const field = m.answer;
  const v = getPath(row, field);
  if (isEmpty(v) || (Array.isArray(v) && v.length === 0)) throw new RowError(field, 'answer is missing');
  const labels = options.map((o) => o.label).join(', ');
  const byLabel = (text: string) => options.find((o) => o.label.toLowerCase() === text.trim().toLowerCase());
  const byText = (text: string) => options.find((o) => o.text.trim() === text.trim());
  const needOptions = (what: string) => {
    if (options.length === 0) throw new RowError(field, `answer is ${what} but the row has no options`);
  };
  switch (m.answerFormat) {
    case 'label': {
      needOptions('an option label');
      const text = scalarText(v, field);
      const o = byLabel(text);
      if (!o) throw new RowError(field, `answer "${text}" is not an option label (${labels})`);
      return [o.label];
    }
    case 'text': {
      if (options.length === 0) return Array.isArray(v) ? toList(v, field) : [scalarText(v, field)];
      const text = scalarText(v, field);
      const o = byText(text);
      if (!o) throw new RowError(field, `answer "${text}" is not the text of any option`);
      return [o.label];
    }
    case 'index': {
      needOptions('an option index');
      const i = toNumber(v, field, true);
      const o = options[i];
      if (!o || i < 0) {
        throw new RowError(field, `answer index ${i} is out of range (0–${options.length - 1})`);
      }
      return [o.label];
    }
    case 'list': {
      const list = toList(v, field).filter((s) => s.trim() !== '');
      if (list.length === 0) throw new RowError(field, 'answer list is empty');
      return list;
    }
    case 'value':
      return Array.isArray(v) ? toList(v, field) : [scalarText(v, field)];
    case 'auto': {
      if (options.length === 0) return Array.isArray(v) ? toList(v, field) : [scalarText(v, field)];
      const text = scalarText(v, field);
      const o = byLabel(text) ?? byText(text);
      if (!o) {
        throw new RowError(
          field,
          `answer "${text}" is neither an option label (${labels}) nor an option's text`,
        );
      }
      return [o.label];
    }
  }
}

/** The `fileExtra` values of a file, from its name. */
export function fileExtra(m: ResolvedMapping, file: string): Record<string, string> {
  const name = basename(file).toLowerCase();
  const out: Record<string, string> = {};
  for (const [key, table] of Object.entries(m.fileExtra)) {
    const hit = Object.entries(table).find(([text]) => name.includes(text.toLowerCase()));
    if (!hit) {
      throw new ConfigError(
        file,
        'fileExtra',
        `the file name tells no ${key} (expected one of: ${Object.keys(table).join(', ')})`,
      );
    }
    out[key] = hit[1];
  }
  return out;
}

function defaultAnswerType(benchmark: Benchmark, hasOptions: boolean): AnswerType {
  if (hasOptions) return 'choice';
  return benchmark.answerType === 'choice' ? 'text' : benchmark.answerType;
}

/** Converts one source row into a canonical Item, storing its images. Throws RowError. */
export async function convertRow(
  row: Record<string, unknown>,
  rowNo: number,
  ctx: RowContext,
): Promise<{ item: Item; idField: string | null }> {
  const m = ctx.mapping;
  let value: string | undefined;
  if (m.id) {
    const v = getPath(row, m.id);
    if (isEmpty(v)) throw new RowError(m.id, 'item id is missing');
    value = scalarText(v, m.id).trim();
  }
  const id = itemId(m.idTemplate, { value, row: rowNo, benchmark: ctx.benchmark.id, file: ctx.file });

  const q = getPath(row, m.question);
  if (isEmpty(q)) throw new RowError(m.question, 'question is missing');
  const rawQuestion = scalarText(q, m.question);
  let question = m.stripImageTokens ? stripImageTokens(rawQuestion) : rawQuestion.trim();
  let options = readOptions(row, m);
  if (m.optionsInQuestion && options.length === 0) {
    const inline = splitInlineOptions(question);
    if (!inline) {
      throw new RowError(m.question, 'no options "(A) …" or "A. …" (A, B, … in order) in the question text');
    }
    question = inline.stem;
    options = inline.options;
  }
  if (!question) throw new RowError(m.question, 'question is empty');

  const images: ImageRef[] = [];
  for (const col of m.images) images.push(...(await cellImages(getPath(row, col), ctx.images(col), col)));
  if (m.images.length > 0 && images.length === 0) {
    throw new RowError(m.images[0] as string, 'the row has no image');
  }

  const answers = readAnswers(row, m, options);

  const extra: Record<string, unknown> = { ...m.extraValues, ...fileExtra(m, ctx.file) };
  for (const e of m.extra) {
    const v = getPath(row, e.column);
    if (isEmpty(v)) continue;
    extra[e.key] = convertExtra(v, e.type, e.column);
  }
  if (m.otherColumns === 'extra') {
    const used = usedColumns(m);
    for (const col of ctx.columns ?? Object.keys(row)) {
      if (used.has(col) || Object.hasOwn(extra, col)) continue;
      const v = row[col];
      if (isEmpty(v) || v instanceof Uint8Array) continue;
      extra[col] = jsonSafe(v, col);
    }
  }

  const parsed = Item.safeParse({
    id,
    benchmark: ctx.benchmark.id,
    question,
    images,
    ...(options.length > 0 ? { options } : {}),
    answers,
    answerType: m.answerType ?? defaultAnswerType(ctx.benchmark, options.length > 0),
    extra,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RowError(issue?.path.join('.') || null, issue?.message ?? 'not a valid item');
  }
  return { item: parsed.data, idField: m.id };
}
