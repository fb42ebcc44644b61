/**
 * Keeps a released capacity slot for a moment so the next call of this process takes it
 * without a round trip to the semaphore: under steady load one lease serves many calls in a
 * row. The lease stays a real one (renewed, counted against the capacity, freed by expiry if
 * the process dies), so the cap holds. So that other processes get their turn, a lease goes
 * back to the semaphore after `maxHoldMs` or `maxUses` calls, and at once when nothing in
 * this process wants it within `idleMs`.
 */
import type { Lease, ServiceLimiter } from './limiter.ts';

export interface SlotReuseOptions {
  /** A kept lease nobody took within this time is released (ms). Default 100. */
  idleMs?: number;
  /** A lease is released after this long in this process, however busy (ms). Default 2 000. */
  maxHoldMs?: number;
  /** …or after this many calls. Default 64. */
  maxUses?: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Kept {
  lease: Lease;
  /** When the lease was acquired. */
  since: number;
  uses: number;
  /** When it was last given back. */
  idleSince: number;
}

interface Waiter {
  resolve(kept: Kept): void;
  /** Whether this waiter asks the semaphore (not only waits for a hand-over). */
  asking: boolean;
  ask(): void;
}

/** A slot held for one call: give it back with `done()` exactly once. */
export interface Slot {
  done(): Promise<void>;
}

/** Why a waiter's semaphore request was cancelled: a slot was handed over to it. */
const HANDED_OVER = 'handed over';

export class SlotReuse {
  private readonly idle = new Map<string, Kept[]>();
  /** Calls of this process waiting for a slot, first come first served. */
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly idleMs: number;
  private readonly maxHoldMs: number;
  private readonly maxUses: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Round trips to the semaphore saved (a kept lease taken instead of a new one). */
  reused = 0;

  constructor(
    private readonly limiter: ServiceLimiter,
    opts: SlotReuseOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? 100;
    this.maxHoldMs = opts.maxHoldMs ?? 2_000;
    this.maxUses = opts.maxUses ?? 64;
    this.now = opts.now ?? Date.now;
  }

  /**
   * A slot of `service`: a lease kept here, else one given back here while waiting, else one
   * from the semaphore, whichever comes first (a lease acquired after a hand-over is kept for
   * the next call). With no deadline (`Infinity`), waiters queue here and only the first
   * asks the semaphore.
   */
  async take(service: string, capacity: number, deadline?: number): Promise<Slot> {
    const kept = this.idle.get(service)?.pop();
    let held: Kept;
    if (kept) {
      this.reused += 1;
      held = { ...kept, uses: kept.uses + 1 };
    } else {
      held = await new Promise<Kept>((resolve, reject) => {
        // A hand-over cancels the wait on the semaphore (no lease taken for nobody).
        let wanted: AbortController | undefined;
        const waiter: Waiter = {
          asking: false,
          resolve: (k) => {
            // With a reason of its own: no DOMException (and its stack) made per hand-over.
            wanted?.abort(HANDED_OVER);
            resolve(k);
          },
          ask: () => {
            waiter.asking = true;
            wanted = new AbortController();
            const opts = { signal: wanted.signal, ...(deadline === undefined ? {} : { deadline }) };
            this.limiter.acquire(service, capacity, opts).then(
              (lease) => {
                const fresh: Kept = { lease, since: this.now(), uses: 1, idleSince: 0 };
                if (this.unwait(service, waiter)) resolve(fresh);
                else void this.giveBack(service, { ...fresh, uses: 0 });
              },
              (err) => {
                if (this.unwait(service, waiter)) reject(err);
              },
            );
          },
        };
        const queue = this.waiters.get(service) ?? [];
        // Without a deadline, one waiter of this process asks the semaphore at a time; the
        // others wait for a hand-over or their turn to ask (no polling by every waiter).
        const oneAsks = deadline === Number.POSITIVE_INFINITY && queue.some((w) => w.asking);
        queue.push(waiter);
        this.waiters.set(service, queue);
        if (!oneAsks) waiter.ask();
      });
    }
    let given = false;
    return {
      done: async () => {
        if (given) return;
        given = true;
        await this.giveBack(service, held);
      },
    };
  }

  /**
   * Removes a waiter; false when a hand-over already served it. When no waiter left asks the
   * semaphore, the first one starts.
   */
  private unwait(service: string, waiter: Waiter): boolean {
    const queue = this.waiters.get(service);
    const at = queue?.indexOf(waiter) ?? -1;
    if (!queue || at < 0) return false;
    queue.splice(at, 1);
    if (queue.length === 0) this.waiters.delete(service);
    else if (!queue.some((w) => w.asking)) queue[0]!.ask();
    return true;
  }

  private async giveBack(service: string, held: Kept): Promise<void> {
    const now = this.now();
    if (this.closed || held.uses >= this.maxUses || now - held.since >= this.maxHoldMs) {
      await held.lease.release();
      return;
    }
    // A waiter that is not asking the semaphore first: the one asking goes on asking.
    const queue = this.waiters.get(service);
    const waiter = queue?.find((w) => !w.asking) ?? queue?.[0];
    if (waiter) {
      this.unwait(service, waiter);
      this.reused += 1;
      waiter.resolve({ ...held, uses: held.uses + 1 });
      return;
    }
    held.idleSince = now;
    const list = this.idle.get(service) ?? [];
    list.push(held);
    this.idle.set(service, list);
    this.timer ??= setTimeout(() => void this.sweep(), this.idleMs);
    this.timer.unref?.();
  }

  /** Releases the leases idle for `idleMs` or more; runs again while any are kept. */
  async sweep(): Promise<void> {
    this.timer = null;
    const now = this.now();
    const stale: Lease[] = [];
    for (const [service, list] of this.idle) {
      const keep = list.filter((k) => now - k.idleSince < this.idleMs && now - k.since < this.maxHoldMs);
      for (const k of list) if (!keep.includes(k)) stale.push(k.lease);
      if (keep.length) this.idle.set(service, keep);
      else this.idle.delete(service);
    }
    await Promise.all(stale.map((l) => l.release().catch(() => {})));
    if (this.idle.size > 0 && !this.timer) {
      this.timer = setTimeout(() => void this.sweep(), this.idleMs);
      this.timer.unref?.();
    }
  }

  /** Leases kept right now (idle, held for this process). */
  get keeping(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Releases every kept lease. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((k) => k.lease.release().catch(() => {})));
  }
}
