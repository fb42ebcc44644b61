import { NotFoundError } from '../core/errors.ts';
import { hf } from './hf.ts';
import type { ImporterDefinition } from './types.ts';
import { verlParquet } from './verl-parquet.ts';
import { vlmevalTsv } from './vlmeval-tsv.ts';

/**
 * Importers: files in a benchmark's public release format → canonical Items in the data
 * directory. Each format is one file here exporting an ImporterDefinition; this index
 * collects them, and `run.ts` drives an import (bad rows, duplicate ids, limits, one atomic
 * dataset write at the end).
 */

export { type ImportOptions, type ImportResult, importFiles, type RowProblem } from './run.ts';
export { DEFAULT_IMAGE_LIMITS, type ImageLimits, type ImporterDefinition, RowError } from './types.ts';

/** Every importer, by the id `--format` takes. */
export const importers: Readonly<Record<string, ImporterDefinition>> = Object.fromEntries(
  [verlParquet, hf, vlmevalTsv].map((d) => [d.id, d]),
);

/** The importer with this id; throws naming the known ones. */
export function getImporter(id: string): ImporterDefinition {
  const d = Object.hasOwn(importers, id) ? importers[id] : undefined;
  if (!d) {
    throw new NotFoundError(`unknown import format "${id}"`, {
      hint: `known formats: ${Object.keys(importers).join(', ')}`,
    });
  }
  return d;
}
