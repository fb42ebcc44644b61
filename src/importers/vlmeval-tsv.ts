import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { DataStore } from '../data/store.ts';
import type { ImageContext } from './images.ts';
import {
  convertRow,
  hasColumn,
  mappingSource,
  mergeMapping,
  OPTION_LETTERS,
  requiredColumns,
  resolveMapping,
  withoutAbsentImages,
} from './mapping.ts';
import { parseTsv } from './tsv.ts';
import { type ImporterDefinition, RowError, type SourceRow } from './types.ts';

/**
 * VLMEvalKit TSV: one row per item with `index`, `image` (base64; a list of base64 strings
 * for multi-image items; or another row's `index` when the image repeats, which saves
 * space), or `image_path` (relative paths), `question`, option columns `A`…`H`, `answer`,
 * `category` and benchmark-specific columns, which go to `extra`.
 */

/** VLMEvalKit: an `image` cell this short is the index of the row whose image it shares. */
const MAX_REFERENCE_LENGTH = 64;

export const vlmevalTsv: ImporterDefinition = {
  id: 'vlmeval-tsv',
  description:
    'VLMEvalKit TSV: index, image (base64, list, or another row index) or image_path, question, A–H, answer, category, extra columns',
  fileKinds: ['.tsv'],
  benchmarkFromRows: false,

  async open(ctx) {
    const benchmark = ctx.benchmark;
    if (!benchmark) throw new ConfigError(ctx.file, '', 'the vlmeval-tsv format needs --benchmark <id>');
    const records = parseTsv(await readFile(ctx.path, 'utf8'), ctx.file);
    const headerRecord = records.shift();
    if (!headerRecord) throw new ConfigError(ctx.file, '', 'the file is empty (no header row)');
    const header = headerRecord.fields.map((h) => h.trim());
    const seen = new Set<string>();
    for (const h of header) {
      if (seen.has(h)) throw new ConfigError(ctx.file, 'line 1', `duplicate column "${h}" in the header`);
      seen.add(h);
    }
    const imageColumn = seen.has('image') ? 'image' : seen.has('image_path') ? 'image_path' : 'image';
    const mapping = withoutAbsentImages(
      resolveMapping(
        mergeMapping('vlmeval-tsv', benchmark, ctx.mapping),
        {
          id: 'index',
          images: [imageColumn],
          options: OPTION_LETTERS.filter((l) => seen.has(l)),
          imageEncoding: (col) => (col === 'image_path' ? 'path' : 'base64'),
          otherColumns: 'extra',
        },
        mappingSource(benchmark, ctx.mapping),
      ),
      seen,
    );
    const missing = requiredColumns(mapping).filter((c) => !hasColumn(seen, c));
    if (missing.length > 0) {
      throw new ConfigError(
        ctx.file,
        'line 1',
        `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} (columns: ${header.join(', ')})`,
        { hint: 'check the mapping (catalog or --mapping)' },
      );
    }
    let baseDir = dirname(ctx.path);
    if (mapping.imageDir) {
      try {
        baseDir = DataStore.safeJoin(baseDir, mapping.imageDir);
      } catch {
        throw new ConfigError(ctx.file, '', `imageDir "${mapping.imageDir}" escapes ${baseDir}`);
      }
    }
    const imageCtx: ImageContext = { store: ctx.store, baseDir, limits: ctx.limits, encoding: 'base64' };
    // Other columns go to extra, but never the image columns VLMEvalKit itself uses.
    const columns = header.filter((h) => h !== 'image' && h !== 'image_path');

    const rows = records.map((rec, i) => {
      const data: Record<string, string> = {};
      header.forEach((h, k) => {
        data[h] = rec.fields[k] ?? '';
      });
      return { row: i + 1, rec, data };
    });
    // Rows by index, to resolve image cells that name another row's index instead.
    const byIndex = new Map<string, Record<string, string>>();
    if (seen.has('index')) {
      for (const r of rows) {
        const idx = (r.data.index ?? '').trim();
        if (idx !== '' && !byIndex.has(idx)) byIndex.set(idx, r.data);
      }
    }

    return rows.map(
      (r): SourceRow => ({
        row: r.row,
        async convert() {
          if (r.rec.fields.length !== header.length) {
            throw new RowError(
              null,
              `has ${r.rec.fields.length} fields, the header has ${header.length} (line ${r.rec.line})`,
            );
          }
          const data: Record<string, unknown> = { ...r.data };
          for (const col of mapping.images) {
            if (mapping.imageEncoding(col) !== 'base64') continue;
            const cell = (r.data[col] ?? '').trim();
            if (cell === '' || cell.length > MAX_REFERENCE_LENGTH) continue;
            const target = byIndex.get(cell)?.[col];
            if (target === undefined) {
              throw new RowError(col, `refers to the image of index "${cell}", which is not in the file`);
            }
            if (target.trim().length <= MAX_REFERENCE_LENGTH) {
              throw new RowError(col, `refers to the image of index "${cell}", which is itself a reference`);
            }
            data[col] = target;
          }
          return convertRow(data, r.row, {
            mapping,
            benchmark,
            file: ctx.file,
            images: (col) => ({ ...imageCtx, encoding: mapping.imageEncoding(col) }),
            columns,
          });
        },
      }),
    );
  },
};
