import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { MaestroError } from '../core/errors.ts';
import { failureOfJob } from '../core/failed.ts';
import { ROLLOUT_QUEUE } from '../core/queues.ts';
import { redact } from '../core/redact.ts';
import type { DataStore } from '../data/store.ts';
import type { SweepPlan } from '../producer/plan.ts';
import { failedRollouts } from '../producer/progress.ts';

/** `sweep --wait` ends with a non-zero exit when rollouts of the plan failed outright. */
export class SweepFailedError extends MaestroError {}

/**
 * After `sweep --wait`: notes every rollout of the plan that failed outright in the data
 * directory (as orchestrators do; this catches one whose note was lost) and, if there is
 * any, fails with the count, a few causes and how to retry.
 */
export async function checkFailedOutright(
  conn: Redis,
  prefix: string,
  store: DataStore,
  plan: SweepPlan,
  file: string,
): Promise<void> {
  const inPlan = new Set(plan.rollouts.map((r) => r.rolloutId));
  const ids = [...(await failedRollouts(conn, prefix, plan.meta.id))].filter((id) => inPlan.has(id)).sort();
  if (ids.length === 0) return;
  const queue = new Queue(ROLLOUT_QUEUE, { connection: conn, prefix });
  const causes = new Map<string, number>();
  try {
    for (const id of ids) {
      const job = await Job.fromId(queue, id);
      if (!job) continue;
      const failure = failureOfJob({ id, data: job.data, failedReason: redact(job.failedReason ?? '') });
      if (!failure) continue;
      await store.writeFailure(failure);
      causes.set(failure.cause, (causes.get(failure.cause) ?? 0) + 1);
    }
  } finally {
    await queue.close();
  }
  const top = [...causes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([c, n]) => `${n}× ${c.slice(0, 200)}`)
    .join('; ');
  throw new SweepFailedError(
    `sweep ${plan.meta.id}: ${ids.length} of ${plan.rollouts.length} rollouts failed outright (${top}); the report counts them as failed, and as wrong in the accuracy`,
    { hint: `fix the cause, then re-run them with \`maestro-eval sweep ${file} --retry-errors --wait\`` },
  );
}
