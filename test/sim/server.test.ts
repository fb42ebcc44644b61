import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';
import { client, itemHeaders, makeDataDir, testCatalog, testRegistry } from './fixtures.ts';

const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';

let data: Awaited<ReturnType<typeof makeDataDir>>;
let fast: SimServer;
let slow: SimServer;
const savedScale = process.env.MAESTRO_SIM_LATENCY_SCALE;

beforeAll(async () => {
  delete process.env.MAESTRO_SIM_LATENCY_SCALE;
  data = await makeDataDir();
  const base = { registry: testRegistry(), catalog: testCatalog(), dataDir: data.dir };
  fast = await startSimServer({ ...base, latencyScale: 0 });
  slow = await startSimServer({ ...base, latencyScale: 1 });
});

afterAll(async () => {
  await fast?.close();
  await slow?.close();
  await data?.cleanup();
  if (savedScale !== undefined) process.env.MAESTRO_SIM_LATENCY_SCALE = savedScale;
});

const ask = (text: string) => [{ role: 'user' as const, content: text }];

describe('routes', () => {
  it('lists the served model of an endpoint', async () => {
    const models = await client(fast.url, 'Beta-1.5').models.list();
    expect(models.data.map((m) => m.id)).toEqual(['beta-sim']);
  });

  it('serves every endpoint of registry/simulated.yaml under the path of its baseUrl', async () => {
    const registry = loadRegistry(['registry/simulated.yaml'], { MAESTRO_SIM_URL: 'http://127.0.0.1:8990' });
    const sim = await startSimServer({
      registry,
      catalog: loadCatalog('benchmarks/catalog.yaml'),
      dataDir: data.dir,
      latencyScale: 0,
    });
    try {
      const entries = [...registry.experts, ...registry.services, ...registry.policies, ...registry.judges];
      expect(entries.length).toBeGreaterThan(8);
      for (const entry of entries) {
        const path = new URL(entry.baseUrl).pathname;
        const api = new OpenAI({ baseURL: `${sim.url}${path}`, apiKey: 'sim', maxRetries: 0 });
        const models = await api.models.list();
        expect(models.data[0]?.id).toBe(entry.model);
        const reply = await api.chat.completions.create({ model: entry.model, messages: ask('hello') });
        expect(reply.choices).toHaveLength(1);
      }
      expect(Object.keys(sim.stats()).sort()).toEqual(entries.map((e) => e.name).sort());
    } finally {
      await sim.close();
    }
  });

  it('answers an unknown path with 404 and an OpenAI-style error body', async () => {
    const res = await fetch(`${fast.url}/No-Such-Model/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.message).toMatch(/No-Such-Model/);
    expect(typeof body.error.type).toBe('string');
    expect(typeof body.error.code).toBe('string');
    await expect(
      client(fast.url, 'No-Such-Model').chat.completions.create({ model: 'x', messages: ask('hi') }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('rejects invalid JSON and invalid bodies with 400', async () => {
    const res = await fetch(`${fast.url}/Gamma/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "gamma-sim", "messages": [',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');

    const api = client(fast.url, 'Gamma');
    const bad = [
      { model: 'gamma-sim', messages: [] },
      { model: 'gamma-sim', messages: [{ role: 'user', content: 42 }] },
      { model: 'gamma-sim', messages: [{ role: 'user', content: [{ type: 'audio', data: 'x' }] }] },
      { model: 'gamma-sim', messages: ask('hi'), temperature: 'hot' },
      { model: 'gamma-sim', messages: ask('hi'), stop: 7 },
    ];
    for (const body of bad) {
      await expect(api.chat.completions.create(body as never)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    }
  });

  it('rejects a model name the endpoint does not serve, like vLLM', async () => {
    await expect(
      client(fast.url, 'Gamma').chat.completions.create({ model: 'beta-sim', messages: ask('hi') }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('reports per-endpoint stats at /_sim/stats', async () => {
    const res = await fetch(`${fast.url}/_sim/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, { capacity: number }>;
    expect(stats.Alpha?.capacity).toBe(2);
    expect(stats['Beta-1.5']?.capacity).toBe(16);
    expect(Object.keys(stats)).toContain('Reader');
    expect(Object.keys(stats)).toContain('maestro');
  });

  it('refuses a bad MAESTRO_SIM_LATENCY_SCALE', async () => {
    process.env.MAESTRO_SIM_LATENCY_SCALE = 'fast';
    try {
      await expect(
        startSimServer({ registry: testRegistry(), catalog: testCatalog(), dataDir: data.dir }),
      ).rejects.toBeInstanceOf(ConfigError);
    } finally {
      delete process.env.MAESTRO_SIM_LATENCY_SCALE;
    }
  });
});

describe('chat completions', () => {
  it('accepts text and image_url parts and reports usage', async () => {
    const question = 'Which bar is tallest in chart 2?';
    const reply = await client(fast.url, 'Beta-1.5').chat.completions.create(
      {
        model: 'beta-sim',
        temperature: 0,
        top_p: 1,
        seed: 3,
        n: 1,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: PIXEL } },
              { type: 'image_url', image_url: { url: PIXEL } },
              { type: 'text', text: question },
            ],
          },
        ],
      },
      { headers: itemHeaders('charts', 'c2') },
    );
    expect(reply.object).toBe('chat.completion');
    expect(reply.model).toBe('beta-sim');
    const choice = reply.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    const content = choice?.message.content ?? '';
    expect(content).toMatch(/The answer is [A-D]\.$/);
    expect(reply.usage?.prompt_tokens).toBe(Math.ceil(question.length / 4) + 2 * 256);
    expect(reply.usage?.completion_tokens).toBe(Math.ceil(content.length / 4));
    expect(reply.usage?.total_tokens).toBe(
      (reply.usage?.prompt_tokens ?? 0) + (reply.usage?.completion_tokens ?? 0),
    );
  });

  it('gives a vague answer without an item, and refuses an item it does not hold (422)', async () => {
    const api = client(fast.url, 'Beta-1.5');
    const none = await api.chat.completions.create({ model: 'beta-sim', messages: ask('What is shown?') });
    expect(none.choices[0]?.message.content).toBe('I cannot tell from the image.');
    const unknown = api.chat.completions.create(
      { model: 'beta-sim', messages: ask('What is shown?') },
      { headers: itemHeaders('charts', 'no-such-item') },
    );
    await expect(unknown).rejects.toMatchObject({ status: 422 });
    await expect(unknown).rejects.toThrow(/item charts\/no-such-item is not in its data directory/);
  });

  it('answers the same request the same way, also after a restart', async () => {
    const request = { model: 'gamma-sim', messages: ask('How many birds are in picture 5?') };
    const opts = { headers: itemHeaders('tally', 't5', 'Count_Solver', 11) };
    const a = await client(fast.url, 'Gamma').chat.completions.create(request, opts);
    const b = await client(fast.url, 'Gamma').chat.completions.create(request, opts);
    const again = await startSimServer({
      registry: testRegistry(),
      catalog: testCatalog(),
      dataDir: data.dir,
      latencyScale: 0,
    });
    try {
      const c = await client(again.url, 'Gamma').chat.completions.create(request, opts);
      expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
      expect(c.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
    } finally {
      await again.close();
    }
    // Different seeds give independent draws: across items, some answers must change.
    const differs = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const req = { model: 'gamma-sim', messages: ask(`How many birds are in picture ${i}?`) };
        const [x, y] = await Promise.all(
          [1, 2].map((seed) =>
            client(fast.url, 'Gamma').chat.completions.create(req, {
              headers: itemHeaders('tally', `t${i}`, 'direct', seed),
            }),
          ),
        );
        return x?.choices[0]?.message.content !== y?.choices[0]?.message.content;
      }),
    );
    expect(differs.some(Boolean)).toBe(true);
  });

  it('honours max_tokens with finish_reason "length"', async () => {
    const reply = await client(fast.url, 'Beta-1.5').chat.completions.create(
      { model: 'beta-sim', messages: ask('Which bar?'), max_tokens: 3 },
      { headers: itemHeaders('charts', 'c1') },
    );
    expect(reply.choices[0]?.finish_reason).toBe('length');
    expect(reply.choices[0]?.message.content?.length).toBeLessThanOrEqual(12);
    expect(reply.usage?.completion_tokens).toBeLessThanOrEqual(3);
  });
});

describe('capacity', () => {
  it('serves at most `capacity` requests at once and queues the rest', async () => {
    slow.resetStats();
    const api = client(slow.url, 'Alpha');
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.chat.completions.create(
          { model: 'alpha-sim', messages: ask(`Which bar is tallest in chart ${i}?`) },
          { headers: itemHeaders('charts', `c${i}`) },
        ),
      ),
    );
    expect(replies.every((r) => r.choices.length === 1)).toBe(true);
    const s = slow.stats().Alpha;
    expect(s?.requests).toBe(6);
    expect(s?.capacity).toBe(2);
    expect(s?.peakActive).toBeLessThanOrEqual(2);
    expect(s?.peakActive).toBe(2);
    expect(s?.peakInFlight).toBeGreaterThan(2);
    expect(s?.inFlight).toBe(0);
  });

  it('drops a queued request whose client gave up, freeing its place', async () => {
    slow.resetStats();
    const api = client(slow.url, 'Alpha');
    const quitter = client(slow.url, 'Alpha', 20);
    const calls = Array.from({ length: 4 }, (_, i) =>
      (i === 3 ? quitter : api).chat.completions.create(
        { model: 'alpha-sim', messages: ask(`Queued request ${i}`) },
        { headers: itemHeaders('charts', `c${i + 10}`) },
      ),
    );
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const failed = results[3];
    expect(failed?.status === 'rejected' && failed.reason instanceof OpenAI.APIConnectionTimeoutError).toBe(
      true,
    );
    const s = slow.stats().Alpha;
    expect(s?.inFlight).toBe(0);
    expect(s?.peakActive).toBeLessThanOrEqual(2);
  });
});

describe('faults', () => {
  const request = { model: 'gamma-sim', messages: ask('How many birds are in picture 3?') };
  const opts = { headers: itemHeaders('tally', 't3') };

  it('injects 500s', async () => {
    fast.setFaults({ Gamma: { error500Rate: 1 } });
    fast.resetStats();
    try {
      await expect(client(fast.url, 'Gamma').chat.completions.create(request, opts)).rejects.toBeInstanceOf(
        OpenAI.InternalServerError,
      );
      expect(fast.stats().Gamma?.errorsInjected).toBe(1);
      // Other endpoints are untouched.
      const ok = await client(fast.url, 'Beta-1.5').chat.completions.create({
        model: 'beta-sim',
        messages: ask('hi'),
      });
      expect(ok.choices).toHaveLength(1);
    } finally {
      fast.setFaults({});
    }
  });

  it('injects 429s with a retry-after header', async () => {
    fast.setFaults({ '*': { error429Rate: 1, retryAfterSec: 7 } });
    try {
      const err = await client(fast.url, 'Gamma')
        .chat.completions.create(request, opts)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    } finally {
      fast.setFaults({});
    }
  });

  it('resets the connection', async () => {
    fast.setFaults({ Gamma: { resetRate: 1 } });
    try {
      const err = await client(fast.url, 'Gamma')
        .chat.completions.create(request, opts)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      expect(fast.stats().Gamma?.inFlight).toBe(0);
    } finally {
      fast.setFaults({});
    }
  });

  it('returns empty choices', async () => {
    fast.setFaults({ Gamma: { emptyChoicesRate: 1 } });
    try {
      const reply = await client(fast.url, 'Gamma').chat.completions.create(request, opts);
      expect(reply.choices).toEqual([]);
      expect(reply.object).toBe('chat.completion');
    } finally {
      fast.setFaults({});
    }
  });

  it('cuts the JSON body short', async () => {
    fast.setFaults({ Gamma: { truncatedJsonRate: 1 } });
    try {
      const res = await fetch(`${fast.url}/Gamma/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.startsWith('{"id":"chatcmpl-')).toBe(true);
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      // The openai client surfaces a cut body as a plain SyntaxError, not an APIError.
      await expect(client(fast.url, 'Gamma').chat.completions.create(request, opts)).rejects.toBeInstanceOf(
        SyntaxError,
      );
    } finally {
      fast.setFaults({});
    }
  });

  it('draws faults anew for each retry of the same request', async () => {
    const clean = await client(fast.url, 'Gamma').chat.completions.create(request, opts);
    fast.setFaults({ Gamma: { error500Rate: 0.5 } });
    fast.resetStats();
    try {
      let failures = 0;
      const successes: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          const r = await client(fast.url, 'Gamma').chat.completions.create(request, opts);
          successes.push(r.choices[0]?.message.content ?? '');
        } catch (err) {
          expect(err).toBeInstanceOf(OpenAI.InternalServerError);
          failures += 1;
        }
      }
      expect(failures).toBeGreaterThan(0);
      expect(successes.length).toBeGreaterThan(0);
      expect(new Set(successes)).toEqual(new Set([clean.choices[0]?.message.content]));
      expect(fast.stats().Gamma?.errorsInjected).toBe(failures);
    } finally {
      fast.setFaults({});
    }
  });

  it('hangs until the client times out', async () => {
    slow.setFaults({ Gamma: { hangRate: 1 } });
    try {
      await expect(
        client(slow.url, 'Gamma', 300).chat.completions.create(request, opts),
      ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    } finally {
      slow.setFaults({});
    }
  });

  it('validates fault settings', () => {
    expect(() => fast.setFaults({ Gamma: { error500Rate: 2 } })).toThrow(ConfigError);
  });

  it('close() ends hung requests instead of waiting for them', async () => {
    const sim = await startSimServer({
      registry: testRegistry(),
      catalog: testCatalog(),
      dataDir: data.dir,
      faults: { '*': { hangRate: 1 } },
    });
    const pending = client(sim.url, 'Gamma', 60_000)
      .chat.completions.create(request, opts)
      .catch((e: unknown) => e);
    for (let i = 0; i < 200 && sim.stats().Gamma?.inFlight !== 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(sim.stats().Gamma?.inFlight).toBe(1);
    const outcome = await Promise.race([
      sim.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 5_000)),
    ]);
    expect(outcome).toBe('closed');
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
