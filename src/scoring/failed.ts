import { FAILED_OUTRIGHT, type FailedItem } from '../core/failed.ts';
import type { ItemRecord } from '../core/items.ts';

/**
 * A failed rollout as the record the tables count: an error (with its cause), never a
 * missing row. It follows the convention for errors in every table, and the "(k err)"
 * marker shows it.
 */
export function failedRecord(f: FailedItem): ItemRecord {
  return {
    v: 1,
    sweepId: f.sweepId,
    rolloutId: f.rolloutId,
    policy: f.policy,
    benchmark: f.benchmark,
    itemId: f.itemId,
    seed: f.seed,
    sample: f.sample,
    status: 'error',
    rawOutput: '',
    extracted: null,
    correct: false,
    score: 0,
    scoreReason: FAILED_OUTRIGHT,
    error: `${FAILED_OUTRIGHT}: ${f.cause}`,
    steps: [],
    latencyMs: 0,
    policyLatencyMs: 0,
    expertLatencyMs: 0,
    expertCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    startedAt: f.failedAt,
    finishedAt: f.failedAt,
  };
}

/** Whether a record stands for a rollout that failed outright (see failedRecord). */
export function isFailedOutright(r: ItemRecord): boolean {
  return r.status === 'error' && r.scoreReason === FAILED_OUTRIGHT;
}

/** The items.jsonl line of a record: a failed rollout reads `status: "failed"` with its cause. */
export function itemLine(r: ItemRecord): string {
  if (isFailedOutright(r)) {
    const cause = (r.error ?? '').replace(`${FAILED_OUTRIGHT}: `, '');
    return `${JSON.stringify({ ...r, status: 'failed', cause })}\n`;
  }
  return `${JSON.stringify(r)}\n`;
}
