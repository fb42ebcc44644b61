import type { Redis } from 'ioredis';
import type { CandidateVerdict, Item, RolloutStatus, ScoreResult, Step } from '../core/items.ts';
import type { Registry } from '../core/registry.ts';
import type { PolicySpec } from '../core/sweep.ts';
import type { ClientCache } from '../models/client.ts';
import type { PolicyReply } from '../rollout/index.ts';

export type { FanOutCall, PolicyDecision, PolicyReply } from '../rollout/index.ts';

export interface PolicyContext {
  spec: PolicySpec;
  registry: Registry;
  item: Item;
  /** The item's benchmark domain (chart, math, counting, …) from the catalog. */
  domain: string;
  steps: Step[];
  turn: number;
  seed: number;
  sweepId: string;
  rolloutId: string;
  /** Loads the item's images as data URLs (only policies that look at images call it). */
  images(): Promise<string[]>;
  clients: ClientCache;
  headers: Record<string, string>;
}

/** How a rollout ended, told to the policy once it is scored. */
export interface Outcome {
  sweepId: string;
  rolloutId: string;
  status: RolloutStatus;
  correct: boolean;
}

/** A policy decides the next action from the state of a rollout. */
export interface Policy {
  /** The next turn, or (first turn only) a fan-out over several (expert, skill) pairs. */
  decide(ctx: PolicyContext): Promise<PolicyReply>;
  /**
   * Called before a new rollout's first decision: 0 to go ahead, or a delay in ms after
   * which to ask again (the rollout waits in the delayed set, holding no slot).
   */
  admit?(ctx: PolicyContext): Promise<number>;
  /** Called after the rollout is scored (at least once: it must be idempotent). */
  onOutcome?(outcome: Outcome): Promise<void>;
  /** A fan-out policy's verdict over its pairs' verdicts. */
  combine?(verdicts: CandidateVerdict[]): ScoreResult;
  /** A fan-out policy's answer from one pair's output (what is scored for that pair). */
  answerOf?(output: string): string;
  /** The protocol profile its rollouts follow (src/rollout). Default `chat`. */
  profile?: 'chat' | 'release';
}

/** The policy's training prompt, read from the user's copy of the release's data. */
export interface ReleasePromptTexts {
  system: string;
  /** What follows the question in the user turn. */
  userSuffix: string;
  /** Where the texts came from. */
  source: string;
  /** The release commit they came from, when known. */
  commit?: string;
}

/** Shared services a policy may declare it needs. */
export interface PolicyDeps {
  /** State shared by every worker on every host (learning policies). */
  shared?: { redis: Redis; prefix: string };
  /** The release prompt, when the user gave their copy of the release's data. */
  releasePrompt?: () => Promise<ReleasePromptTexts | undefined>;
}

/** A policy kind, gathered by src/policies/index.ts. */
export interface PolicyDefinition {
  kind: PolicySpec['kind'];
  description: string;
  /** Whether it calls a policy endpoint (vs deciding in-process). */
  usesEndpoint: boolean;
  /** Shared services it needs; only these are passed to `create`. */
  needs?: { shared?: boolean };
  create(spec: PolicySpec, registry: Registry, deps: PolicyDeps): Policy;
}
