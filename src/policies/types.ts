import type { Redis } from 'ioredis';
import type { Action, Item, Step } from '../core/items.ts';
import type { Registry } from '../core/registry.ts';
import type { PolicySpec } from '../core/sweep.ts';
import type { ClientCache } from '../models/client.ts';

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
  /** Shared state for learning policies (bandit). */
  redis: Redis;
  prefix: string;
}

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

/** One call of a fan-out (oracle): every (expert, skill) pair on the item. */
export interface FanOutCall {
  model: string;
  skill: string;
  input: string;
}

/** A policy decides the next action from the state of a rollout. */
export interface Policy {
  decide(ctx: PolicyContext): Promise<PolicyDecision>;
  /**
   * Called before a new rollout's first decision: 0 to go ahead, or a delay in ms after
   * which to ask again (the rollout waits in the delayed set, holding no slot).
   */
  admit?(ctx: PolicyContext): Promise<number>;
  /** Policies that run several calls at once on turn 0 (oracle) return them here. */
  fanOut?(ctx: PolicyContext): FanOutCall[];
}

/** A policy kind, gathered by src/policies/index.ts. */
export interface PolicyDefinition {
  kind: PolicySpec['kind'];
  description: string;
  /** Whether it calls a policy endpoint (vs deciding in-process). */
  usesEndpoint: boolean;
  create(spec: PolicySpec, registry: Registry): Policy;
}
