import { slug } from './hash.ts';

/** Queue of rollout jobs (one per item × policy × seed), served by orchestrator workers. */
export const ROLLOUT_QUEUE = 'rollouts';
/** Queue of scoring jobs (one per finished rollout), served by scorer workers. */
export const SCORE_QUEUE = 'scoring';

/** One queue per expert endpoint: its global concurrency is the endpoint's capacity. */
export function expertQueueName(expertName: string): string {
  return `expert.${slug(expertName)}`;
}

/**
 * Default key prefix. The braces are a Redis Cluster hash tag: every key of the cluster
 * lands in one slot, so Lua scripts that touch several queues work on Redis Cluster,
 * Dragonfly and Valkey.
 */
export const DEFAULT_PREFIX = '{maestro}';

/** Keys the project keeps beside BullMQ's own. */
export const keys = {
  sweeps: (prefix: string) => `${prefix}:sweeps`,
  sweep: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}`,
  /** Hash rolloutId → compact result `status|correct|benchmark|policy`, written once per item. */
  done: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:done`,
  /** Hash rolloutId → how many times a record was written for it (1 when all is well). */
  scored: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:scored`,
  /** String (JSON): why the sweep is paused; absent while it runs. */
  paused: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:paused`,
  /**
   * Hash `benchmark|policy` → rollouts submitted for that cell (the largest submission: filters
   * choose a prefix of the items, so the union of submissions is the largest one).
   */
  submitted: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:submitted`,
  /** String (JSON): the sweep's run on this cluster (see producer/run.ts). */
  run: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:run`,
  /** List of the statuses of the last finished items (newest first), for the error threshold. */
  recent: (prefix: string, sweepId: string) => `${prefix}:sweep:${sweepId}:recent`,
  /**
   * Hash expert job id → reply (JSON), for a rollout's awaited calls (registry `dispatch:
   * await`): written by the pool before the job completes, read back after a crash.
   */
  awaited: (prefix: string, rolloutId: string) => `${prefix}:awaited:${rolloutId}`,
  /** List of `jobId\nreply` sent to one orchestrator process that awaits calls. */
  replies: (prefix: string, listener: string) => `${prefix}:replies:${listener}`,
};

/** Deterministic job ids. BullMQ forbids ':' in custom ids; `slug` keeps them safe. */
export const jobIds = {
  rollout: (
    sweepShort: string,
    benchmark: string,
    policy: string,
    itemId: string,
    seed: number,
    sample = 0,
  ) =>
    `${sweepShort}.${slug(benchmark, 24)}.${slug(policy, 40)}.${slug(itemId, 40)}.s${seed}${sample ? `.n${sample}` : ''}`,
  step: (rolloutId: string, turn: number, call = 0) => `${rolloutId}.t${turn}${call ? `.c${call}` : ''}`,
  score: (rolloutId: string) => `${rolloutId}.score`,
};
