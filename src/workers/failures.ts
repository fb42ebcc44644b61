import type { Job } from 'bullmq';
import { failureOfJob } from '../core/failed.ts';
import { redact } from '../core/redact.ts';
import type { DataStore } from '../data/store.ts';

/**
 * A rollout that failed for good is noted in the data directory (its cause included), so
 * that reports, which read only the data directory, count it. Retries are not noted.
 */
export async function noteFinalFailure(job: Job, store: DataStore): Promise<void> {
  if ((await job.getState()) !== 'failed') return;
  const failure = failureOfJob({ id: job.id, data: job.data, failedReason: redact(job.failedReason ?? '') });
  if (!failure) return;
  await store.writeFailure(failure);
  console.error(`[orchestrator] rollout ${failure.rolloutId} failed for good: ${failure.cause}`);
}
