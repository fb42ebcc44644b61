import { type Job, Queue, UnrecoverableError } from 'bullmq';
import { DIRECT_SKILL } from '../../skills/index.ts';
import { describeError, MaestroError, RetryableError } from '../core/errors.ts';
import { clipTail, ExpertJobData, type ExpertJobResult } from '../core/jobs.ts';
import { expertQueueName } from '../core/queues.ts';
import type { Expert, Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import {
  adaptiveChanged,
  adaptiveSet,
  expertCallLatency,
  expertJobStarted,
  watchWorker,
} from '../metrics/index.ts';
import { type AdaptiveController, startAdaptive } from '../models/adaptive.ts';
import { ClientCache } from '../models/client.ts';
import { traceHeaders } from '../models/headers.ts';
import { RedisLimiter } from '../models/limiter.ts';
import { callsBeforeFailure, SkillRuntime } from '../skills-runtime/runtime.ts';
import { preloadReply, sendReply } from './awaited-experts.ts';
import { EagerWorker } from './eager-worker.ts';
import { noteFailedAttempt, withEarlierAttempts } from './expert-attempts.ts';
import { bullOptions, redacting, type WorkerSettings } from './runtime.ts';

export interface ExpertPoolOptions extends WorkerSettings {
  registry: Registry;
  store: DataStore;
  /** Experts this process serves (policy-facing names). Default: all in the registry. */
  experts?: string[];
  /** Max model calls one skill run may make. Default: the skill's own (8; the release's skills 64). */
  maxCallsPerSkill?: number;
  /** Wall-clock limit of one skill run (ms). Default: the skill's own (300 000; the release's skills 1 800 000). */
  skillTimeoutMs?: number;
  /** Backoff base and cap for retryable failures (ms). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/**
 * Exponential backoff with full jitter, or the server's `retry-after` when it gave one.
 * Exported for tests.
 */
export function expertBackoff(attemptsMade: number, err: unknown, baseMs = 500, maxMs = 30_000): number {
  if (err instanceof RetryableError && err.retryAfterMs !== undefined)
    return Math.min(err.retryAfterMs, maxMs * 4);
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/** The pool's skill runtime: auxiliary services through a Redis semaphore per service (cluster-wide cap). */
function poolSkillRuntime(opts: ExpertPoolOptions): SkillRuntime {
  return new SkillRuntime({
    registry: opts.registry,
    store: opts.store,
    clients: new ClientCache(),
    // A dead process's service slots come back on the same timescale as its jobs' locks.
    limiter: new RedisLimiter(opts.connection, opts.prefix, { leaseMs: opts.lockDuration ?? 15_000 }),
    // Unset: each skill's own default budget (8 calls; the release's skills more).
    ...(opts.maxCallsPerSkill ? { maxCalls: opts.maxCallsPerSkill } : {}),
    ...(opts.skillTimeoutMs ? { timeoutMs: opts.skillTimeoutMs } : {}),
  });
}

/**
 * Expert pool: one BullMQ worker per expert queue, with worker concurrency = capacity and
 * the queue's global concurrency = capacity, so the endpoint never has more requests in
 * flight than its capacity however many pool processes run on however many hosts.
 */
export async function startExpertPool(opts: ExpertPoolOptions) {
  const { registry, store } = opts;
  const selected: Expert[] = opts.experts?.length
    ? opts.experts.map((n) => registry.expert(n))
    : registry.experts;
  const skills = poolSkillRuntime(opts);
  if (registry.dispatch === 'await') await preloadReply(opts.connection);

  async function run(expert: Expert, job: Job): Promise<ExpertJobResult> {
    const parsed = ExpertJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid expert job payload: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    const item = await store.item(data.benchmark, data.itemId);
    const skillName =
      data.skill === DIRECT_SKILL ? DIRECT_SKILL : (registry.findSkill(data.skill)?.name ?? data.skill);
    try {
      const out = await skills.run({
        expert,
        skill: data.skill,
        input: data.input,
        item,
        images: data.images,
        headers: traceHeaders(item, skillName, data.seed),
        ...(data.model ? { model: data.model } : {}),
      });
      return {
        text: clipTail(out.text),
        calls: withEarlierAttempts(out.calls, data.earlier),
        latencyMs: out.latencyMs,
      };
    } catch (err) {
      if (err instanceof MaestroError && !err.retryable) throw new UnrecoverableError(describeError(err));
      await noteFailedAttempt(job, data, err, callsBeforeFailure(err));
      throw err;
    }
  }

  /** run() with metrics and, for adaptive experts, a report to the cluster-wide controller. */
  async function observed(expert: Expert, job: Job, adaptive: AdaptiveController | undefined) {
    const raw = typeof job.data?.skill === 'string' ? job.data.skill : '';
    const skill = raw === DIRECT_SKILL ? raw : (registry.findSkill(raw)?.name ?? 'unknown');
    const end = expertJobStarted(expert.name, skill);
    const epoch = adaptive?.epoch ?? 0;
    const report = (sample: { latencyMs?: number; error?: boolean }) =>
      adaptive
        ?.observe({ epoch, ...sample })
        .catch((err) => console.error(`[adaptive ${expert.name}] ${describeError(err)}`));
    try {
      const out = await run(expert, job);
      end('ok', out.calls);
      const latencyMs = expertCallLatency(out.calls);
      if (latencyMs !== undefined) void report({ latencyMs });
      return out;
    } catch (err) {
      end('error');
      if (err instanceof MaestroError && err.retryable) void report({ error: true });
      throw err;
    }
  }

  const started: Array<Awaited<ReturnType<typeof serveExpert>>> = [];
  for (const expert of selected)
    started.push(await serveExpert(expert, opts, (job, c) => observed(expert, job, c)));
  const workers = started.map((s) => s.worker);

  return {
    workers,
    experts: selected.map((e) => e.name),
    async close() {
      await Promise.all(started.map((s) => s.close()));
      await skills.limiter.close();
    },
  };
}

/**
 * A job an orchestrator awaits (`replyTo`, registry `dispatch: await`) has its result, or
 * its final failure, stored and sent back before the job completes or fails; such a job
 * completes with no return value. Exported for tests.
 */
export function replying(
  opts: Pick<ExpertPoolOptions, 'connection' | 'prefix'>,
  process: (job: Job) => Promise<ExpertJobResult>,
): (job: Job) => Promise<ExpertJobResult | null> {
  return async (job) => {
    const replyTo = ExpertJobData.shape.replyTo.safeParse(job.data?.replyTo).data;
    const rolloutId = typeof job.data?.rolloutId === 'string' ? job.data.rolloutId : undefined;
    if (!replyTo || !rolloutId || !job.id) return process(job);
    const target = { rolloutId, replyTo, jobId: job.id };
    let out: ExpertJobResult;
    try {
      out = await process(job);
    } catch (err) {
      const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // The failure's reason is the job's (the queue's failedReason): the error's message.
      if (final) {
        const reason = err instanceof Error ? err.message : String(err);
        // Not sent: the job still fails, and the orchestrator finds it failed when it looks.
        await sendReply(opts.connection, opts.prefix, target, { failed: reason }).catch(() => {});
      }
      throw err;
    }
    // Not awaited: BullMQ completes the job with a command on this same connection, which
    // Redis runs after the reply's script, so the reply is stored before the job completes
    // without a round trip of its own. A reply that could not be stored leaves a completed
    // job without one: the awaiting orchestrator finds it gone and adds the call once more.
    sendReply(opts.connection, opts.prefix, target, { ok: out }).catch((err) =>
      console.error(`[expert] reply to ${target.replyTo} for ${target.jobId}: ${describeError(err)}`),
    );
    // The result travels in the reply: as the job's return value it would go to Redis twice
    // more (the job's hash, the queue's event stream) for nobody to read.
    return null;
  };
}

/**
 * One expert's queue and worker. The cluster-wide cap is the capacity, or the shared
 * adaptive limit (never above the capacity).
 */
async function serveExpert(
  expert: Expert,
  opts: ExpertPoolOptions,
  run: (job: Job, adaptive: AdaptiveController | undefined) => Promise<ExpertJobResult>,
) {
  const name = expertQueueName(expert.name);
  const queue = new Queue(name, { connection: opts.connection, prefix: opts.prefix });
  const adaptive = await startAdaptive(opts.connection, opts.prefix, expert, queue);
  if (adaptive) {
    adaptiveSet(expert.name, adaptive.controller.limit);
    adaptive.controller.onChange((d) => adaptiveChanged(expert.name, d.limit, d.reason));
  } else await queue.setGlobalConcurrency(expert.capacity);
  const worker = new EagerWorker(
    name,
    replying(
      opts,
      redacting((job: Job) => run(job, adaptive?.controller)),
    ),
    {
      ...bullOptions(opts),
      concurrency: expert.capacity,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          expertBackoff(attemptsMade, err, opts.backoffBaseMs, opts.backoffMaxMs),
      },
    },
  );
  worker.on('error', (err) => console.error(`[expert ${expert.name}] ${describeError(err)}`));
  watchWorker(worker, name);
  return {
    worker,
    async close() {
      adaptive?.stop();
      await worker.close();
      await queue.close();
    },
  };
}
