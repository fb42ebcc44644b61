/**
 * Expert calls awaited by the orchestrator (registry `dispatch: await`). Each call is a job
 * on the expert's queue, served by the expert pools as with `dispatch: queue`, but not a
 * child of the rollout: the rollout stays active and keeps its orchestrator slot while it
 * waits, and the pool sends the result straight back. That spares the child's bookkeeping
 * in BullMQ (the move to waiting-children, the parent's update when the child completes,
 * the rollout's second activation and the read of its children's values).
 *
 * The reply goes two ways, in one write of the pool, before its job completes:
 * - into a hash of the rollout (`awaited:<rolloutId>`, job id → reply), which survives the
 *   orchestrator: a rollout that runs again after a crash finds its calls' results there;
 * - onto the awaiting process's reply list, which that process pops (one blocking
 *   connection per process), so a reply arrives without polling.
 *
 * Nothing waits on the list alone: a call not answered within a few seconds is checked in
 * Redis (its reply, its job's state), with growing intervals, so a reply sent to a process
 * that died, or a job that failed without one (stalled past its limit), still settles it.
 *
 * A call's job id holds a digest of the call (expert, skill, model, input): the same call
 * maps to the same job, and a different decision taken again after a crash never meets the
 * result of the earlier one. That is what lets the state before the first call go unsaved,
 * as with `dispatch: inline`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { describeError } from '../core/errors.ts';
import type { Item } from '../core/items.ts';
import { type ExpertCall, ExpertJobResult, type RolloutJobData } from '../core/jobs.ts';
import { loadLua, runLua } from '../core/lua.ts';
import { jobIds, keys } from '../core/queues.ts';
import type { ChildResult } from '../rollout/index.ts';
import { childJob } from './children.ts';
import type { HeldCalls } from './cluster-io.ts';

/** What the pool sends back for an awaited call. */
export const AwaitedReply = z.union([z.object({ ok: ExpertJobResult }), z.object({ failed: z.string() })]);
export type AwaitedReply = z.infer<typeof AwaitedReply>;

/** A rollout's replies outlive it by this much at most (its own end deletes them). */
const RESULTS_TTL_MS = 7 * 24 * 3600_000;
/** A reply list whose process is gone is dropped after this (a live one is popped at once). */
const REPLIES_TTL_MS = 3600_000;
/** First check in Redis of a call without a reply, then doubling up to the cap. */
const FIRST_CHECK_MS = 2_000;
const MAX_CHECK_MS = 30_000;
/** Replies taken from the list per round trip. */
const POP_BATCH = 512;

const REPLY = loadLua(import.meta.url, './awaited-reply.lua');

/**
 * Loads the reply script into Redis ahead of use (a pool at start-up): a reply is sent
 * without waiting for it, just before its job's completion, and a script Redis does not
 * hold yet would be sent again after the completion.
 */
export async function preloadReply(conn: Redis): Promise<void> {
  await conn.script('LOAD', REPLY.source);
}

/** The job id of an awaited call: its place in the rollout and a digest of the call. */
export function awaitedJobId(call: ExpertCall, r: RolloutJobData): string {
  const digest = createHash('sha1')
    .update(`${call.expert}\0${call.skill}\0${call.model ?? ''}\0${call.input}`)
    .digest('hex')
    .slice(0, 10);
  return `${jobIds.step(r.rolloutId, call.turn, call.call)}.${digest}`;
}

/**
 * Pool side: stores the reply of an awaited job under its rollout and sends it to the
 * process awaiting it, in one write. Called before the job completes or fails for good.
 */
export async function sendReply(
  conn: Redis,
  prefix: string,
  target: { rolloutId: string; replyTo: string; jobId: string },
  reply: AwaitedReply,
): Promise<void> {
  await runLua(
    conn,
    REPLY,
    [keys.awaited(prefix, target.rolloutId), keys.replies(prefix, target.replyTo)],
    [target.jobId, JSON.stringify(reply), RESULTS_TTL_MS, REPLIES_TTL_MS],
  );
}

interface Waiter {
  jobId: string;
  queue: Queue;
  rolloutId: string;
  settle: (result: ChildResult) => void;
  fail: (err: unknown) => void;
  /** The job was added (before that, a check could not tell a missing job from a lost one). */
  added: boolean;
  /** The job was added again once, after it went missing without a reply. */
  readded: boolean;
  add: () => Promise<void>;
  nextCheck: number;
  interval: number;
  /** What every awaiter of this call gets. */
  result: Promise<ChildResult>;
}

export interface AwaitedExpertsOptions {
  connection: Redis;
  prefix: string;
  queue: (name: string) => Queue;
  /** Attempts per call (the expert job's attempts). Default 4. */
  attempts?: number;
  /** First look in Redis for a call without a reply (ms; then doubling up to 30 s). Default 2 000. */
  firstCheckMs?: number;
}

export class AwaitedExperts implements HeldCalls {
  /** Replies are kept under the rollout until it ends. */
  readonly keepsResults = true;
  /** This process's reply list (unique per process start). */
  readonly listener = `${hostname()
    .replace(/[^\w.-]/g, '_')
    .slice(0, 60)}.${process.pid}.${randomBytes(4).toString('hex')}`;
  private readonly waiters = new Map<string, Waiter>();
  private readonly blocking: Redis;
  private readonly listening: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private checking = false;
  private readonly firstCheckMs: number;

  constructor(private readonly opts: AwaitedExpertsOptions) {
    this.blocking = opts.connection.duplicate({ maxRetriesPerRequest: null });
    this.listening = this.listen();
    this.firstCheckMs = opts.firstCheckMs ?? FIRST_CHECK_MS;
    this.timer = setInterval(() => void this.check(), Math.min(500, this.firstCheckMs / 2));
    this.timer.unref();
  }

  /**
   * Runs one pending expert call through the expert's queue and waits for its reply.
   * `resumed`: the rollout ran before (a crash, a delay): its reply may already be stored.
   */
  async run(call: ExpertCall, r: RolloutJobData, item: Item, resumed: boolean): Promise<ChildResult> {
    const c = childJob(call, r, item, this.opts.attempts ?? 4);
    const jobId = awaitedJobId(call, r);
    if (resumed) {
      const stored = await this.opts.connection.hget(keys.awaited(this.opts.prefix, r.rolloutId), jobId);
      if (stored !== null) return toResult(stored);
    }
    // The same call awaited twice here (a rollout taken again while an earlier activation
    // still waits): one job, one reply for both.
    const already = this.waiters.get(jobId);
    if (already) return already.result;
    const queue = this.opts.queue(c.queue);
    const data = { ...c.data, replyTo: this.listener };
    let settle!: (result: ChildResult) => void;
    let fail!: (err: unknown) => void;
    const result = new Promise<ChildResult>((ok, ko) => {
      settle = ok;
      fail = ko;
    });
    const w: Waiter = {
      jobId,
      queue,
      rolloutId: r.rolloutId,
      settle,
      fail,
      added: false,
      readded: false,
      add: async () => {
        await queue.add(c.name, data, { ...c.opts, jobId });
      },
      nextCheck: Date.now() + this.firstCheckMs,
      interval: this.firstCheckMs,
      result,
    };
    // Registered before the add: a fast reply finds its waiter.
    this.waiters.set(jobId, w);
    w.add().then(
      () => {
        w.added = true;
      },
      (err) => {
        this.waiters.delete(jobId);
        w.fail(err);
      },
    );
    return result;
  }

  /** The rollout ended: its stored replies are no longer needed. */
  finished(r: RolloutJobData): void {
    this.opts.connection.del(keys.awaited(this.opts.prefix, r.rolloutId)).catch(() => {});
  }

  /** Calls awaited now (for tests and metrics). */
  get pending(): number {
    return this.waiters.size;
  }

  private deliver(entry: string): void {
    const cut = entry.indexOf('\n');
    if (cut < 0) return;
    const waiter = this.waiters.get(entry.slice(0, cut));
    if (!waiter) return; // a late duplicate (the job ran twice), or a call given up
    this.waiters.delete(waiter.jobId);
    try {
      waiter.settle(toResult(entry.slice(cut + 1)));
    } catch (err) {
      waiter.fail(err);
    }
  }

  /** Pops this process's replies until closed (BLMPOP on Redis 7, else BLPOP then LPOP). */
  private async listen(): Promise<void> {
    const list = keys.replies(this.opts.prefix, this.listener);
    let multi: boolean | undefined;
    while (!this.closed) {
      try {
        multi ??= await supportsBlmpop(this.blocking);
        if (multi) {
          const got = (await this.blocking.call(
            'BLMPOP',
            '1',
            '1',
            list,
            'LEFT',
            'COUNT',
            String(POP_BATCH),
          )) as [string, string[]] | null;
          for (const entry of got?.[1] ?? []) this.deliver(entry);
        } else {
          const first = await this.blocking.blpop(list, 1);
          if (!first) continue;
          this.deliver(first[1]);
          for (const entry of (await this.blocking.lpop(list, POP_BATCH)) ?? []) this.deliver(entry);
        }
      } catch (err) {
        if (this.closed) break;
        console.error(`[orchestrator] awaiting expert replies: ${describeError(err)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Looks in Redis for calls unanswered for a while: a stored reply, a failed or lost job. */
  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    const now = Date.now();
    const due = [...this.waiters.values()].filter((w) => w.added && w.nextCheck <= now);
    if (due.length === 0) return;
    this.checking = true;
    try {
      const { connection: conn, prefix } = this.opts;
      const pipe = conn.pipeline();
      for (const w of due) {
        const jobKey = `${prefix}:${w.queue.name}:${w.jobId}`;
        pipe.hget(keys.awaited(prefix, w.rolloutId), w.jobId);
        pipe.exists(jobKey);
        pipe.zscore(`${prefix}:${w.queue.name}:failed`, w.jobId);
        pipe.hget(jobKey, 'failedReason');
      }
      const answers = (await pipe.exec()) ?? [];
      due.forEach((w, i) => {
        const [reply, exists, failedScore, reason] = answers.slice(i * 4, i * 4 + 4).map(([, v]) => v);
        if (this.waiters.get(w.jobId) === w) this.afterCheck(w, { reply, exists, failedScore, reason });
      });
    } catch (err) {
      console.error(`[orchestrator] checking awaited expert calls: ${describeError(err)}`);
    } finally {
      this.checking = false;
    }
  }

  /** What a look in Redis found for a call without a reply. */
  private afterCheck(
    w: Waiter,
    found: { reply: unknown; exists: unknown; failedScore: unknown; reason: unknown },
  ): void {
    if (typeof found.reply === 'string') {
      const reply = found.reply;
      this.settleFrom(w, () => toResult(reply));
    } else if (found.failedScore !== null && found.failedScore !== undefined) {
      this.settleFrom(w, () => ({ kind: 'failed', reason: String(found.reason ?? 'expert job failed') }));
    } else if (found.exists === 0 && w.readded) {
      this.settleFrom(w, () => ({
        kind: 'failed',
        reason: `expert job ${w.jobId} ended without a reply (removed or lost)`,
      }));
    } else {
      if (found.exists === 0) {
        // Gone without a reply (Redis went back to an earlier moment, or it was removed):
        // added once more.
        w.readded = true;
        w.added = false;
        w.add().then(
          () => {
            w.added = true;
          },
          (err) => {
            this.waiters.delete(w.jobId);
            w.fail(err);
          },
        );
      }
      w.interval = Math.min(MAX_CHECK_MS, w.interval * 2);
      w.nextCheck = Date.now() + w.interval;
    }
  }

  private settleFrom(w: Waiter, result: () => ChildResult): void {
    this.waiters.delete(w.jobId);
    try {
      w.settle(result());
    } catch (err) {
      w.fail(err);
    }
  }

  /**
   * Stops listening. Calls still awaited are left to their jobs: their rollouts (whose
   * activations end with the worker) run again and find the replies stored.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.blocking.disconnect();
    await this.listening.catch(() => {});
    await this.opts.connection.del(keys.replies(this.opts.prefix, this.listener)).catch(() => {});
  }
}

/** A stored or sent reply as the engine's result (checked: anything may write to Redis). */
function toResult(value: string): ChildResult {
  const parsed = AwaitedReply.safeParse(JSON.parse(value));
  if (!parsed.success) throw new Error(`invalid expert reply: ${parsed.error.issues[0]?.message}`);
  return 'ok' in parsed.data
    ? { kind: 'expert', out: parsed.data.ok }
    : { kind: 'failed', reason: parsed.data.failed };
}

/** BLMPOP came with Redis 7.0. */
async function supportsBlmpop(conn: Redis): Promise<boolean> {
  const info = await conn.info('server');
  const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
  return major >= 7;
}

/** The orchestrator's awaited expert calls when its registry sets `dispatch: await`. */
export function awaitedExperts(opts: {
  registry: { dispatch: string };
  connection: Redis;
  prefix: string;
  queue: (name: string) => Queue;
  expertAttempts?: number | undefined;
}): AwaitedExperts | undefined {
  if (opts.registry.dispatch !== 'await') return undefined;
  return new AwaitedExperts({
    connection: opts.connection,
    prefix: opts.prefix,
    queue: opts.queue,
    attempts: opts.expertAttempts ?? 4,
  });
}
