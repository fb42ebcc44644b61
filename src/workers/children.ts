import { type Job, UnrecoverableError } from 'bullmq';
import type { Item } from '../core/items.ts';
import {
  clipTail,
  type ExpertCall,
  type ExpertJobData,
  ExpertJobResult,
  JOB_SIZE_LIMITS,
  type PendingCall,
  type RolloutJobData,
  type ScoreJobData,
  ScoreJobResult,
} from '../core/jobs.ts';
import { expertQueueName, jobIds, SCORE_QUEUE } from '../core/queues.ts';
import type { ChildResult, RolloutEvent } from '../rollout/index.ts';

/** A pending call as a BullMQ child job: queue, deterministic id, payload, options. */
export interface ChildJob {
  queue: string;
  name: string;
  jobId: string;
  data: ExpertJobData | ScoreJobData;
  opts: Record<string, unknown>;
}

/** Attempts of a scoring job. */
export const SCORE_ATTEMPTS = 8;

/** Options every child job gets: its failure is reported to the parent, never blocks it. */
const CHILD_OPTS = { ignoreDependencyOnFailure: true, removeOnComplete: true, removeOnFail: 1000 } as const;

/** The seed a policy (and its expert calls) sees: the sweep's seed, spread over samples. */
export function policySeed(r: RolloutJobData): number {
  return r.sample === 0 ? r.seed : r.seed * 1_000 + r.sample;
}

/** The child job of a pending call; the same call always maps to the same job. */
export function childJob(call: PendingCall, r: RolloutJobData, item: Item, expertAttempts: number): ChildJob {
  if (call.kind === 'score') {
    return {
      queue: SCORE_QUEUE,
      name: 'score',
      jobId: jobIds.score(r.rolloutId),
      data: { v: 1, sweepId: r.sweepId, rolloutId: r.rolloutId },
      opts: {
        ...CHILD_OPTS,
        // A scoring job fails only on outages (Redis, the data directory): its retries span
        // about two minutes (1 s doubling), so a short outage never fails an item whose
        // record may already be written; a retry re-uses that record.
        attempts: SCORE_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1_000 },
        sizeLimit: JOB_SIZE_LIMITS.score,
      },
    };
  }
  const { queue, jobId } = expertChildRef(call, r);
  const data: ExpertJobData = {
    v: 1,
    sweepId: r.sweepId,
    rolloutId: r.rolloutId,
    turn: call.turn,
    expert: call.expert,
    skill: call.skill,
    ...(call.model ? { model: call.model } : {}),
    input: clipTail(call.input),
    benchmark: r.benchmark,
    itemId: r.itemId,
    images: item.images,
    seed: policySeed(r),
  };
  return {
    queue,
    name: 'call',
    jobId,
    data,
    opts: {
      ...CHILD_OPTS,
      attempts: expertAttempts,
      backoff: { type: 'expert', delay: 500 },
      sizeLimit: JOB_SIZE_LIMITS.expert,
    },
  };
}

/** The queue and deterministic id of an expert call's child job. */
export function expertChildRef(call: ExpertCall, r: RolloutJobData): { queue: string; jobId: string } {
  return { queue: expertQueueName(call.expert), jobId: jobIds.step(r.rolloutId, call.turn, call.call) };
}

/**
 * How the pending calls settled, read from the parent job: `children` when all did,
 * `children-missing` when some are unknown to the queue (never enqueued: a crash).
 */
export async function settledChildren(
  job: Job,
  pending: PendingCall[],
  jobs: ChildJob[],
  prefix: string,
): Promise<RolloutEvent> {
  const [values, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
  const results: ChildResult[] = [];
  const missing: number[] = [];
  pending.forEach((call, i) => {
    const key = `${prefix}:${jobs[i]!.queue}:${jobs[i]!.jobId}`;
    if (key in values) results.push(parseValue(call, values[key]));
    else if (key in failures) results.push({ kind: 'failed', reason: String(failures[key]) });
    else missing.push(i);
  });
  return missing.length > 0 ? { type: 'children-missing', missing } : { type: 'children', results };
}

/** A child's return value, checked (anything may have written to Redis). */
function parseValue(call: PendingCall, value: unknown): ChildResult {
  const parsed = call.kind === 'score' ? ScoreJobResult.safeParse(value) : ExpertJobResult.safeParse(value);
  if (!parsed.success)
    throw new UnrecoverableError(`invalid ${call.kind} result: ${parsed.error.issues[0]?.message}`);
  return call.kind === 'score'
    ? { kind: 'scored', result: parsed.data as ScoreJobResult }
    : { kind: 'expert', out: parsed.data as ExpertJobResult };
}
