/**
 * Cluster-wide concurrency caps for auxiliary services (OCR, detection, zoom, caption).
 *
 * Experts are capped by their BullMQ queue's global concurrency; auxiliary services are
 * called from inside expert jobs, on any number of processes and hosts, so they need
 * their own cap: a counting semaphore in Redis per service. Each holder owns a lease (a
 * member of a sorted set scored by its expiry time on the Redis clock). Leases are
 * renewed while held; a process that dies stops renewing and its leases expire, so a
 * crash never leaks capacity for longer than one lease period. Acquire, renew and
 * release are single Lua scripts, so the check and the update are atomic.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { RetryableError } from '../core/errors.ts';
import { slug } from '../core/hash.ts';
import { loadLua, runLua } from '../core/lua.ts';

/** A held slot. Release it exactly once when the request is over (extra calls are no-ops). */
export interface Lease {
  readonly id: string;
  readonly service: string;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Give up (RetryableError) when no slot is free by this time (ms since epoch). Default: wait 60 s. */
  deadline?: number;
  /** Stop waiting (the promise rejects) when this is aborted: the slot is no longer wanted. */
  signal?: AbortSignal;
}

/** Rejects an acquire whose caller stopped wanting the slot. */
function cancelled(service: string): RetryableError {
  return new RetryableError(`${service}: waiting for a slot was cancelled`);
}

/** Caps concurrent requests per service. */
export interface ServiceLimiter {
  acquire(service: string, capacity: number, opts?: AcquireOptions): Promise<Lease>;
  /** Stops renewing; held leases are released. */
  close(): Promise<void>;
}

const ACQUIRE = loadLua(import.meta.url, './limiter-acquire.lua');

const RENEW = loadLua(import.meta.url, './limiter-renew.lua');

const RELEASE = loadLua(import.meta.url, './limiter-release.lua');

export interface RedisLimiterOptions {
  /** How long a lease lives without renewal (ms). Default 15 000. */
  leaseMs?: number;
  /** First and longest pause between attempts while waiting for a slot (ms). Defaults 5 and 100. */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/** Waits `ms`, or less when `signal` is aborted meanwhile. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((r) => {
    if (signal?.aborted) return r();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const limiterKeys = new Map<string, string>();

/** The Redis key of a service's semaphore (remembered: asked for on every call). */
export function limiterKey(prefix: string, service: string): string {
  const id = `${prefix}\n${service}`;
  let key = limiterKeys.get(id);
  if (key === undefined) {
    key = `${prefix}:limiter:${slug(service)}`;
    if (limiterKeys.size < 10_000) limiterKeys.set(id, key);
  }
  return key;
}

/**
 * The Redis semaphore. Give it the worker's connection and key prefix (the prefix's hash
 * tag keeps the key in the same slot as the queues).
 */
export class RedisLimiter implements ServiceLimiter {
  private readonly leaseMs: number;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly held = new Map<string, { key: string; service: string }>();
  private timer: NodeJS.Timeout | null = null;
  private counter = 0;
  private closed = false;

  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
    opts: RedisLimiterOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.pollMinMs = opts.pollMinMs ?? 5;
    this.pollMaxMs = opts.pollMaxMs ?? 100;
  }

  /** Leases this limiter holds right now. */
  get holding(): number {
    return this.held.size;
  }

  /** Takes a slot if one is free, without waiting; null when the service is at capacity. */
  async tryAcquire(service: string, capacity: number): Promise<Lease | null> {
    if (this.closed) throw new Error('limiter is closed');
    const key = limiterKey(this.prefix, service);
    this.counter += 1;
    const id = `${this.owner}:${this.counter}`;
    const ok = await runLua(this.conn, ACQUIRE, [key], [String(capacity), id, String(this.leaseMs)]);
    if (Number(ok) !== 1) return null;
    this.held.set(id, { key, service });
    this.startRenewing();
    let released = false;
    return {
      id,
      service,
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(id);
        if (this.held.size === 0) this.stopRenewing();
        await runLua(this.conn, RELEASE, [key], [id]);
      },
    };
  }

  async acquire(service: string, capacity: number, opts: AcquireOptions = {}): Promise<Lease> {
    const deadline = opts.deadline ?? Date.now() + 60_000;
    let pause = this.pollMinMs;
    for (;;) {
      if (opts.signal?.aborted) throw cancelled(service);
      const lease = await this.tryAcquire(service, capacity);
      if (lease) {
        if (!opts.signal?.aborted) return lease;
        await lease.release();
        throw cancelled(service);
      }
      if (Date.now() >= deadline) {
        throw new RetryableError(`${service}: no free slot (capacity ${capacity}) before the deadline`, {
          hint: 'the service is saturated; raise its capacity if its GPU can take more',
        });
      }
      // Jittered, growing pause, never past the deadline; cut short by a cancel.
      await sleep(
        Math.min(Math.max(0, deadline - Date.now()), pause / 2 + Math.random() * (pause / 2)),
        opts.signal,
      );
      pause = Math.min(this.pollMaxMs, pause * 2);
    }
  }

  private startRenewing(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renewAll(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async renewAll(): Promise<void> {
    for (const [id, { key }] of [...this.held]) {
      try {
        const ok = await runLua(this.conn, RENEW, [key], [id, String(this.leaseMs)]);
        // A lease that expired (the process stalled past leaseMs) is gone; stop renewing it.
        if (Number(ok) !== 1) this.held.delete(id);
      } catch {
        // Redis unreachable for a moment: the next round tries again.
      }
    }
  }

  /**
   * Stops renewing without releasing: what a crashed process leaves behind. For tests
   * of lease expiry.
   */
  abandon(): void {
    this.stopRenewing();
    this.held.clear();
    this.closed = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopRenewing();
    const held = [...this.held];
    this.held.clear();
    await Promise.all(held.map(([id, { key }]) => runLua(this.conn, RELEASE, [key], [id]).catch(() => 0)));
  }
}

/** An in-process limiter with the same contract, for single-process tools and tests. */
export class LocalLimiter implements ServiceLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private counter = 0;

  async acquire(service: string, capacity: number, opts: AcquireOptions = {}): Promise<Lease> {
    const deadline = opts.deadline ?? Date.now() + 60_000;
    while ((this.active.get(service) ?? 0) >= capacity) {
      if (opts.signal?.aborted) throw cancelled(service);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new RetryableError(`${service}: no free slot (capacity ${capacity}) before the deadline`);
      await new Promise<void>((resolve) => {
        const list = this.waiting.get(service) ?? [];
        const leave = () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', leave);
          const at = list.indexOf(wake);
          if (at >= 0) list.splice(at, 1);
          resolve();
        };
        const timer = setTimeout(leave, Math.min(left, 2 ** 31 - 1));
        const wake = () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', leave);
          resolve();
        };
        opts.signal?.addEventListener('abort', leave, { once: true });
        list.push(wake);
        this.waiting.set(service, list);
      });
    }
    if (opts.signal?.aborted) throw cancelled(service);
    this.active.set(service, (this.active.get(service) ?? 0) + 1);
    this.counter += 1;
    let released = false;
    return {
      id: `local:${this.counter}`,
      service,
      release: async () => {
        if (released) return;
        released = true;
        this.active.set(service, (this.active.get(service) ?? 1) - 1);
        this.waiting.get(service)?.shift()?.();
      },
    };
  }

  async close(): Promise<void> {}
}
