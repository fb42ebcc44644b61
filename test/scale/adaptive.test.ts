import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix } from '../../src/bench/harness.ts';
import {
  AdaptiveController,
  type AdaptiveSettings,
  adaptiveSettings,
  adaptiveStateKey,
  promGauge,
} from '../../src/models/adaptive.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('adaptive concurrency controller (shared through Redis)', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let prefix: string;
  let queue: Queue;
  const controllers: AdaptiveController[] = [];
  const extraConns: Redis[] = [];

  beforeEach(() => {
    prefix = `{t-adaptive-${randomBytes(4).toString('hex')}}`;
    queue = new Queue('expert.test', { connection: conn, prefix });
  });
  afterEach(async () => {
    await queue.close();
    await deletePrefix(conn, prefix);
    for (const c of extraConns.splice(0)) c.disconnect();
    controllers.length = 0;
  });
  afterAll(() => conn.disconnect());

  const make = (settings: Partial<AdaptiveSettings> = {}, connection: Redis = conn) => {
    const c = new AdaptiveController(connection, adaptiveStateKey(prefix, 'test'), queue, {
      min: 2,
      max: 32,
      windowMin: 4,
      ...settings,
    });
    controllers.push(c);
    return c;
  };

  /** Pretends `n` jobs are active on the queue (what the controller checks before growing). */
  const setActive = async (n: number) => {
    await conn.del(queue.keys.active ?? '');
    if (n > 0) await conn.rpush(queue.keys.active ?? '', ...Array.from({ length: n }, (_, i) => `job-${i}`));
  };

  /** Reports requests at the current epoch until a window closes; returns the decision. */
  const window = async (c: AdaptiveController, sample: { latencyMs?: number; error?: boolean }) => {
    for (let i = 0; i < 200; i++) {
      const d = await c.observe({ epoch: c.epoch, ...sample });
      if (d.reason !== 'pending') return d;
    }
    throw new Error('no window closed');
  };

  /** Healthy windows (limit fully used) until the limit reaches `target` or stops moving. */
  const growTo = async (c: AdaptiveController, target: number, latencyMs = 100) => {
    for (let i = 0; i < 100 && c.limit < target; i++) {
      await setActive(c.limit);
      await window(c, { latencyMs });
    }
  };

  it('starts at its minimum and applies it as the queue’s global concurrency', async () => {
    const c = make();
    expect(await c.init()).toBe(2);
    expect(await queue.getGlobalConcurrency()).toBe(2);
  });

  it('grows while healthy: doubling (slow start), then never past the cap', async () => {
    const c = make({ max: 20 });
    await c.init();
    const seen = [c.limit];
    for (let i = 0; i < 40; i++) {
      await setActive(c.limit);
      await window(c, { latencyMs: 100 });
      seen.push(c.limit);
    }
    expect(seen.slice(0, 5)).toEqual([2, 4, 8, 16, 20]);
    expect(Math.max(...seen)).toBe(20);
    expect(await queue.getGlobalConcurrency()).toBe(20);
  });

  it('does not grow a limit that is not in use', async () => {
    const c = make();
    await c.init();
    await setActive(0);
    for (let i = 0; i < 5; i++) await window(c, { latencyMs: 100 });
    expect(c.limit).toBe(2);
  });

  it('backs off when latency rises past tolerance × the lowest seen, then grows additively', async () => {
    const c = make({ tolerance: 1.5 });
    await c.init();
    await growTo(c, 16);
    expect(c.limit).toBe(16);
    await setActive(16);
    const d = await window(c, { latencyMs: 200 });
    expect(d.reason).toBe('latency');
    // Leaving slow start: back to the limit before the last doubling (× 0.5).
    expect(c.limit).toBe(8);
    expect(await queue.getGlobalConcurrency()).toBe(8);
    // Healthy again: +1 per window now (congestion avoidance), not doubling.
    await setActive(8);
    await window(c, { latencyMs: 100 });
    expect(c.limit).toBe(9);
    // A later back-off is multiplicative by 0.75.
    await setActive(9);
    const again = await window(c, { latencyMs: 200 });
    expect(again.reason).toBe('latency');
    expect(c.limit).toBe(6); // floor(9 × 0.75)
  });

  it('holds when latency rises less than the tolerance', async () => {
    const c = make({ tolerance: 1.5, max: 8 });
    await c.init();
    await growTo(c, 8);
    await setActive(8);
    const d = await window(c, { latencyMs: 140 });
    expect(d.reason).not.toBe('latency');
    expect(c.limit).toBe(8);
  });

  it('backs off on a target latency when one is set', async () => {
    const c = make({ targetLatencyMs: 500 });
    await c.init();
    await growTo(c, 8, 400);
    const before = c.limit;
    await setActive(before);
    const d = await window(c, { latencyMs: 600 });
    expect(d.reason).toBe('latency');
    expect(c.limit).toBeLessThan(before);
  });

  it('backs off on errors, and never below its minimum', async () => {
    const c = make({ min: 3 });
    await c.init();
    await growTo(c, 12);
    const limits: number[] = [];
    for (let i = 0; i < 12; i++) {
      await setActive(c.limit);
      const d = await window(c, { error: true });
      expect(['errors', 'hold']).toContain(d.reason);
      limits.push(c.limit);
    }
    expect(limits[0]).toBeLessThan(12);
    expect(Math.min(...limits)).toBe(3);
    expect(await queue.getGlobalConcurrency()).toBe(3);
  });

  it('backs off while the server reports requests waiting in its own queue', async () => {
    const c = make();
    await c.init();
    await growTo(c, 8);
    c.setCongested(true);
    await setActive(c.limit);
    const d = await window(c, { latencyMs: 100 });
    expect(d.reason).toBe('congestion');
    expect(c.limit).toBe(4); // out of slow start: × 0.5
  });

  it('ignores reports of requests that started before the last change', async () => {
    const c = make();
    await c.init();
    const oldEpoch = c.epoch;
    await growTo(c, 4);
    expect(c.epoch).toBeGreaterThan(oldEpoch);
    await setActive(c.limit);
    for (let i = 0; i < 50; i++) {
      const d = await c.observe({ epoch: oldEpoch, latencyMs: 10_000 });
      expect(d.reason).toBe('stale');
    }
    expect(c.limit).toBe(4);
  });

  it('clamps the registry’s max to the capacity', () => {
    expect(adaptiveSettings(16, { min: 2, max: 64, tolerance: 1.5 })).toMatchObject({ min: 2, max: 16 });
    expect(adaptiveSettings(4, { min: 8, tolerance: 1.5 })).toMatchObject({ min: 4, max: 4 });
  });

  it('never sets a limit above the cap, even when configured with a larger one', async () => {
    const c = make(adaptiveSettings(10, { min: 1, max: 1000, tolerance: 1.5 }));
    await c.init();
    for (let i = 0; i < 30; i++) {
      await setActive(c.limit);
      await window(c, { latencyMs: 50 });
      expect(c.limit).toBeLessThanOrEqual(10);
      expect(await queue.getGlobalConcurrency()).toBeLessThanOrEqual(10);
    }
    expect(c.limit).toBe(10);
  });

  it('shares one limit between two processes (two controllers, two connections, one key)', async () => {
    const connB = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    extraConns.push(connB);
    const a = make();
    const b = make({}, connB);
    await a.init();
    await a.observe({ epoch: a.epoch, latencyMs: 100 });
    // B joins later: it must not reset A's state.
    expect(await b.init()).toBe(a.limit);
    expect(b.epoch).toBe(a.epoch);
    // Reports from both feed the same windows; both see each change.
    for (let i = 0; i < 30 && a.limit < 16; i++) {
      await setActive(Math.max(a.limit, b.limit));
      await a.observe({ epoch: a.epoch, latencyMs: 100 });
      await b.observe({ epoch: b.epoch, latencyMs: 100 });
    }
    await b.observe({ epoch: b.epoch, latencyMs: 100 });
    await a.observe({ epoch: a.epoch, latencyMs: 100 });
    expect(a.limit).toBeGreaterThanOrEqual(16);
    expect(b.limit).toBe(a.limit);
    expect(await queue.getGlobalConcurrency()).toBe(a.limit);
    // A slow window reported by B alone lowers the limit A sees.
    const before = a.limit;
    await setActive(before);
    await window(b, { latencyMs: 400 });
    expect(b.limit).toBeLessThan(before);
    await a.observe({ epoch: a.epoch, latencyMs: 100 });
    expect(a.limit).toBe(b.limit);
    const state = await AdaptiveController.read(conn, adaptiveStateKey(prefix, 'test'));
    expect(state?.limit).toBe(b.limit);
    expect(state?.lastReason).toBe('latency');
  });

  it('ends on the latest limit when two processes apply their changes out of order', async () => {
    const connB = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    extraConns.push(connB);
    // A's writes to the queue wait for a gate, so its decision reaches the queue last.
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    let held = 0;
    const slowQueue = {
      getActiveCount: () => queue.getActiveCount(),
      setGlobalConcurrency: async (n: number) => {
        held += 1;
        if (held > 1) await gate;
        return queue.setGlobalConcurrency(n);
      },
    };
    const a = new AdaptiveController(conn, adaptiveStateKey(prefix, 'test'), slowQueue, {
      min: 2,
      max: 32,
      windowMin: 4,
    });
    const b = make({}, connB);
    await a.init();
    await b.init();
    // A closes a healthy window (grow 2 -> 4) but its write is held back...
    await setActive(2);
    let aGrowth: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < 10 && held < 2; i++) {
      const pending = a.observe({ epoch: a.epoch, latencyMs: 100 });
      await new Promise((r) => setTimeout(r, 20));
      if (held >= 2) aGrowth = pending;
      else await pending;
    }
    expect(held).toBe(2);
    const state = await AdaptiveController.read(conn, adaptiveStateKey(prefix, 'test'));
    expect(state?.limit).toBe(4);
    // ...while B, one decision later, backs off (errors) and applies its limit first.
    await setActive(4);
    expect((await b.observe({ epoch: b.epoch, latencyMs: 100 })).reason).toBe('stale'); // B learns the epoch
    const d = await window(b, { error: true });
    expect(d.reason).toBe('errors');
    expect(await queue.getGlobalConcurrency()).toBe(b.limit);
    open();
    await aGrowth;
    // A wrote its stale 4, read the controller back and corrected the queue.
    expect(b.limit).toBeLessThan(4);
    expect(await queue.getGlobalConcurrency()).toBe(b.limit);
    expect(a.limit).toBe(b.limit);
  });
});

describe('vLLM metrics parsing', () => {
  it('sums a gauge over its series and ignores other metrics', () => {
    const text = [
      '# HELP vllm:num_requests_waiting Number of requests waiting.',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{model_name="a"} 3.0',
      'vllm:num_requests_waiting{model_name="b"} 2',
      'vllm:num_requests_waiting_total 99',
      'vllm:num_requests_running{model_name="a"} 7',
    ].join('\n');
    expect(promGauge(text, 'vllm:num_requests_waiting')).toBe(5);
    expect(promGauge(text, 'vllm:num_requests_running')).toBe(7);
    expect(promGauge(text, 'vllm:gpu_cache_usage_perc')).toBeNull();
  });
});
