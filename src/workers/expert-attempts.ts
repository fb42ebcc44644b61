/**
 * Retries of an expert job in its trace. A skill run that fails with a retryable error is
 * run again by the queue (with backoff); before the retry, the pool writes what the failed
 * attempt had sent into the job's data, and the successful attempt merges it into its own
 * calls: the call at the same place in the run (same service) counts the earlier requests
 * and lists their errors. A skill runs its calls in a fixed order, so places match.
 */
import type { Job } from 'bullmq';
import { describeError } from '../core/errors.ts';
import { ATTEMPT_ERROR_CHARS, type CallTrace, MAX_ATTEMPT_ERRORS } from '../core/items.ts';
import { type EarlierAttempt, type ExpertJobData, JOB_SIZE_LIMITS } from '../core/jobs.ts';
import { redact } from '../core/redact.ts';

/** Errors are redacted (a provider may echo the request's key) and clipped. */
const clip = (text: string) => redact(text).slice(0, ATTEMPT_ERROR_CHARS);

/** A failed attempt's summary: its error and, per call sent, whether it failed and why. */
export function earlierAttempt(err: unknown, calls: readonly CallTrace[]): EarlierAttempt {
  return {
    error: clip(describeError(err)),
    calls: calls.slice(0, 64).map((c) => ({
      service: c.service,
      ok: c.ok,
      ...(c.attempts ? { attempts: c.attempts } : {}),
      ...(c.attemptErrors?.length
        ? { attemptErrors: c.attemptErrors.slice(-MAX_ATTEMPT_ERRORS).map(clip) }
        : {}),
      ...(c.error ? { error: clip(c.error) } : {}),
    })),
  };
}

/** The errors one earlier call's requests ended in. */
function errorsOf(c: EarlierAttempt['calls'][number]): string[] {
  if (c.attemptErrors?.length) return c.attemptErrors;
  return !c.ok && c.error ? [c.error] : [];
}

/** `calls` with the requests and errors of the earlier attempts added, call by call. */
export function withEarlierAttempts(
  calls: CallTrace[],
  earlier: readonly EarlierAttempt[] | undefined,
): CallTrace[] {
  if (!earlier?.length) return calls;
  return calls.map((call, i) => {
    // A cache hit sent nothing this time; its requests are the earlier attempts' only.
    const own = call.cached ? 0 : (call.attempts ?? 1);
    let attempts = own;
    const errors: string[] = [];
    for (const attempt of earlier) {
      const before = attempt.calls[i];
      if (!before || before.service !== call.service) continue;
      attempts += before.attempts ?? 1;
      errors.push(...errorsOf(before));
    }
    if (attempts === own) return call;
    const attemptErrors = [...errors, ...(call.attemptErrors ?? [])].slice(-MAX_ATTEMPT_ERRORS);
    return { ...call, attempts, ...(attemptErrors.length ? { attemptErrors } : {}) };
  });
}

/**
 * Notes a failed attempt in the job's data when the queue will run the job again. Never
 * throws: the trace loses the earlier attempt when Redis refuses the write, the job its retry
 * never.
 */
export async function noteFailedAttempt(
  job: Job,
  data: ExpertJobData,
  err: unknown,
  calls: readonly CallTrace[],
): Promise<void> {
  if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) return;
  let earlier = [...(data.earlier ?? []), earlierAttempt(err, calls)].slice(-MAX_ATTEMPT_ERRORS);
  // The job stays well inside its payload limit: past half of it, only the errors are kept.
  if (JSON.stringify(earlier).length > JOB_SIZE_LIMITS.expert / 2)
    earlier = earlier.map((e) => ({ error: e.error, calls: [] }));
  await job.updateData({ ...data, earlier }).catch(() => {});
}
