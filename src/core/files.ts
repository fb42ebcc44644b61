import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file so readers see either the old content or the new, never half: a temp
 * file beside it, fsync, then rename. Creates the directory if needed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await atomically(path, (fh) => fh.writeFile(data));
}

/**
 * `writeFileAtomic` for content made line by line (an items.jsonl of a million records does
 * not fit one string): the lines go to the temp file as they come, then fsync and rename.
 */
export async function writeLinesAtomic(path: string, lines: AsyncIterable<string>): Promise<void> {
  await atomically(path, async (fh) => {
    let batch: string[] = [];
    let size = 0;
    for await (const line of lines) {
      batch.push(line);
      size += line.length;
      if (size >= 1 << 20) {
        await fh.write(batch.join(''));
        batch = [];
        size = 0;
      }
    }
    if (batch.length) await fh.write(batch.join(''));
  });
}

/** Runs `write` on a temp file beside `path`, then fsync and rename; the temp file goes on failure. */
async function atomically(path: string, write: (fh: FileHandle) => Promise<unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await write(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
