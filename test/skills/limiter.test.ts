import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/core/errors.ts';
import { LocalLimiter, limiterKey, RedisLimiter } from '../../src/models/limiter.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-${randomBytes(5).toString('hex')}}`;
// Two connections: two "processes" sharing one semaphore.
const connA = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const connB = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  const found = await connA.keys(`${prefix}:*`);
  if (found.length) await connA.del(...found);
  connA.disconnect();
  connB.disconnect();
});

/** Runs `n` holders over the limiters (round robin), each holding its slot for `holdMs`; returns the peak. */
async function peakConcurrency(
  limiters: Array<{ acquire: RedisLimiter['acquire'] }>,
  service: string,
  capacity: number,
  n: number,
  holdMs: number,
): Promise<number> {
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const lease = await limiters[i % limiters.length]!.acquire(service, capacity, {
        deadline: Date.now() + 20_000,
      });
      active += 1;
      peak = Math.max(peak, active);
      await sleep(holdMs);
      active -= 1;
      await lease.release();
    }),
  );
  return peak;
}

describe('the Redis semaphore for auxiliary services', () => {
  it('never lets more holders in than the capacity, across limiter instances', async () => {
    const a = new RedisLimiter(connA, prefix);
    const b = new RedisLimiter(connB, prefix);
    const peak = await peakConcurrency([a, b], 'GLM-OCR', 3, 14, 25);
    expect(peak).toBe(3);
    expect(await connA.zcard(limiterKey(prefix, 'GLM-OCR'))).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a slot at capacity and gives it back on release', async () => {
    const a = new RedisLimiter(connA, prefix);
    const b = new RedisLimiter(connB, prefix);
    const first = await a.tryAcquire('caption', 1);
    expect(first).not.toBeNull();
    expect(await b.tryAcquire('caption', 1)).toBeNull();
    await first?.release();
    await first?.release(); // a second release is a no-op
    const second = await b.tryAcquire('caption', 1);
    expect(second).not.toBeNull();
    await second?.release();
    await Promise.all([a.close(), b.close()]);
  });

  it('gives up at the deadline with a retryable error', async () => {
    const a = new RedisLimiter(connA, prefix);
    const held = await a.acquire('DeepEyes-7B', 1);
    const b = new RedisLimiter(connB, prefix);
    const err = await b.acquire('DeepEyes-7B', 1, { deadline: Date.now() + 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String((err as Error).message)).toMatch(/no free slot/);
    await held.release();
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a renewed lease past its lifetime, and frees the slot of a holder that died', async () => {
    const dying = new RedisLimiter(connA, prefix, { leaseMs: 1_500 });
    const other = new RedisLimiter(connB, prefix, { leaseMs: 1_500 });
    await dying.acquire('PR1-Qwen2.5-VL-3B-Detection', 1);
    // Renewal (every leaseMs / 3) keeps the slot taken well past one lease lifetime.
    await sleep(3_200);
    expect(await other.tryAcquire('PR1-Qwen2.5-VL-3B-Detection', 1)).toBeNull();
    // The holder "crashes": no renewal, no release.
    dying.abandon();
    expect(await other.tryAcquire('PR1-Qwen2.5-VL-3B-Detection', 1)).toBeNull();
    // Its lease expires and the waiting acquirer gets the slot.
    const lease = await other.acquire('PR1-Qwen2.5-VL-3B-Detection', 1, { deadline: Date.now() + 10_000 });
    expect(lease.service).toBe('PR1-Qwen2.5-VL-3B-Detection');
    await lease.release();
    await other.close();
  });

  it('releases held leases on close', async () => {
    const a = new RedisLimiter(connA, prefix);
    await a.acquire('svc-close', 2);
    await a.acquire('svc-close', 2);
    expect(await connA.zcard(limiterKey(prefix, 'svc-close'))).toBe(2);
    await a.close();
    expect(await connA.zcard(limiterKey(prefix, 'svc-close'))).toBe(0);
  });
});

describe('the in-process limiter', () => {
  it('has the same contract', async () => {
    const local = new LocalLimiter();
    expect(await peakConcurrency([local], 'x', 2, 9, 10)).toBe(2);
    const held = await local.acquire('y', 1);
    await expect(local.acquire('y', 1, { deadline: Date.now() + 30 })).rejects.toBeInstanceOf(RetryableError);
    await held.release();
    const again = await local.acquire('y', 1, { deadline: Date.now() + 1_000 });
    await again.release();
  });
});

describe('a wait for a slot that is no longer wanted', () => {
  it('stops at once when cancelled and takes no slot afterwards (Redis and in-process)', async () => {
    const a = new RedisLimiter(connA, prefix, { pollMinMs: 20, pollMaxMs: 20 });
    const local = new LocalLimiter();
    for (const limiter of [a, local]) {
      const held = await limiter.acquire('zoom-cancel', 1);
      const wanted = new AbortController();
      const waiting = limiter.acquire('zoom-cancel', 1, { signal: wanted.signal });
      await sleep(30);
      wanted.abort();
      await expect(waiting).rejects.toThrow(/cancelled/);
      await held.release();
      await sleep(50);
      // The slot is free: the cancelled wait did not take it when it came back.
      const again = await limiter.acquire('zoom-cancel', 1, { deadline: Date.now() + 200 });
      await again.release();
    }
    expect(await connA.zcard(limiterKey(prefix, 'zoom-cancel'))).toBe(0);
    await a.close();
  });
});
