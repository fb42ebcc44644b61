import type { ItemRecord } from '../../src/core/items.ts';

/** A valid record of an answered rollout (sweep `s`, rollout `r1`), with `over` on top. */
export function itemRecord(over: Partial<ItemRecord> = {}): ItemRecord {
  const at = new Date(0).toISOString();
  return {
    v: 1,
    sweepId: 's',
    rolloutId: 'r1',
    policy: 'direct:A',
    benchmark: 'alpha',
    itemId: 'i1',
    seed: 0,
    sample: 0,
    status: 'answered',
    rawOutput: '1',
    extracted: '1',
    correct: true,
    score: 1,
    scoreReason: 'exact',
    steps: [],
    latencyMs: 1,
    policyLatencyMs: 0,
    expertLatencyMs: 0,
    expertCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    startedAt: at,
    finishedAt: at,
    ...over,
  };
}
