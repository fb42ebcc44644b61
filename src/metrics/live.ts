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

/** The width of one slot of RecentLatencies (ms). */
const SLOT_MS = 1_000;

/**
 * Latencies of the last window, per series, in one process: bucket counts per second of the
 * window, so a sample costs one increment however many come (every sample of the window
 * counts), and a series holds at most one slot per second of it.
 */
export class RecentLatencies {
  private readonly series = new Map<string, Array<{ slot: number; buckets: number[] }>>();
  constructor(private readonly windowMs = LIVE_WINDOW_MS) {}

  record(series: string, ms: number, now = Date.now()): void {
    const slot = Math.floor(now / SLOT_MS);
    let slots = this.series.get(series);
    if (!slots) {
      slots = [];
      this.series.set(series, slots);
    }
    let last = slots[slots.length - 1];
    if (!last || last.slot < slot) {
      last = { slot, buckets: [] };
      slots.push(last);
      // Slots that left the window go as new ones come (snapshot drops them too).
      const oldest = Math.floor((now - this.windowMs) / SLOT_MS);
      let drop = 0;
      while (drop < slots.length - 1 && (slots[drop]?.slot ?? 0) < oldest) drop++;
      if (drop) slots.splice(0, drop);
    } else if (last.slot > slot) {
      // A sample stamped before the newest slot (clock stepped back): find or make its slot.
      const at = slots.findIndex((x) => x.slot >= slot);
      if (slots[at]?.slot !== slot) slots.splice(at, 0, { slot, buckets: [] });
      last = slots[at] as { slot: number; buckets: number[] };
    }
    const b = bucketOf(ms);
    last.buckets[b] = (last.buckets[b] ?? 0) + 1;
  }

  /** Bucket counts of each series over the window (older slots are dropped). */
  snapshot(now = Date.now()): Record<string, Buckets> {
    const out: Record<string, Buckets> = {};
    const oldest = now - this.windowMs;
    for (const [name, slots] of this.series) {
      // A slot counts while any part of its second is inside the window.
      const kept = slots.filter((x) => (x.slot + 1) * SLOT_MS > oldest);
      if (kept.length === 0) {
        this.series.delete(name);
        continue;
      }
      if (kept.length !== slots.length) this.series.set(name, kept);
      const b: Buckets = {};
      for (const x of kept)
        x.buckets.forEach((n, k) => {
          if (n) b[String(k)] = (b[String(k)] ?? 0) + n;
        });
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
