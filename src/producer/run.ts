import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { compactResult } from '../core/jobs.ts';
import { keys } from '../core/queues.ts';
import type { DataStore } from '../data/store.ts';
import { writeFileAtomic } from '../data/store.ts';
import type { SweepPlan } from './plan.ts';

/**
 * A run: one life of a sweep on one cluster (key prefix on one Redis). Records belong to
 * (sweep, run): `sweeps/<id>/run.json` names the run that wrote them, and Redis holds the
 * run id of the sweep on this cluster. Records of another run are re-used only on request.
 */
export const RunMarker = z.object({
  runId: z.string(),
  /** Key prefix of the cluster. */
  prefix: z.string(),
  /** The Redis it ran on (host:port/db, never a password). */
  redis: z.string(),
  startedAt: z.string(),
});
export type RunMarker = z.infer<typeof RunMarker>;

/** Where the cluster keeps its data: host:port/db of the connection (no credentials). */
export function redisLabel(conn: Redis): string {
  const o = conn.options;
  return o.path ? `${o.path}/${o.db ?? 0}` : `${o.host ?? '?'}:${o.port ?? '?'}/${o.db ?? 0}`;
}

export function runMarkerPath(store: DataStore, sweepId: string): string {
  return join(store.sweepDir(sweepId), 'run.json');
}

export async function readRunMarker(store: DataStore, sweepId: string): Promise<RunMarker | null> {
  try {
    const parsed = RunMarker.safeParse(JSON.parse(await readFile(runMarkerPath(store, sweepId), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Describes a run for messages: "prefix {p} on redis h:p/0, started …". */
export function describeRun(m: RunMarker | null): string {
  return m
    ? `prefix ${m.prefix} on redis ${m.redis}, started ${m.startedAt}`
    : 'an unknown run (no run.json)';
}

/**
 * The run of this sweep on this cluster, created on first submission (SET NX: two
 * producers agree), and written to the data directory beside the records it owns.
 */
export async function ensureRun(conn: Redis, prefix: string, store: DataStore, sweepId: string) {
  const fresh: RunMarker = {
    runId: randomBytes(8).toString('hex'),
    prefix,
    redis: redisLabel(conn),
    startedAt: new Date().toISOString(),
  };
  await conn.set(keys.run(prefix, sweepId), JSON.stringify(fresh), 'NX');
  const marker = RunMarker.parse(JSON.parse((await conn.get(keys.run(prefix, sweepId))) ?? 'null'));
  const onDisk = await readRunMarker(store, sweepId);
  if (onDisk?.runId !== marker.runId)
    await writeFileAtomic(runMarkerPath(store, sweepId), `${JSON.stringify(marker, null, 2)}\n`);
  return marker;
}

export interface RecordsOrigin {
  /** Records of the sweep in the data directory. */
  records: number;
  /** True when they were written by this cluster's run of the sweep. */
  sameRun: boolean;
  /** The run that wrote them (null: unknown, written before run markers existed). */
  writer: RunMarker | null;
}

/**
 * Whose are the records in the data directory? The same run when run.json names the run
 * Redis knows for this sweep, or, if Redis has lost it, the same prefix on the same Redis.
 */
export async function recordsOrigin(
  conn: Redis,
  prefix: string,
  store: DataStore,
  sweepId: string,
): Promise<RecordsOrigin> {
  const records = await store.countRecords(sweepId);
  const writer = await readRunMarker(store, sweepId);
  const raw = await conn.get(keys.run(prefix, sweepId));
  const current = raw ? RunMarker.safeParse(JSON.parse(raw)) : null;
  const sameRun =
    writer !== null &&
    (current?.success
      ? current.data.runId === writer.runId
      : writer.prefix === prefix && writer.redis === redisLabel(conn));
  return { records, sameRun, writer };
}

/**
 * Counts the records of the plan's rollouts as scored in Redis (the `done` and `scored`
 * entries, where absent), so that they are not run again. Returns how many were adopted.
 */
export async function adoptRecords(conn: Redis, prefix: string, store: DataStore, plan: SweepPlan) {
  const sweepId = plan.meta.id;
  const inPlan = new Set(plan.rollouts.map((r) => r.rolloutId));
  const records = (await store.readRecords(sweepId)).filter((r) => inPlan.has(r.rolloutId));
  let adopted = 0;
  for (let i = 0; i < records.length; i += 500) {
    const pipe = conn.pipeline();
    for (const r of records.slice(i, i + 500)) {
      pipe.hsetnx(keys.done(prefix, sweepId), r.rolloutId, compactResult(r));
      pipe.hsetnx(keys.scored(prefix, sweepId), r.rolloutId, 1);
    }
    const replies = (await pipe.exec()) ?? [];
    adopted += replies.filter((reply, j) => j % 2 === 0 && reply[1] === 1).length;
  }
  return adopted;
}
