import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Judge } from '../../src/core/registry.ts';
import { JudgeFileCache } from '../../src/data/judge-cache.ts';
import type { ChatRequest, ChatResult } from '../../src/models/client.ts';
import { JudgeRunner } from '../../src/models/judge.ts';
import { RedisLimiter } from '../../src/models/limiter.ts';
import { readGradingVerdict } from '../../src/scoring/judge/verdict.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-${randomBytes(5).toString('hex')}}`;
const dir = mkdtempSync(join(tmpdir(), 'maestro-judge-cap-'));
const a = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const b = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const noSleep = async () => {};

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const found = await a.keys(`${prefix}:*`);
  if (found.length) await a.del(...found);
  a.disconnect();
  b.disconnect();
});

const judge = (over: Partial<Judge> = {}) =>
  Judge.parse({ name: 'j', model: 'judge-m', baseUrl: 'http://127.0.0.1:1/v1', capacity: 2, ...over });

const ok = (text: string): ChatResult => ({
  text,
  finishReason: 'stop',
  promptTokens: 1,
  completionTokens: 1,
  latencyMs: 1,
});

describe('a judge is capped cluster-wide', () => {
  it('keeps at most `capacity` requests in flight across processes (Redis semaphore)', async () => {
    let active = 0;
    let peak = 0;
    const client = {
      async chat(req: ChatRequest): Promise<ChatResult> {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 20));
        active -= 1;
        return ok(`{"score": 1, "extracted_answer": ${JSON.stringify(String(req.messages[0]?.content))}}`);
      },
    };
    const cache = new JudgeFileCache(dir);
    const limiters = [new RedisLimiter(a, prefix), new RedisLimiter(b, prefix)];
    const runners = limiters.map(
      (limiter) => new JudgeRunner({ judge: judge({ capacity: 2 }), client, cache, limiter, sleep: noSleep }),
    );
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runners[i % 2]?.ask({ purpose: 'g', prompt: `item ${i}` }, readGradingVerdict),
      ),
    );
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(2);
    expect(runners.reduce((s, r) => s + r.calls, 0)).toBe(8);
    for (const l of limiters) await l.close();
  });
});
