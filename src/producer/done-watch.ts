import type { Redis } from 'ioredis';
import { keys } from '../core/queues.ts';

/** Ids read per HMGET when the remaining rollouts are checked one by one. */
const CHUNK = 1_000;
/** How often the remaining rollouts are checked one by one even while the count moves (ms). */
const EXACT_EVERY_MS = 5_000;

/**
 * Which rollouts of a plan are scored, followed cheaply: each poll reads the size of the
 * sweep's `done` hash (HLEN, one command); the remaining rollouts are looked up one by one
 * (HMGET in chunks) only when the count says they may all be done, and every few seconds
 * (for the error count, and rollouts that failed outright). The count is an estimate (the hash also
 * holds rollouts outside the plan); the exact check decides when the wait is over.
 */
export class DoneWatch {
  readonly remaining: Set<string>;
  readonly total: number;
  /** Errors among the rollouts found done (exact as of the last exact check). */
  errors = 0;
  /** Whether the last poll saw the count move. */
  moved = false;
  private readonly doneKey: string;
  private base = 0;
  private lastLen = -1;
  private lastExact = 0;

  constructor(
    private readonly conn: Redis,
    prefix: string,
    sweepId: string,
    rolloutIds: Iterable<string>,
  ) {
    this.remaining = new Set(rolloutIds);
    this.total = this.remaining.size;
    this.doneKey = keys.done(prefix, sweepId);
  }

  /** Rollouts of the plan scored so far (exact after an exact check, else estimated). */
  get done(): number {
    const estimate = this.total - this.remaining.size + Math.max(0, this.lastLen - this.base);
    return Math.min(this.total, estimate);
  }

  /** One poll; returns the number of rollouts of the plan known or estimated to be done. */
  async poll(): Promise<number> {
    const len = await this.conn.hlen(this.doneKey);
    this.moved = len !== this.lastLen;
    this.lastLen = len;
    const maybeAll = len - this.base >= this.remaining.size;
    if (this.lastExact === 0 || maybeAll || Date.now() - this.lastExact > EXACT_EVERY_MS) await this.exact();
    return this.done;
  }

  /** Looks the remaining rollouts up one by one. */
  async exact(): Promise<void> {
    const len = await this.conn.hlen(this.doneKey);
    const ids = [...this.remaining];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const values = await this.conn.hmget(this.doneKey, ...chunk);
      chunk.forEach((id, j) => {
        const v = values[j];
        if (typeof v !== 'string') return;
        this.remaining.delete(id);
        if (v.startsWith('error|')) this.errors++;
      });
    }
    // Entries added while the lookups ran are counted again by the next poll's estimate,
    // never taken as done: the estimate only shows progress.
    this.base = len;
    this.lastLen = len;
    this.lastExact = Date.now();
  }
}
