/**
 * Typed errors. Every error says whether retrying can help, and carries a hint a
 * user can act on. `cause` is always kept.
 */
export class MaestroError extends Error {
  readonly retryable: boolean;
  readonly hint: string | undefined;
  constructor(message: string, opts: { retryable?: boolean; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable ?? false;
    this.hint = opts.hint;
  }
}

/** A configuration or data file is invalid. Names the file and the path inside it. */
export class ConfigError extends MaestroError {
  readonly file: string;
  readonly path: string;
  constructor(file: string, path: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(`${file}${path ? ` at ${path}` : ''}: ${message}`, { ...opts, retryable: false });
    this.file = file;
    this.path = path;
  }
}

/** The user asked for something that does not exist (benchmark, policy, expert, sweep). */
export class NotFoundError extends MaestroError {}

/** A remote call failed in a way that may succeed later (timeout, 5xx, 429, reset). */
export class RetryableError extends MaestroError {
  /** Server-requested delay before the next attempt (from `retry-after`), if any. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { retryAfterMs?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, retryable: true });
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A remote call failed in a way that will fail again (4xx, bad input). */
export class PermanentError extends MaestroError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, retryable: false });
  }
}

/** Turns any thrown value into a one-line message, hint included. */
export function describeError(err: unknown): string {
  if (err instanceof MaestroError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The stack to print below an error's message on the command line: for errors that mean a
 * bug (a TypeError, RangeError or ReferenceError: the project's own errors name their
 * cause, and a one-line "Maximum call stack size exceeded" names nothing), or for any error
 * when `debug` (MAESTRO_DEBUG=1). Null otherwise.
 */
export function bugStack(err: unknown, debug = false): string | null {
  if (!(err instanceof Error) || !err.stack) return null;
  if (debug) return err.stack;
  if (err instanceof MaestroError) return null;
  const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
  return bug ? err.stack : null;
}
