import { z } from 'zod';

/**
 * A rollout whose job failed for good (attempts exhausted, or a permanent failure before
 * any record was written): kept in the data directory (`sweeps/<id>/failed/<rollout>.json`)
 * so that reports, which read the data directory only, show it.
 */
export const FailedItem = z.object({
  v: z.literal(1),
  sweepId: z.string(),
  rolloutId: z.string(),
  policy: z.string(),
  benchmark: z.string(),
  itemId: z.string(),
  seed: z.number().int(),
  sample: z.number().int().nonnegative().default(0),
  /** The job's failure message (redacted). */
  cause: z.string(),
  failedAt: z.string(),
});
export type FailedItem = z.infer<typeof FailedItem>;

/** The `scoreReason` of the error record a failed item becomes in the tables. */
export const FAILED_OUTRIGHT = 'failed outright';

/** The failure note of a rollout job that failed for good, or null if its data is not a rollout's. */
export function failureOfJob(job: {
  id?: string | undefined;
  data: unknown;
  failedReason?: string;
}): FailedItem | null {
  const d = job.data as Record<string, unknown> | null;
  const parsed = FailedItem.safeParse({
    v: 1,
    sweepId: d?.sweepId,
    rolloutId: job.id ?? d?.rolloutId,
    policy: d?.policy,
    benchmark: d?.benchmark,
    itemId: d?.itemId,
    seed: d?.seed,
    sample: d?.sample ?? 0,
    cause: job.failedReason || 'failed (no reason recorded)',
    failedAt: new Date().toISOString(),
  });
  return parsed.success ? parsed.data : null;
}
