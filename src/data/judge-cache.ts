import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/files.ts';
import { slug } from '../core/hash.ts';

/**
 * Judge replies in the data directory, by (judge model, input hash):
 * `<data-dir>/judge-cache/<model>/<ab>/<input hash>.json`. The data directory is what every
 * host shares and what `maestro-eval score` reads without Redis, so a re-score (on the
 * cluster or from the command line) asks the judge nothing it was asked before. Entries are
 * written whole (temp file, rename); one that cannot be read is a miss.
 */

const Entry = z.object({
  model: z.string(),
  inputHash: z.string(),
  purpose: z.string(),
  output: z.string(),
  at: z.string(),
});

const HASH = /^[0-9a-f]{64}$/;

export class JudgeFileCache {
  constructor(private readonly dataDir: string) {}

  /** The file of one entry. */
  path(model: string, inputHash: string): string {
    if (!HASH.test(inputHash)) throw new Error(`not a sha256 input hash: "${inputHash}"`);
    return join(this.dataDir, 'judge-cache', slug(model), inputHash.slice(0, 2), `${inputHash}.json`);
  }

  async get(model: string, inputHash: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(model, inputHash), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const e = Entry.parse(JSON.parse(text));
      // A slug can be shared by two model names: the entry names its own.
      return e.model === model && e.inputHash === inputHash ? e.output : undefined;
    } catch {
      return undefined;
    }
  }

  async put(model: string, inputHash: string, entry: { output: string; purpose: string }): Promise<void> {
    const body = {
      model,
      inputHash,
      purpose: entry.purpose,
      output: entry.output,
      at: new Date().toISOString(),
    };
    await writeFileAtomic(this.path(model, inputHash), `${JSON.stringify(body)}\n`);
  }
}
