import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { firstParquetSync, releaseCommit } from '../core/release-source.ts';
import { readParquet } from './parquet.ts';

/**
 * The policy's training prompt, read at run time from the user's own copy of the release's
 * data (verl parquet rows): the system prompt as it is, and the user turn as the question
 * followed by the planning instruction. The project ships neither text.
 */
export interface ReleasePrompt {
  system: string;
  /** What follows the question in the user turn. */
  userSuffix: string;
  /** Where the texts came from (file), for tables and traces. */
  source: string;
  /** The release commit of that data (its checkout's git HEAD, or the commit recorded beside it). */
  commit?: string;
}

const asText = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v);

/** Reads the prompt from a verl parquet file, or the first one found under a directory. */
export async function loadReleasePrompt(path: string): Promise<ReleasePrompt> {
  const file = (await stat(path)).isDirectory() ? firstParquetSync(path) : path;
  if (!file) {
    throw new ConfigError(path, '', 'no .parquet file with the release prompt rows found', {
      hint: "point it at the release's verl parquet data (rows with prompt, extra_info.question)",
    });
  }
  const display = relative(process.cwd(), file) || file;
  const commit = releaseCommit(file)?.commit;
  const { rows } = await readParquet(file, display);
  const row = rows[0];
  if (!row) throw new ConfigError(display, '', 'the file has no rows');
  const prompt = row.prompt as Array<{ role?: unknown; content?: unknown }> | undefined;
  const system = prompt?.find((m) => asText(m.role) === 'system');
  const user = prompt?.find((m) => asText(m.role) === 'user');
  const question = asText((row.extra_info as { question?: unknown } | undefined)?.question);
  if (typeof asText(system?.content) !== 'string')
    throw new ConfigError(display, 'row 0 prompt', 'no system message');
  if (typeof asText(user?.content) !== 'string')
    throw new ConfigError(display, 'row 0 prompt', 'no user message');
  if (typeof question !== 'string') throw new ConfigError(display, 'row 0 extra_info.question', 'missing');
  const userText = asText(user?.content) as string;
  if (!userText.startsWith(question)) {
    throw new ConfigError(
      display,
      'row 0 prompt[user]',
      'the user turn does not start with extra_info.question',
    );
  }
  return {
    system: asText(system?.content) as string,
    userSuffix: userText.slice(question.length),
    source: display,
    ...(commit ? { commit } : {}),
  };
}
