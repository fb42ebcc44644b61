import type { Redis } from 'ioredis';
import { loadLua, runLua } from './lua.ts';
import { keys } from './queues.ts';
import type { PauseOnErrors } from './sweep.ts';

/**
 * Sweep guards shared by workers (which trip them) and the command line (which shows and
 * clears them): the error threshold that pauses a sweep. A paused sweep keeps finishing the
 * rollouts already in flight; orchestrators delay the ones that have not started.
 */

/** Why a sweep is paused, as stored in `sweep:<id>:paused`. */
export interface PauseInfo {
  reason: string;
  /** ISO time the pause was set. */
  at: string;
}

/** How long an orchestrator delays a not-yet-started rollout of a paused sweep before looking again (ms). */
export const PAUSED_RECHECK_MS = 10_000;

/** Count a record, push its outcome, keep the last `window`, and count errors among them (atomic). */
const COUNT_RECORD = loadLua(import.meta.url, './guards-count-record.lua');

export async function readPause(conn: Redis, prefix: string, sweepId: string): Promise<PauseInfo | null> {
  const raw = await conn.get(keys.paused(prefix, sweepId));
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<PauseInfo>;
    return { reason: String(parsed.reason ?? raw), at: String(parsed.at ?? '') };
  } catch {
    return { reason: raw, at: '' };
  }
}

/**
 * Counts a finished item's durable record in Redis in one atomic step (one round trip): its
 * scored count and compact result (`done`), and, under an error threshold, its status among
 * the sweep's last `rule.window`. When more than `rule.rate` of those are errors, pauses the
 * sweep (once: the first writer's reason stays) and returns the pause. When the rollout was
 * counted already, nothing changes and `taken` is the counted record's compact result,
 * unless that result is this one's: the count is then taken as done (a count resent after a
 * dropped connection finds its own first run), and `taken` is null.
 */
export async function countRecord(
  conn: Redis,
  prefix: string,
  sweepId: string,
  record: { rolloutId: string; compact: string; status: string; error?: string | undefined },
  rule: PauseOnErrors | undefined,
): Promise<{ taken: string | null; paused: PauseInfo | null }> {
  const [errors, seen, prior] = (await runLua(
    conn,
    COUNT_RECORD,
    [keys.scored(prefix, sweepId), keys.done(prefix, sweepId), keys.recent(prefix, sweepId)],
    [record.rolloutId, record.compact, record.status === 'error' ? 'error' : 'ok', String(rule?.window ?? 0)],
  )) as [number, number, string?];
  if (errors < 0) return { taken: prior ?? '', paused: null };
  return { taken: null, paused: await pauseIfOver(conn, prefix, sweepId, record, rule, errors, seen) };
}

/** Pauses the sweep when the recent outcomes are over its error threshold (once). */
async function pauseIfOver(
  conn: Redis,
  prefix: string,
  sweepId: string,
  record: { error?: string | undefined },
  rule: PauseOnErrors | undefined,
  errors: number,
  seen: number,
): Promise<PauseInfo | null> {
  if (!rule || seen < rule.window || errors <= rule.rate * seen) return null;
  const info: PauseInfo = {
    reason: `${errors} of the last ${seen} finished items are errors (threshold ${Math.round(rule.rate * 100)} %)${
      record.error ? `; latest: ${record.error.slice(0, 300)}` : ''
    }`,
    at: new Date().toISOString(),
  };
  const set = await conn.set(keys.paused(prefix, sweepId), JSON.stringify(info), 'NX');
  return set === 'OK' ? info : null;
}

/** Lifts a pause and forgets the recent outcomes (so old errors do not pause it again). */
export async function clearPause(conn: Redis, prefix: string, sweepId: string): Promise<boolean> {
  const [[, removed] = [null, 0]] = ((await conn
    .multi()
    .del(keys.paused(prefix, sweepId))
    .del(keys.recent(prefix, sweepId))
    .exec()) ?? []) as Array<[Error | null, number]>;
  return removed === 1;
}
