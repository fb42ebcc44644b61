import { RetryableError } from '../core/errors.ts';

/** How a `ModelClient.send` (client.ts) request failed, as data (callers word it their own way). */
export type SendFailure =
  /** The server answered with an error status; `body` is its raw text. */
  | { kind: 'status'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'connection'; detail: string }
  /** The caller's signal aborted the request. */
  | { kind: 'aborted' };

/** A failed `ModelClient.send` (client.ts): retryable for the queue, with the failure as data. */
export class SendError extends RetryableError {
  constructor(
    name: string,
    readonly failure: SendFailure,
    cause: unknown,
  ) {
    super(`${name}: ${describeFailure(failure)}`, { cause });
  }
}

function describeFailure(f: SendFailure): string {
  if (f.kind === 'status') return `server answered ${f.status}${f.body ? `: ${f.body.slice(0, 300)}` : ''}`;
  if (f.kind === 'timeout') return 'request timed out';
  if (f.kind === 'connection') return `connection failed (${f.detail})`;
  return 'request aborted';
}
