import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import { judgeInputHash } from '../../src/core/judge.ts';
import { Judge } from '../../src/core/registry.ts';
import { JudgeFileCache } from '../../src/data/judge-cache.ts';
import type { ChatRequest, ChatResult } from '../../src/models/client.ts';
import { JudgeFailedError, JudgeRunner } from '../../src/models/judge.ts';
import { readGradingVerdict } from '../../src/scoring/judge/verdict.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-judge-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const judge = (over: Partial<Judge> = {}) =>
  Judge.parse({ name: 'j', model: 'judge-m', baseUrl: 'http://127.0.0.1:1/v1', capacity: 2, ...over });

const ok = (text: string): ChatResult => ({
  text,
  finishReason: 'stop',
  promptTokens: 1,
  completionTokens: 1,
  latencyMs: 1,
});

/** A fake endpoint answering from a script of replies (or errors), recording requests. */
function scripted(replies: Array<string | Error>) {
  const requests: ChatRequest[] = [];
  return {
    requests,
    async chat(req: ChatRequest): Promise<ChatResult> {
      requests.push(req);
      const next = replies[Math.min(requests.length - 1, replies.length - 1)];
      if (next instanceof Error) throw next;
      return ok(next as string);
    },
  };
}

const noSleep = async () => {};
let n = 0;
const freshCache = () => new JudgeFileCache(join(dir, `c${n++}`));

describe('judge input hash (the cache key with the model)', () => {
  it('is the sha256 of the request: same prompt and settings, same hash', () => {
    const a = judgeInputHash('grade this', { temperature: 0, maxTokens: 512 });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeInputHash('grade this', { temperature: 0, maxTokens: 512 })).toBe(a);
    expect(judgeInputHash('grade that', { temperature: 0, maxTokens: 512 })).not.toBe(a);
    expect(judgeInputHash('grade this', { temperature: 0.7, maxTokens: 512 })).not.toBe(a);
    expect(judgeInputHash('grade this', { temperature: 0, maxTokens: 256 })).not.toBe(a);
  });

  it('stores entries per model and hash in the data directory; another model misses', async () => {
    const cache = new JudgeFileCache(join(dir, 'layout'));
    const h = judgeInputHash('q', { temperature: 0, maxTokens: 8 });
    await cache.put('org/model-a', h, { output: '{"score": 1}', purpose: 'p' });
    const file = cache.path('org/model-a', h);
    expect(file.startsWith(join(dir, 'layout', 'judge-cache'))).toBe(true);
    expect(file.endsWith(join(h.slice(0, 2), `${h}.json`))).toBe(true);
    expect(await cache.get('org/model-a', h)).toBe('{"score": 1}');
    expect(await cache.get('org/model-b', h)).toBeUndefined();
    expect(JSON.parse(readFileSync(cache.path('org/model-a', h), 'utf8'))).toMatchObject({
      model: 'org/model-a',
      inputHash: h,
    });
    writeFileSync(cache.path('org/model-a', h), '{broken');
    expect(await cache.get('org/model-a', h)).toBeUndefined();
    expect(() => cache.path('m', '../../etc/passwd')).toThrow(/sha256/);
  });
});

describe('JudgeRunner', () => {
  it('asks once; the same question again is answered from the cache with no call', async () => {
    const client = scripted(['{"extracted_answer": "3", "score": 1}']);
    const cache = freshCache();
    const runner = new JudgeRunner({ judge: judge(), client, cache, sleep: noSleep });
    const first = await runner.ask({ purpose: 'charxiv-grade', prompt: 'P' }, readGradingVerdict);
    expect(first.value).toEqual({ extracted: '3', score: 1 });
    expect(first.trace).toMatchObject({
      judge: 'j',
      model: 'judge-m',
      cached: false,
      purpose: 'charxiv-grade',
    });
    expect(first.trace.inputHash).toBe(judgeInputHash('P', { temperature: 0, maxTokens: 512 }));
    expect(client.requests[0]).toMatchObject({ temperature: 0, maxTokens: 512 });
    expect(client.requests[0]?.messages).toEqual([{ role: 'user', content: 'P' }]);
    // A second runner (another process) with the same data directory: no call.
    const again = new JudgeRunner({ judge: judge(), client, cache, sleep: noSleep });
    const second = await again.ask({ purpose: 'charxiv-grade', prompt: 'P' }, readGradingVerdict);
    expect(second.trace.cached).toBe(true);
    expect(second.trace.output).toBe(first.trace.output);
    expect(client.requests).toHaveLength(1);
    expect(again.calls).toBe(0);
  });

  it('retries an unreadable reply and caches only the readable one', async () => {
    const client = scripted(['I think it is right.', '{"extracted_answer": "x", "score": 0}']);
    const cache = freshCache();
    const runner = new JudgeRunner({ judge: judge(), client, cache, sleep: noSleep });
    const r = await runner.ask({ purpose: 'g', prompt: 'Q' }, readGradingVerdict);
    expect(r.value.score).toBe(0);
    expect(client.requests).toHaveLength(2);
    const h = judgeInputHash('Q', { temperature: 0, maxTokens: 512 });
    expect(await cache.get('judge-m', h)).toBe('{"extracted_answer": "x", "score": 0}');
  });

  it('retries failed calls with backoff (the server retry-after when given)', async () => {
    const pauses: number[] = [];
    const client = scripted([
      new RetryableError('j: server error 500'),
      new RetryableError('j: rate limited (429)', { retryAfterMs: 1234 }),
      '{"score": 1, "extracted_answer": "ok"}',
    ]);
    const runner = new JudgeRunner({
      judge: judge(),
      client,
      cache: freshCache(),
      sleep: async (ms) => {
        pauses.push(ms);
      },
    });
    expect((await runner.ask({ purpose: 'g', prompt: 'R' }, readGradingVerdict)).value.score).toBe(1);
    expect(pauses).toHaveLength(2);
    expect(pauses[0]).toBeGreaterThan(0);
    expect(pauses[1]).toBe(1234);
  });

  it('fails with the cause after its attempts, and caches nothing', async () => {
    const client = scripted(['no verdict here']);
    const cache = freshCache();
    const runner = new JudgeRunner({ judge: judge({ attempts: 3 }), client, cache, sleep: noSleep });
    const asking = runner.ask({ purpose: 'charxiv-grade', prompt: 'S' }, readGradingVerdict);
    await expect(asking).rejects.toThrow(JudgeFailedError);
    await expect(asking).rejects.toThrow(
      /judge j \(judge-m\) gave no readable charxiv-grade verdict after 3 attempt\(s\): .*no JSON verdict/,
    );
    expect(client.requests).toHaveLength(3);
    expect(
      await cache.get('judge-m', judgeInputHash('S', { temperature: 0, maxTokens: 512 })),
    ).toBeUndefined();
  });

  it('does not retry a rejected request (4xx)', async () => {
    const client = scripted([new PermanentError('j: request rejected (401): bad key')]);
    const runner = new JudgeRunner({ judge: judge(), client, cache: freshCache(), sleep: noSleep });
    await expect(runner.ask({ purpose: 'g', prompt: 'T' }, readGradingVerdict)).rejects.toThrow(
      /after 1 attempt\(s\): .*401/,
    );
    expect(client.requests).toHaveLength(1);
  });

  it('caps in-process without a limiter (a re-score on one machine)', async () => {
    let active = 0;
    let peak = 0;
    const client = {
      async chat(): Promise<ChatResult> {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        return ok('{"score": 0, "extracted_answer": ""}');
      },
    };
    const runner = new JudgeRunner({
      judge: judge({ capacity: 3 }),
      client,
      cache: freshCache(),
      sleep: noSleep,
    });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => runner.ask({ purpose: 'g', prompt: `p${i}` }, readGradingVerdict)),
    );
    expect(peak).toBeLessThanOrEqual(3);
    expect(runner.calls).toBe(10);
  });
});

describe('JudgeRunner asked the same question twice at once', () => {
  it('sends it once; the second asker gets the same reply, marked as not its own call', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let sent = 0;
    const client = {
      async chat(): Promise<ChatResult> {
        sent += 1;
        await gate;
        return ok('{"extracted_answer": "7", "score": 1}');
      },
    };
    const runner = new JudgeRunner({ judge: judge(), client, cache: freshCache(), sleep: noSleep });
    const a = runner.ask({ purpose: 'g', prompt: 'same' }, readGradingVerdict);
    const b = runner.ask({ purpose: 'g', prompt: 'same' }, readGradingVerdict);
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(sent).toBe(1);
    expect(ra.value).toEqual(rb.value);
    expect([ra.trace.cached, rb.trace.cached]).toEqual([false, true]);
  });
});
