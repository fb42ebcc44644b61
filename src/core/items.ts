import { z } from 'zod';
import { type Intern, noIntern } from './intern.ts';
import { JudgeTrace } from './judge.ts';

/** How an item's answer is shaped; decides the default metric. */
export const AnswerType = z.enum([
  'choice',
  'number',
  'integer',
  'text',
  'yesno',
  'list',
  'code',
  'expression',
]);
export type AnswerType = z.infer<typeof AnswerType>;

/** An image of an item, by content hash: the bytes live in the data directory, never in Redis. */
export const ImageRef = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character lowercase hex sha256'),
  mime: z.enum(['image/png', 'image/jpeg', 'image/webp', 'image/gif']),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type ImageRef = z.infer<typeof ImageRef>;

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** One benchmark item in the canonical format every importer produces. */
export const Item = z.object({
  id: z.string().min(1),
  benchmark: z.string().min(1),
  question: z.string().min(1),
  images: z.array(ImageRef).default([]),
  /** Multiple-choice options in order; labels are A, B, C, … unless given. */
  options: z.array(z.object({ label: z.string().min(1), text: z.string() })).optional(),
  /** Accepted answers (any one is correct). For choice items, the correct label first. */
  answers: z.array(z.string()).min(1),
  answerType: AnswerType,
  /** Benchmark-specific fields: precision, unit, tests, category, … */
  extra: z.record(z.string(), z.unknown()).default({}),
  /** The item's own full chat prompt, when its source format carries one (upstream verl rows). */
  prompt: z.array(ChatMessage).optional(),
});
export type Item = z.infer<typeof Item>;

/** A model call made while running a skill. */
export const CallTrace = z.object({
  service: z.string(),
  model: z.string(),
  latencyMs: z.number().nonnegative(),
  promptTokens: z.number().int().nonnegative().default(0),
  completionTokens: z.number().int().nonnegative().default(0),
  ok: z.boolean().default(true),
  error: z.string().optional(),
  note: z.string().optional(),
  /** The start of what the call returned (at most CALL_OUTPUT_CHARS characters). */
  output: z.string().optional(),
  /**
   * The images the call sent, by reference into the data directory's image store: the
   * item's own images and the derived ones (crops, drawn boxes), which the runtime stores.
   */
  images: z.array(ImageRef).optional(),
  /** Answered from the per-process cache of auxiliary results: no request was sent. */
  cached: z.boolean().optional(),
  /** Requests sent for this call: 1 plus its retries (absent: 1, or 0 when `cached`). */
  attempts: z.number().int().positive().optional(),
  /** Why each failed attempt failed, oldest first (at most MAX_ATTEMPT_ERRORS, clipped). */
  attemptErrors: z.array(z.string()).optional(),
});
/** Failed attempts a call's trace describes. */
export const MAX_ATTEMPT_ERRORS = 5;
/** How much of an attempt's error a trace keeps. */
export const ATTEMPT_ERROR_CHARS = 300;
/** How much of a call's output its trace keeps. */
export const CALL_OUTPUT_CHARS = 2000;
export type CallTrace = z.infer<typeof CallTrace>;

/** The action a policy turn ended in, after parsing. */
export const Action = z.discriminatedUnion('type', [
  z.object({ type: z.literal('search'), model: z.string(), skill: z.string(), input: z.string() }),
  z.object({ type: z.literal('answer'), answer: z.string() }),
  z.object({ type: z.literal('invalid'), reason: z.string() }),
]);
export type Action = z.infer<typeof Action>;

/** One turn of a rollout: what the policy said and, for a skill call, what came back. */
export const Step = z.object({
  turn: z.number().int().nonnegative(),
  policyText: z.string(),
  policyLatencyMs: z.number().nonnegative(),
  policyPromptTokens: z.number().int().nonnegative().default(0),
  policyCompletionTokens: z.number().int().nonnegative().default(0),
  action: Action,
  /** Resolved registry names when the call named a known expert and skill. */
  expert: z.string().optional(),
  skill: z.string().optional(),
  observation: z.string().optional(),
  /** Name error, malformed call, or a skill that failed: what the policy was told. */
  formatError: z.string().optional(),
  /**
   * A generation the protocol threw away and sampled again (the `release` profile: a first
   * turn without a complete `<search>`, a second with neither `<search>` nor `<answer>`).
   */
  resampled: z.boolean().optional(),
  expertLatencyMs: z.number().nonnegative().optional(),
  calls: z.array(CallTrace).default([]),
});
export type Step = z.infer<typeof Step>;

export const RolloutStatus = z.enum(['answered', 'no_answer', 'error']);
export type RolloutStatus = z.infer<typeof RolloutStatus>;

/** The outcome of scoring one prediction. */
export const ScoreResult = z.object({
  correct: z.boolean(),
  score: z.number().min(0).max(1),
  extracted: z.string().nullable(),
  reason: z.string(),
  /**
   * The rules that scored it: `official` (the benchmark's scorer of record). Absent means the
   * lenient metrics of src/scoring/metrics, as for every verdict written before modes existed.
   */
  mode: z.enum(['official', 'lenient']).optional(),
  /** The judge model's call behind this verdict, when a judge took part. */
  judge: JudgeTrace.optional(),
});
export type ScoreResult = z.infer<typeof ScoreResult>;

/** One pair's verdict in a fan-out (oracle) rollout. */
export const CandidateVerdict = z.object({
  expert: z.string(),
  skill: z.string(),
  extracted: z.string().nullable(),
  correct: z.boolean(),
  error: z.string().optional(),
  /** The judge model's call behind this pair's verdict, when a judge took part. */
  judge: JudgeTrace.optional(),
});
export type CandidateVerdict = z.infer<typeof CandidateVerdict>;

/** The durable per-item record: written before the rollout job completes; the source of every table. */
export const ItemRecord = z.object({
  v: z.literal(1),
  sweepId: z.string(),
  rolloutId: z.string(),
  policy: z.string(),
  benchmark: z.string(),
  itemId: z.string(),
  seed: z.number().int(),
  sample: z.number().int().nonnegative().default(0),
  status: RolloutStatus,
  /** Text the answer is extracted from: the policy's last turn, or a baseline's expert output. */
  rawOutput: z.string(),
  extracted: z.string().nullable(),
  correct: z.boolean(),
  score: z.number(),
  scoreReason: z.string(),
  /** The scoring mode of the verdict (see ScoreResult.mode); absent means lenient. */
  scoreMode: z.enum(['official', 'lenient']).optional(),
  /** The judge model's call behind the verdict (prompt hash, raw reply, what was read); absent without a judge. */
  judge: JudgeTrace.optional(),
  error: z.string().optional(),
  steps: z.array(Step),
  /** Fan-out policies (oracle): each pair's verdict. */
  candidates: z.array(CandidateVerdict).optional(),
  policyMeta: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** `release-reward`: the release's own reward function on the whole trajectory, beside the official verdict. */
  releaseReward: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('scored'), score: z.number(), correct: z.boolean(), fn: z.string() }),
      z.object({ kind: z.literal('unsupported'), reason: z.string() }),
    ])
    .optional(),
  latencyMs: z.number().nonnegative(),
  policyLatencyMs: z.number().nonnegative(),
  expertLatencyMs: z.number().nonnegative(),
  expertCalls: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type ItemRecord = z.infer<typeof ItemRecord>;

/**
 * A record without its long texts, for the report's tables and analytics: the answer text,
 * the policy's turns, observations, call outputs, images and attempt errors are emptied;
 * everything counted (status, verdicts, routing choices, calls, tokens, latencies) stays. A
 * sweep's records are held in memory this way (a tenth of the size, or less, for long
 * traces); the per-item file (items.jsonl) is written from the full records on disk.
 *
 * `intern` shares the values that repeat across a sweep's records (sweep id, policy,
 * benchmark, item id, verdict reason, model, skill and service names; see src/core/intern.ts);
 * `rolloutId`, when given, is the caller's instance of the record's own id (the record index's
 * key), used instead of the record's copy.
 */
export function slimRecord(r: ItemRecord, intern: Intern = noIntern, rolloutId?: string): ItemRecord {
  return {
    ...r,
    sweepId: intern(r.sweepId),
    rolloutId: rolloutId === r.rolloutId ? rolloutId : r.rolloutId,
    policy: intern(r.policy),
    benchmark: intern(r.benchmark),
    itemId: intern(r.itemId),
    scoreReason: intern(r.scoreReason),
    rawOutput: '',
    steps: r.steps.map((s) => ({
      ...s,
      policyText: '',
      action:
        s.action.type === 'search'
          ? { ...s.action, model: intern(s.action.model), skill: intern(s.action.skill), input: '' }
          : s.action.type === 'answer'
            ? { ...s.action, answer: '' }
            : s.action,
      ...(s.expert !== undefined ? { expert: intern(s.expert) } : {}),
      ...(s.skill !== undefined ? { skill: intern(s.skill) } : {}),
      ...(s.observation !== undefined ? { observation: '' } : {}),
      calls: s.calls.map(({ output: _o, images: _i, attemptErrors: _a, ...c }) => ({
        ...c,
        service: intern(c.service),
        model: intern(c.model),
        ...(c.note !== undefined ? { note: intern(c.note) } : {}),
      })),
    })),
  };
}
