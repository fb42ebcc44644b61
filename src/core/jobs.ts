import { z } from 'zod';
import {
  ATTEMPT_ERROR_CHARS,
  CallTrace,
  ImageRef,
  MAX_ATTEMPT_ERRORS,
  RolloutStatus,
  Step,
} from './items.ts';

/**
 * Job payloads. Workers parse them with these schemas when they take a job (a trust
 * boundary: anything may have written to Redis). Payloads hold references and bounded
 * text only: never image bytes.
 */

/** Max characters of one text field stored in a job (policy turn, skill input or output). */
export const MAX_JOB_TEXT = 8_000;

/**
 * Byte limits of job payloads, passed to BullMQ as the `sizeLimit` job option (checked when a
 * job is added). Texts are bounded (MAX_JOB_TEXT) and images are references, so a payload over
 * its limit is a bug or hostile input, refused before it reaches Redis. The rollout limit is
 * also checked by the orchestrator before every state save (BullMQ checks only at add time).
 */
export const JOB_SIZE_LIMITS = {
  /** Rollout: ids plus the state (up to maxTurns steps of bounded texts). */
  rollout: 2 * 1024 * 1024,
  /** Expert call: the policy's input and the item's image references. */
  expert: 128 * 1024,
  /** Scoring: two ids. */
  score: 4 * 1024,
} as const;

/**
 * A call the rollout waits for: an expert call (one skill call, or one of a fan-out) or the
 * scoring of the finished rollout. Saved in the state before it is enqueued, so a crash
 * between "decide" and "enqueue" re-adds it on resume; the queue, job id and payload are
 * derived from it deterministically by the orchestrator.
 */
export const PendingCall = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('expert'),
    turn: z.number().int().nonnegative(),
    /** 0 for a policy's single call; 1..n for the calls of a fan-out. */
    call: z.number().int().nonnegative(),
    expert: z.string().min(1),
    skill: z.string().min(1),
    input: z.string(),
    /** Served model name to send instead of the expert's (direct baselines through a gateway). */
    model: z.string().optional(),
  }),
  z.object({ kind: z.literal('score') }),
]);
export type PendingCall = z.infer<typeof PendingCall>;
export type ExpertCall = Extract<PendingCall, { kind: 'expert' }>;

/** One answer of a fan-out policy (oracle): each (expert, skill) pair's output. */
export const Candidate = z.object({
  expert: z.string(),
  skill: z.string(),
  rawOutput: z.string(),
  error: z.string().optional(),
});
export type Candidate = z.infer<typeof Candidate>;

export const RolloutState = z.object({
  phase: z.enum(['policy', 'scoring', 'done']).default('policy'),
  turn: z.number().int().nonnegative().default(0),
  steps: z.array(Step).default([]),
  /** Children being waited for (one skill call, a fan-out, or the scoring job). */
  pending: z.array(PendingCall).default([]),
  candidates: z.array(Candidate).optional(),
  /**
   * A fan-out's shared input (bounded), stored once: its steps and pending calls then hold an
   * empty input instead of one copy each.
   */
  fanOutInput: z.string().max(MAX_JOB_TEXT).optional(),
  /** Facts a policy recorded about its decisions (bandit arm and order, rules rule). */
  policyMeta: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  startedAt: z.string().optional(),
  status: RolloutStatus.optional(),
  rawOutput: z.string().optional(),
  error: z.string().optional(),
});
export type RolloutState = z.infer<typeof RolloutState>;

export const RolloutJobData = z.object({
  v: z.literal(1),
  sweepId: z.string().min(1),
  rolloutId: z.string().min(1),
  /** Policy key as the sweep names it: `maestro`, `random`, `direct:GLM-4.6V-Flash`, … */
  policy: z.string().min(1),
  benchmark: z.string().min(1),
  itemId: z.string().min(1),
  seed: z.number().int(),
  /** Sample index when a policy draws several rollouts per item and seed. */
  sample: z.number().int().nonnegative().default(0),
  state: RolloutState.default({ phase: 'policy', turn: 0, steps: [], pending: [] }),
});
export type RolloutJobData = z.infer<typeof RolloutJobData>;

/** An earlier attempt of an expert job that failed: its error and the calls it had sent. */
export const EarlierAttempt = z.object({
  error: z.string().max(ATTEMPT_ERROR_CHARS),
  calls: z
    .array(
      z.object({
        service: z.string(),
        ok: z.boolean(),
        attempts: z.number().int().positive().optional(),
        attemptErrors: z.array(z.string().max(ATTEMPT_ERROR_CHARS)).max(MAX_ATTEMPT_ERRORS).optional(),
        error: z.string().max(ATTEMPT_ERROR_CHARS).optional(),
      }),
    )
    .max(64),
});
export type EarlierAttempt = z.infer<typeof EarlierAttempt>;

export const ExpertJobData = z.object({
  v: z.literal(1),
  sweepId: z.string(),
  rolloutId: z.string(),
  turn: z.number().int().nonnegative(),
  /** Registry expert name. */
  expert: z.string().min(1),
  /** Registry skill name, or `direct` for a baseline's direct question. */
  skill: z.string().min(1),
  /** Served model name to send instead of the expert's (direct baselines through a gateway). */
  model: z.string().optional(),
  input: z.string().max(MAX_JOB_TEXT),
  benchmark: z.string(),
  itemId: z.string(),
  images: z.array(ImageRef).max(64),
  seed: z.number().int(),
  /** Earlier attempts of this job that failed (written by the expert pool before a retry). */
  earlier: z.array(EarlierAttempt).max(MAX_ATTEMPT_ERRORS).optional(),
  /**
   * The orchestrator process awaiting this call (registry `dispatch: await`): the pool
   * stores the result under the rollout and sends it to this process's reply list.
   */
  replyTo: z
    .string()
    .regex(/^[\w.-]{1,120}$/)
    .optional(),
});
export type ExpertJobData = z.infer<typeof ExpertJobData>;

export const ExpertJobResult = z.object({
  text: z.string().max(MAX_JOB_TEXT),
  calls: z.array(CallTrace),
  latencyMs: z.number().nonnegative(),
});
export type ExpertJobResult = z.infer<typeof ExpertJobResult>;

export const ScoreJobData = z.object({
  v: z.literal(1),
  sweepId: z.string(),
  rolloutId: z.string(),
});
export type ScoreJobData = z.infer<typeof ScoreJobData>;

export const ScoreJobResult = z.object({
  status: RolloutStatus,
  correct: z.boolean(),
  score: z.number(),
});
export type ScoreJobResult = z.infer<typeof ScoreJobResult>;

/** The value of a rollout in its sweep's `done` hash: `status|correct|benchmark|policy`. */
export function compactResult(r: {
  status: string;
  correct: boolean;
  benchmark: string;
  policy: string;
}): string {
  return `${r.status}|${r.correct ? 1 : 0}|${r.benchmark}|${r.policy}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * Untrusted model text made safe to store: C0 control characters (other than tab and line
 * breaks) and DEL removed, then cut to `max` characters keeping the end.
 */
export function boundText(text: string, max = MAX_JOB_TEXT): string {
  return clipTail(text.replace(CONTROL_CHARS, ''), max);
}

/** Cuts text to `max` characters, keeping the end (where answers are) and marking the cut. */
export function clipTail(text: string, max = MAX_JOB_TEXT): string {
  if (text.length <= max) return text;
  const marker = '[…cut…]';
  return marker + text.slice(text.length - (max - marker.length));
}
