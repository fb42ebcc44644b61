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
export async function writeLinesAtomic(
  path: string,
  lines: AsyncIterable<string | Uint8Array>,
): Promise<void> {
  await atomically(path, async (fh) => {
    // Lines given as bytes are written as they are (no decoding and encoding again); text
    // lines between them are joined and encoded once per run.
    let parts: Uint8Array[] = [];
    let texts: string[] = [];
    let size = 0;
    const encodeTexts = () => {
      if (texts.length) parts.push(Buffer.from(texts.join('')));
      texts = [];
    };
    for await (const line of lines) {
      if (typeof line === 'string') texts.push(line);
      else {
        encodeTexts();
        parts.push(line);
      }
      size += line.length;
      if (size >= 1 << 20) {
        encodeTexts();
        await fh.writev(parts);
        parts = [];
        size = 0;
      }
    }
    encodeTexts();
    if (parts.length) await fh.writev(parts);
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
