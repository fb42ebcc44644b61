import { MaestroError } from '../core/errors.ts';

/** File-system errors that a full disk, a lost mount or a changed permission cause. */
const STORAGE_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ENOENT',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ESTALE',
  'EBUSY',
  'EAGAIN',
]);

/** Default deadline of storage retries: 15 minutes (MAESTRO_STORAGE_DEADLINE_MS). */
export const DEFAULT_STORAGE_DEADLINE_MS = 15 * 60_000;

export interface StorageRetryOptions {
  /** Give up after this long (ms). */
  deadlineMs: number;
  /** Where the write goes (named in the log lines). */
  path: string | (() => string);
  log: (line: string) => void;
  /** First pause (ms), doubled up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Clock and sleep, for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The errno code of a file-system error, or null for anything else. */
export function storageErrorCode(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && STORAGE_CODES.has(code) ? code : null;
}

/** Raised when storage stayed broken past the deadline. */
export class StorageDeadlineError extends MaestroError {}

/**
 * Runs a write until it succeeds, retrying file-system errors (disk full, folder
 * unwritable, mount gone) with exponential backoff until the deadline. Each failure is
 * logged with its path and errno (the first at once, then at most every 30 s), and the
 * recovery too. Other errors are thrown at once.
 */
export async function withStorageRetry<T>(write: () => Promise<T>, opts: StorageRetryOptions): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  let delay = opts.baseDelayMs ?? 250;
  let failures = 0;
  let lastLog = Number.NEGATIVE_INFINITY;
  for (;;) {
    try {
      const out = await write();
      if (failures > 0)
        opts.log(
          `storage ok again: ${pathOf(opts.path)} written after ${failures} failures in ${now() - started} ms`,
        );
      return out;
    } catch (err) {
      const code = storageErrorCode(err);
      if (!code) throw err;
      failures++;
      const elapsed = now() - started;
      const message = err instanceof Error ? err.message : String(err);
      if (elapsed >= opts.deadlineMs) {
        throw new StorageDeadlineError(
          `storage error writing ${pathOf(opts.path)}: ${code} for ${elapsed} ms (${failures} tries): ${message}`,
          {
            cause: err,
            hint: 'free space or fix the data directory (permissions, mount); raise MAESTRO_STORAGE_DEADLINE_MS to wait longer',
          },
        );
      }
      if (now() - lastLog >= 30_000) {
        lastLog = now();
        opts.log(
          `storage error writing ${pathOf(opts.path)}: ${code} (${message}); retrying with backoff for up to ${Math.round((opts.deadlineMs - elapsed) / 1000)} s more`,
        );
      }
      await sleep(Math.min(delay, Math.max(1, opts.deadlineMs - elapsed)));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 10_000);
    }
  }
}

/** The path to log (worked out only when there is something to log). */
const pathOf = (path: string | (() => string)) => (typeof path === 'function' ? path() : path);
