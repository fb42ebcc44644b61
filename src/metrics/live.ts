/**
 * Live figures for `maestro-eval status`: each worker process keeps the latencies of its
 * last minute in log-spaced buckets and publishes them (with its in-flight counts and
 * RSS) to one Redis hash every few seconds; `status` merges the entries of every live
 * process, so it needs no address of any worker.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** Buckets per doubling: a bucket spans a factor 2^(1/4) ≈ 1.19 (±9 % on a percentile). */
const PER_OCTAVE = 4;
const MAX_BUCKET = 24 * PER_OCTAVE; // 2^24 ms ≈ 4.7 h
/** How far back "recent" goes (ms). */
export const LIVE_WINDOW_MS = 60_000;
/** Entries older than this are from processes that stopped reporting. */
export const LIVE_STALE_MS = 15_000;

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(MAX_BUCKET, Math.floor(PER_OCTAVE * Math.log2(ms)) + 1);
}

/** A representative latency of a bucket (its geometric middle). */
export function bucketValue(b: number): number {
  if (b <= 0) return 0.5;
  return 2 ** ((b - 0.5) / PER_OCTAVE);
}

/** Sparse bucket counts: bucket index → count. */
export type Buckets = Record<string, number>;

/** The value below which a fraction `q` of the counted samples fall (bucket resolution). */
export function bucketQuantile(buckets: Buckets, q: number): number | null {
  const entries = Object.entries(buckets)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [b, n] of entries) {
    seen += n;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(entries[entries.length - 1]?.[0] ?? 0);
}

export function mergeBuckets(into: Buckets, from: Buckets): Buckets {
  for (const [b, n] of Object.entries(from)) into[b] = (into[b] ?? 0) + n;
  return into;
}

/** Latencies of the last window, per series, in one process. */
export class RecentLatencies {
  private readonly series = new Map<string, Array<[number, number]>>();
  constructor(
    private readonly windowMs = LIVE_WINDOW_MS,
    private readonly maxSamples = 4096,
  ) {}

  record(series: string, ms: number, now = Date.now()): void {
    let list = this.series.get(series);
    if (!list) {
      list = [];
      this.series.set(series, list);
    }
    list.push([now, ms]);
    if (list.length > this.maxSamples) list.splice(0, list.length - this.maxSamples);
  }

  /** Bucket counts of each series over the window (older samples are dropped). */
  snapshot(now = Date.now()): Record<string, Buckets> {
    const out: Record<string, Buckets> = {};
    for (const [name, list] of this.series) {
      let drop = 0;
      while (drop < list.length && (list[drop]?.[0] ?? 0) < now - this.windowMs) drop++;
      if (drop) list.splice(0, drop);
      if (list.length === 0) {
        this.series.delete(name);
        continue;
      }
      const b: Buckets = {};
      for (const [, ms] of list) {
        const k = String(bucketOf(ms));
        b[k] = (b[k] ?? 0) + 1;
      }
      out[name] = b;
    }
    return out;
  }
}

/** What one process publishes. */
export interface LiveEntry {
  host: string;
  pid: number;
  roles: string[];
  /** ms since epoch. */
  at: number;
  rssBytes: number;
  /** Requests in flight from this process, per expert. */
  inFlight: Record<string, number>;
  /** `expert|skill` and `policy|<key>` → latency buckets of the last minute. */
  latency: Record<string, Buckets>;
}

export function liveKey(prefix: string): string {
  return `${prefix}:live`;
}

/** Publishes this process's live entry every `intervalMs` until stopped (the entry is removed). */
export function startLivePublisher(opts: {
  conn: Redis;
  prefix: string;
  roles: string[];
  recent: RecentLatencies;
  inFlight: () => Record<string, number>;
  intervalMs?: number;
}): { stop(): Promise<void>; publish(): Promise<void> } {
  const field = `${hostname()}:${process.pid}`;
  const key = liveKey(opts.prefix);
  const publish = async () => {
    const entry: LiveEntry = {
      host: hostname(),
      pid: process.pid,
      roles: opts.roles,
      at: Date.now(),
      rssBytes: process.memoryUsage.rss(),
      inFlight: opts.inFlight(),
      latency: opts.recent.snapshot(),
    };
    await opts.conn.multi().hset(key, field, JSON.stringify(entry)).pexpire(key, 3_600_000).exec();
  };
  const timer = setInterval(() => void publish().catch(() => {}), opts.intervalMs ?? 2_000);
  timer.unref();
  void publish().catch(() => {});
  return {
    publish,
    async stop() {
      clearInterval(timer);
      await opts.conn.hdel(key, field).catch(() => 0);
    },
  };
}

/** Live entries of processes that reported recently; stale ones are removed. */
export async function readLive(conn: Redis, prefix: string, now = Date.now()): Promise<LiveEntry[]> {
  const raw = await conn.hgetall(liveKey(prefix));
  const live: LiveEntry[] = [];
  const stale: string[] = [];
  for (const [field, value] of Object.entries(raw)) {
    try {
      const e = JSON.parse(value) as LiveEntry;
      if (now - e.at <= LIVE_STALE_MS) live.push(e);
      else if (now - e.at > 10 * LIVE_STALE_MS) stale.push(field);
    } catch {
      stale.push(field);
    }
  }
  if (stale.length) await conn.hdel(liveKey(prefix), ...stale).catch(() => 0);
  return live.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
}

/** Merged latency buckets of all live processes, per series. */
export function mergeLatency(entries: LiveEntry[]): Record<string, Buckets> {
  const out: Record<string, Buckets> = {};
  for (const e of entries) {
    for (const [series, b] of Object.entries(e.latency)) out[series] = mergeBuckets(out[series] ?? {}, b);
  }
  return out;
}
