import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { slug } from '../core/hash.ts';
import { keys, ROLLOUT_QUEUE } from '../core/queues.ts';
import type { DataStore } from '../data/store.ts';

/** What discarding a sweep removes (or would remove). */
export interface DiscardPlan {
  sweepId: string;
  /** Jobs of the sweep, queue → ids (rollouts, expert calls, scoring). */
  jobs: Map<string, string[]>;
  /** The sweep's own keys (metadata, indexes, pause, run, bandit state). */
  keys: string[];
  /** Record files in the data directory. */
  records: number;
}

export interface DiscardResult {
  removedJobs: number;
  /** Jobs an active worker holds (locked): not removed; run the command again later. */
  busy: string[];
  removedKeys: number;
  removedRecords: number;
}

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function scanKeys(conn: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}

/**
 * Finds everything a sweep owns: its jobs on every queue (job ids start with the sweep id),
 * its keys, and its records. `keepMeta` (a reset) leaves the sweep's metadata registered.
 */
export async function planDiscard(
  conn: Redis,
  prefix: string,
  store: DataStore,
  sweepId: string,
  keepMeta: boolean,
): Promise<DiscardPlan> {
  const jobs = new Map<string, string[]>();
  const head = `${prefix}:`;
  for (const key of await scanKeys(conn, `${globEscape(head)}*:${globEscape(slug(sweepId, 64))}.*`)) {
    const [queue, jobId] = key.slice(head.length).split(':');
    if (!queue || !jobId || queue === 'sweep' || queue === 'bandit') continue;
    const ids = jobs.get(queue) ?? [];
    if (!ids.includes(jobId)) ids.push(jobId);
    jobs.set(queue, ids);
  }
  const own = [
    ...(await scanKeys(conn, `${globEscape(keys.sweep(prefix, sweepId))}:*`)),
    ...(await scanKeys(conn, `${globEscape(`${prefix}:bandit:${sweepId}`)}:*`)),
  ];
  if (!keepMeta && (await conn.exists(keys.sweep(prefix, sweepId)))) own.push(keys.sweep(prefix, sweepId));
  return { sweepId, jobs, keys: own, records: (await store.readRecords(sweepId).catch(() => [])).length };
}

/**
 * Removes what `planDiscard` found: jobs (rollouts first, with their children), keys, and
 * in the data directory the records, report and run marker (a reset keeps sweep.json; a
 * removal deletes the sweep's folder).
 */
export async function discardSweep(
  conn: Redis,
  prefix: string,
  store: DataStore,
  plan: DiscardPlan,
  keepMeta: boolean,
): Promise<DiscardResult> {
  const result: DiscardResult = { removedJobs: 0, busy: [], removedKeys: 0, removedRecords: plan.records };
  const order = [...plan.jobs.keys()].sort((a, b) =>
    a === ROLLOUT_QUEUE ? -1 : b === ROLLOUT_QUEUE ? 1 : 0,
  );
  for (const name of order) {
    const queue = new Queue(name, { connection: conn, prefix });
    try {
      for (const id of plan.jobs.get(name) ?? []) {
        try {
          const removed = await queue.remove(id, { removeChildren: true });
          if (removed) result.removedJobs++;
          else if (await conn.exists(`${prefix}:${name}:${id}`)) result.busy.push(`${name}/${id}`);
        } catch {
          result.busy.push(`${name}/${id}`);
        }
      }
    } finally {
      await queue.close();
    }
  }
  if (plan.keys.length) result.removedKeys = await conn.del(...plan.keys);
  if (!keepMeta) await conn.srem(keys.sweeps(prefix), plan.sweepId);
  const dir = store.sweepDir(plan.sweepId);
  if (keepMeta) {
    for (const sub of ['records', 'report', 'failed', 'run.json'])
      await rm(join(dir, sub), { recursive: true, force: true });
  } else await rm(dir, { recursive: true, force: true });
  return result;
}
