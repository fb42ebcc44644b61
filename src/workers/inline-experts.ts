/**
 * Expert calls made by the orchestrator itself (registry `dispatch: inline`): no child job,
 * no expert queue, no second activation of the rollout. The endpoint's capacity is still
 * enforced cluster-wide, by a Redis semaphore per expert (src/models/limiter.ts) that every
 * orchestrator shares; a dead process's slots come back when their leases expire. Retries
 * are the expert pool's (same attempts, same backoff, the slot given back while waiting),
 * and failed attempts are merged into the trace the same way.
 *
 * A crash during a call loses nothing: the rollout's job stalls, runs again from its last
 * saved state and makes the call again, as a queue would run a child job again.
 */
import type { Redis } from 'ioredis';
import { DIRECT_SKILL } from '../../skills/index.ts';
import { describeError, MaestroError } from '../core/errors.ts';
import { type Item, MAX_ATTEMPT_ERRORS } from '../core/items.ts';
import { clipTail, type EarlierAttempt, type ExpertCall, type RolloutJobData } from '../core/jobs.ts';
import { redact, redactDeep } from '../core/redact.ts';
import type { Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import { expertJobStarted } from '../metrics/index.ts';
import { ClientCache } from '../models/client.ts';
import { traceHeaders } from '../models/headers.ts';
import { RedisLimiter } from '../models/limiter.ts';
import { type Slot, SlotReuse } from '../models/slot-reuse.ts';
import type { ChildResult } from '../rollout/index.ts';
import { callsBeforeFailure, SkillRuntime } from '../skills-runtime/runtime.ts';
import { policySeed } from './children.ts';
import type { HeldCalls } from './cluster-io.ts';
import { earlierAttempt, withEarlierAttempts } from './expert-attempts.ts';
import { expertBackoff } from './expert-pool.ts';

export interface InlineExpertsOptions {
  registry: Registry;
  store: DataStore;
  connection: Redis;
  prefix: string;
  /** Attempts per call (the expert pool's job attempts). Default 4. */
  attempts?: number;
  /** Lease of a capacity slot without renewal (ms); a dead process's slots free after it. Default 15 000. */
  leaseMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  maxCallsPerSkill?: number;
  skillTimeoutMs?: number;
}

/** The semaphore of an expert endpoint (kept apart from the auxiliary services' names). */
export function expertSlotName(expert: string): string {
  return `expert:${expert}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class InlineExperts implements HeldCalls {
  /** A rollout that runs again makes its calls again (none is kept). */
  readonly keepsResults = false;

  private readonly skills: SkillRuntime;
  private readonly limiter: RedisLimiter;
  /** Slots kept between calls of this process (fewer semaphore round trips under load). */
  readonly slots: SlotReuse;
  private readonly attempts: number;

  constructor(private readonly opts: InlineExpertsOptions) {
    this.limiter = new RedisLimiter(opts.connection, opts.prefix, { leaseMs: opts.leaseMs ?? 15_000 });
    this.skills = new SkillRuntime({
      registry: opts.registry,
      store: opts.store,
      clients: new ClientCache(),
      limiter: this.limiter,
      ...(opts.maxCallsPerSkill ? { maxCalls: opts.maxCallsPerSkill } : {}),
      ...(opts.skillTimeoutMs ? { timeoutMs: opts.skillTimeoutMs } : {}),
    });
    this.slots = new SlotReuse(this.limiter);
    this.attempts = Math.max(1, opts.attempts ?? 4);
  }

  /** Runs one pending expert call to its end: its output, or why it failed (never throws). */
  async run(call: ExpertCall, r: RolloutJobData, item: Item): Promise<ChildResult> {
    const expert = this.opts.registry.expert(call.expert);
    const skillName =
      call.skill === DIRECT_SKILL
        ? DIRECT_SKILL
        : (this.opts.registry.findSkill(call.skill)?.name ?? call.skill);
    const earlier: EarlierAttempt[] = [];
    for (let attempt = 1; ; attempt++) {
      const end = expertJobStarted(expert.name, skillName);
      let slot: Slot | undefined;
      try {
        // Waits for a slot as a queued call would wait for its turn (no deadline of its own:
        // the rollout's lock is renewed meanwhile).
        slot = await this.slots.take(expertSlotName(expert.name), expert.capacity, Number.POSITIVE_INFINITY);
        const out = await this.skills.run({
          expert,
          skill: call.skill,
          input: clipTail(call.input),
          item,
          images: item.images,
          headers: traceHeaders(item, skillName, policySeed(r)),
          ...(call.model ? { model: call.model } : {}),
        });
        end('ok', out.calls);
        return {
          kind: 'expert',
          out: redactDeep({
            text: clipTail(out.text),
            calls: withEarlierAttempts(out.calls, earlier),
            latencyMs: out.latencyMs,
          }),
        };
      } catch (err) {
        end('error');
        const retryable = !(err instanceof MaestroError && !err.retryable);
        // The reasons a failed child job carries: the description of a permanent error,
        // the message of the last retryable one.
        if (!retryable) return { kind: 'failed', reason: redact(describeError(err)) };
        if (attempt >= this.attempts)
          return { kind: 'failed', reason: redact(err instanceof Error ? err.message : String(err)) };
        earlier.push(earlierAttempt(err, callsBeforeFailure(err)));
        if (earlier.length > MAX_ATTEMPT_ERRORS) earlier.shift();
        await slot?.done();
        slot = undefined;
        await sleep(expertBackoff(attempt, err, this.opts.backoffBaseMs, this.opts.backoffMaxMs));
      } finally {
        await slot?.done();
      }
    }
  }

  async close(): Promise<void> {
    await this.slots.close();
    await this.limiter.close();
  }
}

/** The orchestrator's inline expert calls when its registry sets `dispatch: inline`. */
export function inlineExperts(opts: {
  registry: Registry;
  store: DataStore;
  connection: Redis;
  prefix: string;
  expertAttempts?: number | undefined;
  lockDuration?: number | undefined;
}): InlineExperts | undefined {
  if (opts.registry.dispatch !== 'inline') return undefined;
  return new InlineExperts({
    registry: opts.registry,
    store: opts.store,
    connection: opts.connection,
    prefix: opts.prefix,
    attempts: opts.expertAttempts ?? 4,
    ...(opts.lockDuration ? { leaseMs: opts.lockDuration } : {}),
  });
}

/**
 * Rollouts at once when they hold their expert calls: twice the experts' total capacity, so
 * that while some rollouts make their policy calls, score or write their records, others
 * wait for the freed expert slots (handed over in this process) and no endpoint idles.
 */
export function inlineConcurrency(registry: Registry): number {
  const total = registry.experts.reduce((sum, e) => sum + e.capacity, 0);
  return Math.max(16, Math.min(512, 2 * total));
}
