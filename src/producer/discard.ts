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
 * The job-id head of jobs submitted before job ids carried the sweep id: the first 12
 * characters of the sweep's fingerprint, which end its id (`name-<fp12>`).
 */
export function legacyJobHead(sweepId: string): string | null {
  const tail = sweepId.split('-').at(-1) ?? '';
  return /^[0-9a-f]{12}$/.test(tail) ? tail : null;
}

/** Key families under the prefix that are not queues. */
const NOT_QUEUES = new Set(['sweep', 'bandit', 'awaited', 'replies']);

/** Adds `queue → jobId` for each job key (`prefix:queue:jobId[:suffix]`). */
function addJob(jobs: Map<string, string[]>, head: string, key: string): void {
  const [queue, jobId] = key.slice(head.length).split(':');
  if (!queue || !jobId || NOT_QUEUES.has(queue)) return;
  const ids = jobs.get(queue) ?? [];
  if (!ids.includes(jobId)) ids.push(jobId);
  jobs.set(queue, ids);
}

/**
 * Jobs with old-style ids (`<fp12>.…`): a renamed sweep of the same content shared them, so
 * a job counts as this sweep's when its payload names this sweep. Leftover keys of a job
 * whose hash is gone (a lock, logs) belong to nobody else: they are returned for deletion.
 */
async function legacyJobs(conn: Redis, prefix: string, sweepId: string, jobs: Map<string, string[]>) {
  const fp12 = legacyJobHead(sweepId);
  if (!fp12) return [];
  const head = `${prefix}:`;
  const orphans: string[] = [];
  const owner = new Map<string, string | null>();
  for (const key of await scanKeys(conn, `${globEscape(head)}*:${fp12}.*`)) {
    const [queue, jobId] = key.slice(head.length).split(':');
    if (!queue || !jobId || NOT_QUEUES.has(queue)) continue;
    const jobKey = `${head}${queue}:${jobId}`;
    if (!owner.has(jobKey)) owner.set(jobKey, await jobSweep(conn, jobKey));
    const of = owner.get(jobKey);
    if (of === sweepId) addJob(jobs, head, key);
    else if (of === null) orphans.push(key);
  }
  return orphans;
}

/** The sweep a job's payload names; null when the job hash is gone; '' when unreadable. */
async function jobSweep(conn: Redis, jobKey: string): Promise<string | null> {
  if ((await conn.type(jobKey)) !== 'hash') return null;
  try {
    const data = JSON.parse((await conn.hget(jobKey, 'data')) ?? 'null') as { sweepId?: unknown } | null;
    return typeof data?.sweepId === 'string' ? data.sweepId : '';
  } catch {
    return '';
  }
}

/**
 * Finds everything a sweep owns: its jobs on every queue (job ids start with the sweep id,
 * or with its fingerprint for jobs of older versions), its keys (the replies kept for its
 * rollouts included), and its records.
 * `keepMeta` (a reset) leaves the sweep's metadata registered.
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
  for (const key of await scanKeys(conn, `${globEscape(head)}*:${globEscape(slug(sweepId, 64))}.*`))
    addJob(jobs, head, key);
  const own = [
    ...(await legacyJobs(conn, prefix, sweepId, jobs)),
    ...(await scanKeys(conn, `${globEscape(keys.sweep(prefix, sweepId))}:*`)),
    ...(await scanKeys(conn, `${globEscape(`${prefix}:bandit:${sweepId}`)}:*`)),
    // Replies kept for rollouts still awaiting expert calls (dispatch: await).
    ...(await scanKeys(conn, `${globEscape(keys.awaited(prefix, slug(sweepId, 64)))}.*`)),
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
  // In chunks: one DEL of every key would hold Redis for as long, and a spread of hundreds of
  // thousands of arguments overflows the call stack.
  for (let i = 0; i < plan.keys.length; i += 1_000)
    result.removedKeys += await conn.del(...plan.keys.slice(i, i + 1_000));
  if (!keepMeta) await conn.srem(keys.sweeps(prefix), plan.sweepId);
  const dir = store.sweepDir(plan.sweepId);
  if (keepMeta) {
    for (const sub of ['records', 'report', 'failed', 'run.json'])
      await rm(join(dir, sub), { recursive: true, force: true });
  } else await rm(dir, { recursive: true, force: true });
  return result;
}
