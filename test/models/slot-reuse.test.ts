import { describe, expect, it } from 'vitest';
import {
  type AcquireOptions,
  type Lease,
  LocalLimiter,
  type ServiceLimiter,
} from '../../src/models/limiter.ts';
import { SlotReuse } from '../../src/models/slot-reuse.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A limiter that counts its acquisitions and releases, and how many leases are out at once. */
class CountingLimiter implements ServiceLimiter {
  private readonly inner = new LocalLimiter();
  acquired = 0;
  released = 0;
  out = 0;
  peak = 0;
  /** Acquisitions under way at once (callers waiting on the semaphore), and their peak. */
  asking = 0;
  peakAsking = 0;
  async acquire(service: string, capacity: number, opts?: AcquireOptions): Promise<Lease> {
    this.asking += 1;
    this.peakAsking = Math.max(this.peakAsking, this.asking);
    const lease = await this.inner.acquire(service, capacity, opts).finally(() => {
      this.asking -= 1;
    });
    this.acquired += 1;
    this.out += 1;
    this.peak = Math.max(this.peak, this.out);
    return {
      ...lease,
      release: async () => {
        this.released += 1;
        this.out -= 1;
        await lease.release();
      },
    };
  }
  async close() {}
}

/** Runs `calls` calls at once, each holding a slot for `holdMs`; returns how many held one at once, at most. */
async function concurrentCalls(
  slots: SlotReuse,
  o: { calls: number; capacity: number; holdMs: number; deadline?: number | undefined },
): Promise<number> {
  let inFlight = 0;
  let peak = 0;
  const call = async () => {
    const slot = await slots.take('expert:A', o.capacity, o.deadline);
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await sleep(o.holdMs);
    inFlight -= 1;
    await slot.done();
  };
  await Promise.all(Array.from({ length: o.calls }, call));
  return peak;
}

describe('slots kept between calls of one process', () => {
  it('serves calls in a row with one lease and gives it back once idle', async () => {
    const limiter = new CountingLimiter();
    const slots = new SlotReuse(limiter, { idleMs: 10 });
    for (let i = 0; i < 10; i++) {
      const slot = await slots.take('expert:A', 4);
      await slot.done();
    }
    expect(limiter.acquired).toBe(1);
    expect(slots.reused).toBe(9);
    expect(slots.keeping).toBe(1);
    await sleep(40);
    expect(limiter.released).toBe(1);
    expect(slots.keeping).toBe(0);
  });

  it('returns a lease to the semaphore after maxUses calls or maxHoldMs', async () => {
    let now = 0;
    const limiter = new CountingLimiter();
    const slots = new SlotReuse(limiter, { idleMs: 1_000, maxUses: 3, maxHoldMs: 100, now: () => now });
    for (let i = 0; i < 7; i++) await (await slots.take('expert:A', 4)).done();
    // Calls 1, 4 and 7 took a new lease; the 3rd and 6th gave theirs back.
    expect(limiter.acquired).toBe(3);
    expect(limiter.released).toBe(2);
    now = 150;
    const late = await slots.take('expert:A', 4);
    await late.done();
    expect(limiter.released).toBe(3);
    await slots.close();
    expect(limiter.out).toBe(0);
  });

  it('never holds more than the capacity, and hands a slot to a waiting call of this process', async () => {
    const limiter = new CountingLimiter();
    const slots = new SlotReuse(limiter, { idleMs: 5 });
    const peak = await concurrentCalls(slots, { calls: 20, capacity: 2, holdMs: 3 });
    expect(peak).toBe(2);
    expect(limiter.peak).toBeLessThanOrEqual(2);
    // Waiting calls were served by hand-overs, not a new lease each.
    expect(limiter.acquired).toBeLessThan(20);
    expect(slots.reused).toBeGreaterThan(0);
    await sleep(30);
    await slots.close();
    expect(limiter.out).toBe(0);
  });

  it('without a deadline, one waiting call of a process asks the semaphore; the rest wait for hand-overs', async () => {
    const run = async (deadline: number | undefined) => {
      const limiter = new CountingLimiter();
      const slots = new SlotReuse(limiter, { idleMs: 5 });
      const peak = await concurrentCalls(slots, { calls: 40, capacity: 4, holdMs: 2, deadline });
      await sleep(30);
      await slots.close();
      expect(limiter.out).toBe(0);
      return { peak, peakAsking: limiter.peakAsking, acquired: limiter.acquired };
    };
    const queued = await run(Number.POSITIVE_INFINITY);
    expect(queued.peak).toBe(4);
    expect(queued.peakAsking).toBe(1);
    // With a deadline each waiting call asks on its own (it must fail at its deadline).
    const own = await run(Date.now() + 60_000);
    expect(own.peak).toBe(4);
    expect(own.peakAsking).toBeGreaterThan(1);
  });
});
