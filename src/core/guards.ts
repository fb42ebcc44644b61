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

/** Push one outcome, keep the last `window`, and count errors among them (atomic). */
const PUSH_AND_COUNT = loadLua(import.meta.url, './guards-push-and-count.lua');

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
 * Records a finished item's status for the error threshold. When more than `rule.rate` of the
 * last `rule.window` items are errors, pauses the sweep (once: the first writer's reason
 * stays) and returns the pause; otherwise null.
 */
export async function noteOutcome(
  conn: Redis,
  prefix: string,
  sweepId: string,
  rule: PauseOnErrors | undefined,
  outcome: { status: string; error?: string | undefined },
): Promise<PauseInfo | null> {
  if (!rule) return null;
  const [errors, seen] = (await runLua(
    conn,
    PUSH_AND_COUNT,
    [keys.recent(prefix, sweepId)],
    [outcome.status === 'error' ? 'error' : 'ok', String(rule.window)],
  )) as [number, number];
  if (seen < rule.window || errors <= rule.rate * seen) return null;
  const info: PauseInfo = {
    reason: `${errors} of the last ${seen} finished items are errors (threshold ${Math.round(rule.rate * 100)} %)${
      outcome.error ? `; latest: ${outcome.error.slice(0, 300)}` : ''
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
