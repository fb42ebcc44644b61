import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ConfigError } from '../core/errors.ts';

/**
 * Reads a whole parquet file into row objects. Binary columns stay bytes (`utf8: false`),
 * string columns are strings, INT64 values arrive as BigInt, structs as objects and lists
 * as arrays. A file that is not parquet is a ConfigError naming it.
 */
export async function readParquet(
  path: string,
  display: string,
): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    const rows = (await parquetReadObjects({ file, metadata, compressors, utf8: false })) as Record<
      string,
      unknown
    >[];
    return { columns, rows };
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ConfigError(display, '', `not a readable parquet file (${why})`, { cause });
  }
}
