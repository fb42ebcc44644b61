import type { Redis } from 'ioredis';
import { MaestroError } from '../core/errors.ts';
import { keys } from '../core/queues.ts';
import type { DataStore } from '../data/store.ts';
import type { SweepPlan } from '../producer/plan.ts';
import { adoptRecords, describeRun, recordsOrigin } from '../producer/run.ts';

/**
 * Before a sweep is submitted: records already in the data directory are kept only when
 * this cluster's run of the sweep wrote them, or when the user asks (`--reuse`). Either
 * way it is said. Records of another run (another prefix or Redis, or of unknown origin)
 * without `--reuse` stop the submission with what to do.
 */
export async function checkRunIdentity(
  conn: Redis,
  prefix: string,
  store: DataStore,
  plan: SweepPlan,
  opts: { reuse: boolean; dryRun: boolean; log: (line: string) => void },
): Promise<void> {
  const id = plan.meta.id;
  const origin = await recordsOrigin(conn, prefix, store, id);
  if (origin.records === 0) return;
  const where = `${store.sweepDir(id)}/records`;
  if (!origin.sameRun && !opts.reuse) {
    throw new MaestroError(
      `sweep ${id}: ${origin.records} records in ${where} come from another run (${describeRun(origin.writer)}), not from this cluster (prefix ${prefix})`,
      {
        hint: `pass --reuse to count them as results of this run, or discard them first with \`maestro-eval sweep reset ${id}\`; nothing was enqueued`,
      },
    );
  }
  if (opts.dryRun) {
    opts.log(`dry run: would keep ${origin.records} records in ${where} (${describeRun(origin.writer)})`);
    return;
  }
  // Same run with every record indexed already (the usual re-submission): nothing to adopt.
  const indexed = await conn.hlen(keys.done(prefix, id));
  const adopted =
    origin.sameRun && indexed >= origin.records ? 0 : await adoptRecords(conn, prefix, store, plan);
  opts.log(
    origin.sameRun
      ? `sweep ${id}: keeping ${origin.records} records of this run in ${where} (${adopted} re-counted as scored)`
      : `sweep ${id}: --reuse: re-using ${origin.records} records of another run (${describeRun(origin.writer)}); ${adopted} counted as scored, not run again`,
  );
}
