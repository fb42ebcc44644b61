import { DelayedError, type Job, type Queue, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeError, MaestroError } from '../core/errors.ts';
import type { Item } from '../core/items.ts';
import {
  type ExpertCall,
  JOB_SIZE_LIMITS,
  type PendingCall,
  type RolloutJobData,
  type RolloutState,
  type ScoreJobResult,
} from '../core/jobs.ts';
import { loadLua, runLua } from '../core/lua.ts';
import { redactDeep } from '../core/redact.ts';
import { policyStep } from '../metrics/index.ts';
import type { Policy, PolicyContext } from '../policies/index.ts';
import type { ChildResult, RolloutEvent, RolloutIO } from '../rollout/index.ts';
import { type ChildJob, childJob, expertChildRef, settledChildren } from './children.ts';

/**
 * The signal that parks a rollout until its children finish: one instance, made without a
 * stack trace (BullMQ only checks its class; a new error per park cost a stack capture).
 */
const PARKED = (() => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new WaitingChildrenError();
  } finally {
    Error.stackTraceLimit = limit;
  }
})();

/** A stored rollout up to this size is left as it is when the rollout finishes. */
const SMALL_STATE_CHARS = 4_096;

export interface ClusterIOParams {
  job: Job;
  token: string;
  data: RolloutJobData;
  item: Item;
  policy: Policy;
  context: (state: RolloutState) => PolicyContext;
  queue: (name: string) => Queue;
  conn: Redis;
  prefix: string;
  expertAttempts: number;
  /**
   * Scores the finished rollout in this step (record written, then the result) instead of
   * a scoring child job. The scoring state is then not saved: after a crash it is derived
   * again from the last saved state and the children's stored results, and the record,
   * written once, is reused.
   */
  scoreInline?: ((state: RolloutState) => Promise<ScoreJobResult>) | undefined;
  /**
   * Expert calls the rollout waits for while it keeps its slot, instead of child jobs: made
   * in this process (registry `dispatch: inline`) or awaited from the expert pools
   * (`dispatch: await`).
   */
  held?: HeldCalls | undefined;
}

/** Expert calls run to their end while the rollout stays active (see ClusterIOParams.held). */
export interface HeldCalls {
  /** `resumed`: the rollout ran before (its call may have been answered already). */
  run(call: ExpertCall, r: RolloutJobData, item: Item, resumed: boolean): Promise<ChildResult>;
  /** Whether a rollout that runs again finds its calls' results (else it makes them again). */
  readonly keepsResults: boolean;
  /** The rollout ended (its kept results can go). */
  finished?(r: RolloutJobData): void;
}

/**
 * The engine's effects on BullMQ: the state is the job's data, calls are child jobs with
 * deterministic ids, waiting is `WaitingChildrenError` (the rollout holds no slot) and
 * admission is `DelayedError`.
 */
export function clusterIO(p: ClusterIOParams): RolloutIO {
  const { job, token, data, held } = p;
  const jobsOf = (pending: PendingCall[]) => pending.map((c) => childJob(c, data, p.item, p.expertAttempts));
  /** The rollout ran before this activation (a crash, a delay, a park). */
  const resumed = (job.attemptsStarted ?? 0) > 1;
  const resolve = (state: RolloutState): Promise<RolloutEvent> =>
    held?.keepsResults && state.phase === 'policy'
      ? runHeld(held, state.pending.filter(isExpertCall), data, p.item, true)
      : settledChildren(job, state.pending, jobsOf(state.pending), p.prefix);
  /**
   * Adds the children (a no-op for an id that exists), then parks once until they finish.
   * Parking releases the job's lock, so it comes after the last child: parking after the
   * first child of a fan-out left the next calls without the lock ("Missing lock").
   */
  const lookups = new FailedLookups(p.conn, p.prefix);
  const park = async (state: RolloutState, calls: PendingCall[]) => {
    for (const c of jobsOf(calls))
      await addChild(p.conn, p.prefix, p.queue(c.queue), c, job, await lookups.take(c));
    if (await job.moveToWaitingChildren(token)) throw PARKED;
    return resolve(state);
  };
  return {
    async save(state) {
      if (p.scoreInline && state.phase === 'scoring') return;
      // Calls made here are not children whose ids must match a saved decision: the state
      // before the first call is not saved (after a crash the first decision is made again).
      // (Awaited calls' job ids hold a digest of the call: another decision is another job.)
      if (held && state.phase === 'policy' && state.turn === 0 && state.pending.length > 0) return;
      // The final save only shrinks the queue's copy of the trace (the record holds it):
      // not worth a round trip when the stored state is already small.
      if (state.phase === 'done' && JSON.stringify(data).length <= SMALL_STATE_CHARS) return;
      // BullMQ checks `sizeLimit` only when a job is added, so it is checked here.
      // The trace leaves the worker here (Redis): error texts echoed by endpoints are redacted.
      const next = redactDeep({ ...data, state });
      const json = JSON.stringify(next);
      const bytes = Buffer.byteLength(json);
      if (bytes > JOB_SIZE_LIMITS.rollout) {
        throw new UnrecoverableError(
          `rollout state is ${bytes} bytes, over the ${JOB_SIZE_LIMITS.rollout}-byte limit (turn ${state.turn})`,
        );
      }
      // The save is followed by the adds of the calls it records (engine: save, then call).
      if (!held && state.phase === 'policy') lookups.send(state, data);
      await saveState(p.conn, job, token, next, json);
    },
    async decide(state, first) {
      const ctx = p.context(state);
      const delay = first && p.policy.admit ? await p.policy.admit(ctx) : 0;
      if (delay > 0) {
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      try {
        const reply = await p.policy.decide(ctx);
        if (!('fanOut' in reply)) policyStep(data.policy, reply.latencyMs);
        return { type: 'policy-reply', reply };
      } catch (err) {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (!(err instanceof MaestroError && !err.retryable) && !lastAttempt) throw err;
        return { type: 'policy-failed', error: `policy ${data.policy} failed: ${describeError(err)}` };
      }
    },
    async call(state, calls) {
      return held ? runHeld(held, calls, data, p.item, resumed) : park(state, calls);
    },
    async score(state) {
      if (!p.scoreInline) return park(state, [{ kind: 'score' }]);
      return { type: 'children', results: [{ kind: 'scored', result: await p.scoreInline(state) }] };
    },
    resolve,
    async finish(result) {
      const { sweepId, rolloutId } = data;
      held?.finished?.(data);
      await p.policy.onOutcome?.({ sweepId, rolloutId, status: result.status, correct: result.correct });
    },
  };
}

/** Runs held calls to their end (`resumed`: the rollout ran before; see HeldCalls.run). */
async function runHeld(
  held: HeldCalls,
  calls: ExpertCall[],
  data: RolloutJobData,
  item: Item,
  resumed: boolean,
): Promise<RolloutEvent> {
  return { type: 'children', results: await Promise.all(calls.map((c) => held.run(c, data, item, resumed))) };
}

const isExpertCall = (c: PendingCall): c is ExpertCall => c.kind === 'expert';

/**
 * Whether each child about to be added is kept as failed (see addChild), asked together
 * with the state's save that precedes the adds (engine: save, then call): the lookups go
 * out in the save's write, one round trip less per dispatch.
 */
class FailedLookups {
  private readonly pending = new Map<string, Promise<string | null | undefined>>();

  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  /** Sends the lookups of the expert calls `state` waits for. */
  send(state: RolloutState, data: RolloutJobData): void {
    this.pending.clear();
    for (const c of state.pending) {
      if (c.kind !== 'expert') continue;
      const { queue, jobId } = expertChildRef(c, data);
      // A lookup that fails is made again by addChild (undefined: not known).
      const known = this.conn.zscore(failedSetKey(this.prefix, queue), jobId).catch(() => undefined);
      this.pending.set(`${queue}\n${jobId}`, known);
    }
  }

  /** The answer for this child, once; undefined when it was not asked. */
  async take(c: ChildJob): Promise<string | null | undefined> {
    const key = `${c.queue}\n${c.jobId}`;
    const known = this.pending.get(key);
    this.pending.delete(key);
    return known;
  }
}

const SAVE_STATE = loadLua(import.meta.url, './save-state.lua');

/**
 * Saves a rollout's state as its job's data, under the job's lock: a stale activation (its
 * lock lost, the job taken again) fails here instead of overwriting the current state.
 */
export async function saveState(
  conn: Redis,
  job: Job,
  token: string,
  data: object,
  json = JSON.stringify(data),
): Promise<void> {
  const key = `${job.queueQualifiedName}:${job.id}`;
  const saved = await runLua(conn, SAVE_STATE, [key, `${key}:lock`], [token, json]);
  if (saved === 1) {
    job.data = data;
    return;
  }
  throw new MaestroError(
    saved === 0
      ? `rollout ${job.id}: its lock is no longer this worker's (another activation holds it); state not saved`
      : `rollout ${job.id}: the job is gone; state not saved`,
    { retryable: true },
  );
}

/** The sorted set of a queue's failed jobs. */
const failedSetKey = (prefix: string, queue: string) => `${prefix}:${queue}:failed`;

/**
 * Adds a child job under `parent`. A failed job kept under the same id (failed jobs are kept
 * for inspection) is removed first: adding over it would list it as a pending dependency of
 * the parent while nothing runs it again, and the parent would wait forever. The engine asks
 * for a call again only when it holds no result for it (the failure was not recorded on the
 * parent, e.g. Redis went back to an earlier moment), so the call runs afresh.
 */
export async function addChild(
  conn: Redis,
  prefix: string,
  queue: Queue,
  c: ChildJob,
  parent: Job,
  failedScore?: string | null,
): Promise<void> {
  const failed =
    failedScore !== undefined ? failedScore : await conn.zscore(failedSetKey(prefix, c.queue), c.jobId);
  if (failed !== null) await queue.remove(c.jobId);
  await queue.add(c.name, c.data, {
    ...c.opts,
    jobId: c.jobId,
    parent: { id: parent.id!, queue: parent.queueQualifiedName },
  });
}
