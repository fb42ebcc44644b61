import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { promGauge } from '../../src/models/adaptive.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';

const MEDIAN = 300;

describe('simulated server: batch knee, service-time accounting and vLLM queue gauges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-knee-'));
  let sim: SimServer;
  const savedScale = process.env.MAESTRO_SIM_LATENCY_SCALE;

  beforeAll(async () => {
    delete process.env.MAESTRO_SIM_LATENCY_SCALE;
    const file = join(dir, 'registry.yaml');
    const expert = (name: string, capacity: number, knee?: { at: number; slowdown: number }) => ({
      name,
      model: name.toLowerCase(),
      baseUrl: `http://127.0.0.1:1/${name}/v1`,
      capacity,
      sim: { latencyMs: { median: MEDIAN, sigma: 0 }, ...(knee ? { knee } : {}) },
    });
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        experts: [expert('Knee', 16, { at: 2, slowdown: 0.5 }), expert('Flat', 16), expert('Narrow', 1)],
      }),
    );
    sim = await startSimServer({
      registry: loadRegistry([file], {}),
      catalog: loadCatalog('benchmarks/catalog.yaml'),
      dataDir: join(dir, 'data'),
      latencyScale: 1,
    });
  });

  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
    if (savedScale !== undefined) process.env.MAESTRO_SIM_LATENCY_SCALE = savedScale;
  });

  const burst = (endpoint: string, n: number) => {
    const api = new OpenAI({ baseURL: `${sim.url}/${endpoint}/v1`, apiKey: 'sim', maxRetries: 0 });
    return Promise.all(
      Array.from({ length: n }, (_, i) =>
        api.chat.completions.create({
          model: endpoint.toLowerCase(),
          messages: [{ role: 'user', content: `request ${i}` }],
        }),
      ),
    );
  };

  it('slows each request down by its active count past the knee', async () => {
    await burst('Knee', 6);
    const s = sim.stats().Knee;
    // All six were active at once, so they started with 1..6 active: factors 1, 1, 1.5, 2, 2.5, 3.
    expect(s?.peakActive).toBe(6);
    expect(s?.completed).toBe(6);
    expect(s?.busyMs).toBeCloseTo(MEDIAN * 11, 6);
  });

  it('keeps service time constant without a knee', async () => {
    await burst('Flat', 6);
    const s = sim.stats().Flat;
    expect(s?.peakActive).toBe(6);
    expect(s?.busyMs).toBeCloseTo(MEDIAN * 6, 6);
  });

  it('reports running and waiting requests like vLLM’s /metrics', async () => {
    const pending = burst('Narrow', 3);
    for (let i = 0; i < 200 && (sim.stats().Narrow?.inFlight ?? 0) < 3; i++)
      await new Promise((r) => setTimeout(r, 10));
    const text = await (await fetch(`${sim.url}/Narrow/metrics`)).text();
    expect(promGauge(text, 'vllm:num_requests_running')).toBe(1);
    expect(promGauge(text, 'vllm:num_requests_waiting')).toBe(2);
    await pending;
    const after = await (await fetch(`${sim.url}/Narrow/metrics`)).text();
    expect(promGauge(after, 'vllm:num_requests_waiting')).toBe(0);
  });
});
