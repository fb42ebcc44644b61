import type { Action } from '../core/items.ts';
import type { ExpertCall, ExpertJobResult, RolloutState, ScoreJobResult } from '../core/jobs.ts';

/**
 * Types of the rollout engine: the events that drive a rollout, what the driver must do
 * next, and the parameters (protocol profile, name resolution) the engine is given.
 */

/** One policy turn, as the policy produced it. */
export interface PolicyDecision {
  /** The turn's text as the policy wrote it (complete tags). */
  text: string;
  action: Action;
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
  /**
   * For baselines that answer with an expert's raw output: the text the scorer extracts
   * from (the `<answer>` of `text` otherwise).
   */
  rawOutput?: string;
  /** direct: the served model name to send instead of the expert's own (API gateways). */
  modelOverride?: string;
  /** Facts about the decision kept on the record (e.g. the bandit's arm and decision order). */
  meta?: Record<string, string | number>;
  /**
   * `release` profile: `resample` when the protocol throws the generation away (it still
   * uses up a step), `stop` when the policy ended the trajectory without an answer.
   */
  turn?: 'resample' | 'stop';
}

/** One call of a fan-out: a policy that runs several (expert, skill) pairs at once. */
export interface FanOutCall {
  model: string;
  skill: string;
  input: string;
}

/** A policy's reply: one turn, or (first turn only) a fan-out over several pairs. */
export type PolicyReply = PolicyDecision | { fanOut: FanOutCall[] };

/** The outcome of one awaited call, in the order of `state.pending`. */
export type ChildResult =
  | { kind: 'expert'; out: ExpertJobResult }
  | { kind: 'scored'; result: ScoreJobResult }
  | { kind: 'failed'; reason: string };

export type RolloutEvent =
  /** The driver picked the rollout up (first time, after a wait, or after a crash). */
  | { type: 'activate'; now: number }
  | { type: 'policy-reply'; reply: PolicyReply }
  /** The policy failed for good (not retryable, or out of attempts). */
  | { type: 'policy-failed'; error: string }
  /** Every pending call settled. */
  | { type: 'children'; results: ChildResult[] }
  /** Some pending calls are not known to the queue (a crash between saving and enqueueing). */
  | { type: 'children-missing'; missing: number[] };

/** What the driver does next. */
export type Next =
  /** Ask the policy; `first` is the rollout's first decision (admission applies). */
  | { type: 'decide'; first: boolean }
  /** Run these expert calls (idempotently: a call may exist already), then report them. */
  | { type: 'call'; calls: ExpertCall[] }
  /** Report how the pending calls settled (`children` or `children-missing`). */
  | { type: 'resolve' }
  /** Score the finished rollout (the record is written), then report it. */
  | { type: 'score' }
  /** The rollout is over: its compact result. */
  | { type: 'finish'; result: ScoreJobResult }
  /** Something that must not happen did (e.g. the scoring child failed for good). */
  | { type: 'fail'; error: string };

export interface Transition {
  state: RolloutState;
  /** Whether the state must be persisted before `next` is carried out. */
  save: boolean;
  next: Next;
}

/** Resolves the names a policy wrote to registry names. */
export interface NameResolver {
  /** The registry name of an expert, or undefined when none matches. */
  expert(name: string): string | undefined;
  /** The registry name of a skill (or the direct skill), or undefined. */
  skill(name: string): string | undefined;
  offeredExperts(): string[];
  offeredSkills(): string[];
}

/**
 * A protocol profile: how turns are budgeted, and what the policy is told when a turn or a
 * call goes wrong.
 * - `chat`: the OpenAI-style chat protocol. `maxTurns` generations, the answer included;
 *   a malformed turn or an unknown name costs a turn and the policy is told why; a failed
 *   call makes the item an error.
 * - `release`: the public release's agent loop. Steps 0..`maxTurns` (so `maxTurns` calls
 *   at most, the last step cannot call); a thrown-away generation (`turn: 'resample'`)
 *   still uses up its step; name and format errors and failed calls become observations
 *   and the rollout goes on; an observation is the last `observationChars` characters.
 */
export type ProtocolProfile = ChatProfile | ReleaseProfile;

interface ProfileBase {
  /** Wall-clock budget per item (ms), checked at every activation. */
  budgetMs?: number;
  maxTurns: number;
}

export interface ChatProfile extends ProfileBase {
  name: 'chat';
  /** What the policy is told after a turn that is neither a valid call nor an answer. */
  malformed(reason: string): string;
  unknownModel(name: string, offered: string[]): string;
  unknownSkill(name: string, offered: string[]): string;
}

export interface ReleaseProfile extends ProfileBase {
  name: 'release';
  /** How many characters of a skill's output the policy sees (the end is kept). */
  observationChars: number;
  /** Observations for a call naming an unknown model or skill. */
  unknownModel: string;
  unknownSkill: string;
  /** The observation for a call that failed. */
  callFailed(reason: string): string;
}

export interface EngineConfig {
  profile: ProtocolProfile;
  names: NameResolver;
}
