/**
 * Counts the HTTP requests behind one model call, retries included. A chat call through the
 * lean poster sends one request and counts it in the log it is given ({@link countedRequest}).
 * An OpenAI client built with {@link countingFetch} reports every request it sends (its own
 * retries included) to the log of the call that is running, found through AsyncLocalStorage
 * ({@link withFetchAttemptLog}), so calls in parallel on one client keep separate counts.
 * Only those calls enter an AsyncLocalStorage context: it turns on promise hooks for the
 * whole process (about 3 % of a worker's CPU), which the chat path does without.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ATTEMPT_ERROR_CHARS, MAX_ATTEMPT_ERRORS } from '../core/items.ts';

/** The requests one call sent and why the failed ones failed. */
export interface AttemptLog {
  attempts: number;
  errors: string[];
}

const current = new AsyncLocalStorage<AttemptLog>();

function note(log: AttemptLog, error: string): void {
  if (log.errors.length >= MAX_ATTEMPT_ERRORS) log.errors.shift();
  log.errors.push(error.slice(0, ATTEMPT_ERROR_CHARS));
}

/** A failed request's error: its message and, for a network failure, the cause. */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.name}: ${err.message}${cause}`;
}

/** A `fetch` that reports each request (and a failed one's status or error) to the running call. */
export function countingFetch(base: () => typeof fetch = () => globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const log = current.getStore();
    if (log) log.attempts += 1;
    try {
      const res = await base()(input, init);
      if (log && !res.ok) note(log, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      return res;
    } catch (err) {
      if (log) note(log, describeFailure(err));
      throw err;
    }
  };
}

/**
 * Counts one request sent by other means than a counting `fetch` (the lean chat poster) in
 * `log`: its failure, or its error status, is noted like fetch's.
 */
export async function countedRequest<T extends { status: number }>(
  log: AttemptLog | undefined,
  send: () => Promise<T>,
): Promise<T> {
  if (log) log.attempts += 1;
  try {
    const res = await send();
    if (log && (res.status < 200 || res.status >= 300))
      note(log, `HTTP ${res.status}${statusTexts[res.status] ? ` ${statusTexts[res.status]}` : ''}`);
    return res;
  } catch (err) {
    if (log) note(log, describeFailure(err));
    throw err;
  }
}

/** Reason phrases of the statuses endpoints commonly fail with (what fetch's statusText gives). */
const statusTexts: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Runs `fn` with a fresh attempt log, given to it to pass on to its chat call
 * (`ChatRequest.attempts`); the log is filled in as the requests go out.
 */
export function withAttemptLog<T>(fn: (log: AttemptLog) => Promise<T>): {
  log: AttemptLog;
  result: Promise<T>;
} {
  const log: AttemptLog = { attempts: 0, errors: [] };
  return { log, result: fn(log) };
}

/**
 * Runs `fn` with a fresh attempt log that a counting `fetch` (an OpenAI client's requests,
 * its retries included) finds by itself; for calls through the SDK.
 */
export function withFetchAttemptLog<T>(fn: () => Promise<T>): { log: AttemptLog; result: Promise<T> } {
  const log: AttemptLog = { attempts: 0, errors: [] };
  return { log, result: current.run(log, fn) };
}

/** The trace fields of a log: only what differs from one clean attempt. */
export function attemptFields(log: AttemptLog): { attempts?: number; attemptErrors?: string[] } {
  return {
    ...(log.attempts > 1 ? { attempts: log.attempts } : {}),
    ...(log.errors.length ? { attemptErrors: [...log.errors] } : {}),
  };
}
