import type { Redis } from 'ioredis';
import type { Env } from '../core/env.ts';
import { readPause } from '../core/guards.ts';
import { connectRedis, connectWatching, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import { liveStatusLines } from '../metrics/status.ts';
import {
  type BenchmarkProgress,
  type CellProgress,
  failedRollouts,
  listSweeps,
  queueCounts,
  readSweepMeta,
  sweepProgress,
} from '../producer/progress.ts';

/** Lines a `status` frame may take (a 40-line terminal shows it whole). */
export const STATUS_LINES = 40;

/** `status --json`: the sweeps shown (newest first) and every queue's counts. */
export interface StatusSnapshot {
  redis: string;
  prefix: string;
  sweeps: Array<{
    id: string;
    name: string;
    createdAt: string;
    /** Rollouts submitted so far (never-submitted policies and items are not counted). */
    total: number;
    done: number;
    errors: number;
    failed: number;
    paused: { reason: string; at: string } | null;
    benchmarks: BenchmarkProgress[];
    cells: CellProgress[];
  }>;
  queues: Array<{ queue: string; counts: Record<string, number> }>;
}

/** Reads the status of one sweep (or the latest three) and the queues. */
export async function readStatus(
  conn: Redis,
  env: Env,
  registry: Registry,
  sweepId?: string,
): Promise<StatusSnapshot> {
  const prefix = env.MAESTRO_PREFIX;
  const metas = sweepId
    ? [await readSweepMeta(conn, prefix, sweepId)].filter((m) => m !== null)
    : (await listSweeps(conn, prefix)).slice(-3).reverse();
  const sweeps: StatusSnapshot['sweeps'] = [];
  for (const meta of metas) {
    const p = await sweepProgress(conn, prefix, meta, await failedRollouts(conn, prefix, meta.id));
    const pause = await readPause(conn, prefix, meta.id);
    sweeps.push({
      id: meta.id,
      name: meta.name,
      createdAt: meta.createdAt,
      total: p.total,
      done: p.done,
      errors: p.errors,
      failed: p.failed,
      paused: pause ? { reason: pause.reason, at: pause.at } : null,
      benchmarks: p.benchmarks,
      cells: p.cells,
    });
  }
  return {
    redis: redactUrl(env.REDIS_URL),
    prefix,
    sweeps,
    queues: await queueCounts(conn, prefix, registry),
  };
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)} %` : '-');

/** One headline per sweep: what a glance needs. */
export function headline(s: StatusSnapshot['sweeps'][number]): string {
  const paused = s.paused
    ? `; PAUSED since ${s.paused.at}: ${s.paused.reason}; resume with \`maestro-eval sweep FILE --resume\``
    : '';
  return `sweep ${s.id}: ${s.done}/${s.total} scored (${pct(s.done, s.total)}), ${s.errors} errors, ${s.failed} failed outright${paused}`;
}

/**
 * The text frame: headlines first, then the first sweep's benchmarks, the busy queues and
 * the live lines, cut to `maxLines` with a note saying where the rest is.
 */
export function statusFrame(snap: StatusSnapshot, live: string[], maxLines = STATUS_LINES): string[] {
  const lines = snap.sweeps.length ? snap.sweeps.map(headline) : ['no sweeps yet'];
  lines.push(`redis ${snap.redis}  prefix ${snap.prefix}`);
  const first = snap.sweeps[0];
  if (first) {
    lines.push(
      '',
      `  ${'benchmark'.padEnd(14)} ${'done'.padStart(11)} ${'correct'.padStart(8)} ${'errors'.padStart(7)}`,
    );
    for (const b of first.benchmarks) {
      lines.push(
        `  ${b.benchmark.padEnd(14)} ${`${b.done}/${b.total}`.padStart(11)} ${String(b.correct).padStart(8)} ${String(b.errors).padStart(7)}`,
      );
    }
  }
  const busy = snap.queues.filter((q) => {
    const c = q.counts;
    return (
      (c.waiting ?? 0) +
        (c.prioritized ?? 0) +
        (c.active ?? 0) +
        (c.delayed ?? 0) +
        (c['waiting-children'] ?? 0) +
        (c.failed ?? 0) >
      0
    );
  });
  lines.push('', `  ${'queue'.padEnd(36)} waiting  active  delayed  children  done  failed`);
  for (const q of busy) {
    const c = q.counts;
    lines.push(
      `  ${q.queue.padEnd(36)} ${String((c.waiting ?? 0) + (c.prioritized ?? 0)).padStart(7)} ${String(c.active ?? 0).padStart(7)} ${String(c.delayed ?? 0).padStart(8)} ${String(c['waiting-children'] ?? 0).padStart(9)} ${String(c.completed ?? 0).padStart(5)} ${String(c.failed ?? 0).padStart(7)}`,
    );
  }
  if (busy.length < snap.queues.length)
    lines.push(`  (${snap.queues.length - busy.length} idle queues not shown)`);
  lines.push(...live);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines - 1);
  kept.push(`… ${lines.length - kept.length} more lines: \`maestro-eval status --json\` shows everything`);
  return kept;
}

/** A plain-text status of one sweep (or the latest three) and the queues, at most 40 lines. */
export async function statusText(
  env: Env,
  registry: Registry,
  sweepId?: string,
  conn?: Redis,
): Promise<string> {
  const own = conn ?? connectRedis(env.REDIS_URL, 'client');
  if (!conn) own.on('error', () => {});
  try {
    const snap = await readStatus(own, env, registry, sweepId);
    const live = await liveStatusLines(own, env.MAESTRO_PREFIX, registry);
    return statusFrame(snap, live).join('\n');
  } finally {
    if (!conn) own.disconnect();
  }
}

/**
 * `maestro-eval status`: one frame (or JSON), or with `watch` a frame every second on a
 * connection that reconnects forever and says so while Redis is unreachable.
 */
export async function runStatus(
  env: Env,
  registry: Registry,
  sweepId: string | undefined,
  o: { watch?: boolean; json?: boolean },
): Promise<void> {
  const conn = o.watch
    ? connectWatching(env.REDIS_URL, { log: (l) => console.error(l) })
    : connectRedis(env.REDIS_URL, 'client');
  conn.on('error', () => {});
  try {
    for (;;) {
      const snap = await readStatus(conn, env, registry, sweepId);
      if (o.json) console.log(JSON.stringify(snap));
      else {
        const text = statusFrame(snap, await liveStatusLines(conn, env.MAESTRO_PREFIX, registry)).join('\n');
        if (o.watch) process.stdout.write(`\x1b[2J\x1b[H${text}\n`);
        else console.log(text);
      }
      if (!o.watch) return;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    conn.disconnect();
  }
}
