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
 * A protocol profile: how turns are budgeted and what the policy is told when a turn is
 * malformed. `chat` is the OpenAI-style chat protocol every policy speaks today.
 */
export interface ProtocolProfile {
  name: 'chat';
  /** Policy generations per rollout, the answer included. */
  maxTurns: number;
  /** Wall-clock budget per item (ms), checked at every activation. */
  budgetMs?: number;
  /** What the policy is told after a turn that is neither a valid call nor an answer. */
  malformed(reason: string): string;
  unknownModel(name: string, offered: string[]): string;
  unknownSkill(name: string, offered: string[]): string;
}

export interface EngineConfig {
  profile: ProtocolProfile;
  names: NameResolver;
}
