import { readFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { DataStore } from '../data/store.ts';
import type { ImageContext } from './images.ts';
import {
  convertRow,
  hasColumn,
  mappingSource,
  mergeMapping,
  requiredColumns,
  resolveMapping,
  withoutAbsentImages,
} from './mapping.ts';
import { readParquet } from './parquet.ts';
import { type ImporterDefinition, type ReadContext, RowError, type SourceRow } from './types.ts';

/**
 * Hugging Face dataset snapshots as downloaded from the hub: parquet shards, JSON (an array
 * of objects) or JSONL files. Columns are read through the benchmark's mapping (catalog or
 * `--mapping`); images may be Image structs `{bytes, path}`, bytes, base64 text or paths
 * relative to the file's folder (or the mapping's `imageDir` inside it).
 */

type Row = { row: number; data?: Record<string, unknown>; error?: RowError };

async function readJsonRows(ctx: ReadContext): Promise<{ rows: Row[]; columns?: string[] }> {
  const text = await readFile(ctx.path, 'utf8');
  const kind = extname(ctx.path).toLowerCase();
  if (kind === '.json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      throw new ConfigError(ctx.file, '', `not valid JSON (${(cause as Error).message})`, {
        cause,
        hint: 'a .json file must hold one array of objects; use .jsonl for one object per line',
      });
    }
    if (!Array.isArray(doc)) throw new ConfigError(ctx.file, '', 'expected a JSON array of objects');
    return {
      rows: doc.map((d, i) =>
        d && typeof d === 'object' && !Array.isArray(d)
          ? { row: i + 1, data: d as Record<string, unknown> }
          : { row: i + 1, error: new RowError(null, 'expected an object') },
      ),
    };
  }
  const rows: Row[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const d = JSON.parse(line) as unknown;
      if (d && typeof d === 'object' && !Array.isArray(d))
        rows.push({ row: i + 1, data: d as Record<string, unknown> });
      else rows.push({ row: i + 1, error: new RowError(null, 'expected a JSON object on the line') });
    } catch (err) {
      rows.push({ row: i + 1, error: new RowError(null, `not valid JSON (${(err as Error).message})`) });
    }
  });
  return { rows };
}

export const hf: ImporterDefinition = {
  id: 'hf',
  description:
    'Hugging Face dataset snapshots: parquet shards, JSON arrays or JSONL, read through a per-benchmark column mapping',
  fileKinds: ['.parquet', '.json', '.jsonl', '.ndjson'],
  benchmarkFromRows: false,

  async open(ctx) {
    const benchmark = ctx.benchmark;
    if (!benchmark) throw new ConfigError(ctx.file, '', 'the hf format needs --benchmark <id>');
    let mapping = resolveMapping(
      mergeMapping('hf', benchmark, ctx.mapping),
      {
        images: ['image'],
        imageEncoding: () => 'auto',
        otherColumns: 'ignore',
      },
      mappingSource(benchmark, ctx.mapping),
    );
    const fileDir = dirname(ctx.path);
    let baseDir = fileDir;
    if (mapping.imageDir) {
      try {
        baseDir = DataStore.safeJoin(fileDir, mapping.imageDir);
      } catch {
        throw new ConfigError(ctx.file, '', `imageDir "${mapping.imageDir}" escapes ${fileDir}`);
      }
    }
    const imageCtx: ImageContext = { store: ctx.store, baseDir, limits: ctx.limits, encoding: 'auto' };
    let rows: Row[];
    let columns: string[] | undefined;
    if (extname(ctx.path).toLowerCase() === '.parquet') {
      const pq = await readParquet(ctx.path, ctx.file);
      columns = pq.columns;
      const have = new Set(columns);
      mapping = withoutAbsentImages(mapping, have);
      const missing = requiredColumns(mapping).filter((c) => !hasColumn(have, c));
      if (missing.length > 0) {
        throw new ConfigError(
          ctx.file,
          '',
          `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${columns.join(', ')})`,
          { hint: 'check the mapping (catalog or --mapping)' },
        );
      }
      rows = pq.rows.map((data, i) => ({ row: i + 1, data }));
    } else {
      rows = (await readJsonRows(ctx)).rows;
      const keys = new Set(rows.flatMap((r) => (r.data ? Object.keys(r.data) : [])));
      mapping = withoutAbsentImages(mapping, keys);
    }
    return rows.map(
      (r): SourceRow => ({
        row: r.row,
        async convert() {
          if (r.error || !r.data) throw r.error ?? new RowError(null, 'empty row');
          return convertRow(r.data, r.row, {
            mapping,
            benchmark,
            file: ctx.file,
            images: (col) => ({ ...imageCtx, encoding: mapping.imageEncoding(col) }),
            ...(columns ? { columns } : {}),
          });
        },
      }),
    );
  },
};
