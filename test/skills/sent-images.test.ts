/**
 * The trace keeps what a call sent: every image (the item's own and the crops and drawn boxes
 * a skill makes) stored in the data directory under its hash, and the call's attempts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Job } from 'bullmq';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallTrace, Item } from '../../src/core/items.ts';
import type { EarlierAttempt } from '../../src/core/jobs.ts';
import { loadRegistry, type Registry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import {
  type ChatRequest,
  type ChatResult,
  ClientCache,
  type EndpointConfig,
  type ModelClient,
} from '../../src/models/client.ts';
import { callsBeforeFailure, SkillRuntime } from '../../src/skills-runtime/runtime.ts';
import { MAX_CALL_IMAGES, SentImages, sentImageUrls } from '../../src/skills-runtime/sent-images.ts';
import { earlierAttempt, noteFailedAttempt, withEarlierAttempts } from '../../src/workers/expert-attempts.ts';

/** Clients that answer from a table and record each request. */
class FakeClients extends ClientCache {
  readonly sent: Array<{ name: string; req: ChatRequest }> = [];
  constructor(private readonly replies: Record<string, () => string | Error>) {
    super();
  }
  override get(endpoint: EndpointConfig): ModelClient {
    const { sent, replies } = this;
    return {
      endpoint,
      async chat(req: ChatRequest): Promise<ChatResult> {
        sent.push({ name: endpoint.name, req });
        const r = replies[endpoint.name]?.() ?? 'The answer is 2.';
        if (r instanceof Error) throw r;
        return { text: r, finishReason: 'stop', promptTokens: 5, completionTokens: 3, latencyMs: 1 };
      },
    } as unknown as ModelClient;
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytesOf = (url: string) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');

let dir: string;
let store: DataStore;
let registry: Registry;
let item: Item;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-sent-'));
  store = new DataStore(join(dir, 'data'));
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#d0e0f0' } })
    .png()
    .toBuffer();
  const ref = await store.putImage(png, 'image/png', { width: 300, height: 200 });
  item = {
    id: 'c1',
    benchmark: 'counting',
    question: 'How many apples are there?',
    images: [ref],
    answers: ['2'],
    answerType: 'integer',
    extra: {},
  };
  registry = loadRegistry([resolve(import.meta.dirname, '../../registry/simulated.yaml')], {});
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (skill: string) => ({
  expert: registry.expert('GLM-4.6V-Flash'),
  skill,
  input: 'count the apples',
  item,
  images: item.images,
  headers: { 'x-maestro-seed': '0' },
});

describe('images a skill sends, in its trace', () => {
  it('stores the drawn-box image and the crop a counting skill sends, byte for byte, and references them', async () => {
    const clients = new FakeClients({
      'PR1-Qwen2.5-VL-3B-Detection': () => '[{"bbox_2d": [20, 20, 120, 90], "label": "apple"}]',
      'DeepEyes-7B': () => '{"bbox_2d": [100, 50, 250, 180]}',
    });
    const rt = new SkillRuntime({ registry, store, clients });
    const out = await rt.run(request('Counting_Problem_Solver'));
    const expertCalls = out.calls.filter((c) => c.service === 'expert');
    const sent = clients.sent.filter((s) => s.name === 'GLM-4.6V-Flash');
    expect(expertCalls).toHaveLength(sent.length);
    expect(sent.length).toBeGreaterThan(0);
    for (const [i, call] of expertCalls.entries()) {
      const urls = sentImageUrls(sent[i]!.req.messages as Array<{ content?: unknown }>);
      expect(urls.length).toBe(3); // the item's image, the boxes drawn on it, the zoomed crop
      // The first is the item's stored image itself; the others are stored as they were sent.
      expect(call.images?.map((r) => r.sha256)).toEqual([
        item.images[0]!.sha256,
        sha(bytesOf(urls[1]!)),
        sha(bytesOf(urls[2]!)),
      ]);
      for (const ref of call.images!.slice(1)) {
        const stored = await store.readImage(ref);
        expect(sha(stored)).toBe(ref.sha256);
        expect(ref.width).toBeGreaterThan(0);
      }
    }
    // The auxiliary calls: the item's image by reference (no copy).
    const detection = out.calls.find((c) => c.service === 'PR1-Qwen2.5-VL-3B-Detection');
    expect(detection?.images).toEqual(item.images);
  });

  it('keeps at most MAX_CALL_IMAGES references per call and skips what is no image', async () => {
    const tiny = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const url = `data:image/png;base64,${tiny.toString('base64')}`;
    const kept = new SentImages(store);
    const refs = await kept.refs([...Array(MAX_CALL_IMAGES + 3)].map(() => url));
    expect(refs).toHaveLength(MAX_CALL_IMAGES);
    expect(new Set(refs.map((r) => r.sha256))).toEqual(new Set([sha(tiny)]));
    expect(
      await kept.refs(['data:image/png;base64,bm90IGFuIGltYWdl', 'https://example.com/x.png']),
    ).toHaveLength(1);
  });

  it('hands the calls a failed run had sent to whoever retries it', async () => {
    const boom = new Error('expert down');
    const clients = new FakeClients({
      'PR1-Qwen2.5-VL-3B-Detection': () => '[]',
      'DeepEyes-7B': () => 'no zoom',
      'GLM-4.6V-Flash': () => boom,
    });
    const rt = new SkillRuntime({ registry, store, clients });
    const err = await rt.run(request('Counting_Problem_Solver')).catch((e: unknown) => e);
    const calls = callsBeforeFailure(err);
    expect(calls.map((c) => [c.service, c.ok])).toEqual([
      ['PR1-Qwen2.5-VL-3B-Detection', true],
      ['DeepEyes-7B', true],
      ['expert', false],
    ]);
    expect(calls[2]?.error).toBe('expert down');
    expect(callsBeforeFailure(new Error('other'))).toEqual([]);
  });
});

describe('attempts of a call', () => {
  const call = (service: string, extra: Partial<CallTrace> = {}): CallTrace => ({
    service,
    model: 'm',
    latencyMs: 1,
    promptTokens: 1,
    completionTokens: 1,
    ok: true,
    ...extra,
  });

  it('adds a retried job’s earlier attempts to the calls at the same place', () => {
    const first = earlierAttempt(new Error('expert: server error 500'), [
      call('ocr'),
      call('expert', { ok: false, error: 'expert: server error 500', attemptErrors: ['HTTP 500'] }),
    ]);
    const second = earlierAttempt(new Error('expert: request timed out'), [
      call('ocr'),
      call('expert', { ok: false, error: 'expert: request timed out' }),
    ]);
    const merged = withEarlierAttempts([call('ocr'), call('expert'), call('expert')], [first, second]);
    expect(merged.map((c) => [c.attempts, c.attemptErrors])).toEqual([
      [3, undefined],
      [3, ['HTTP 500', 'expert: request timed out']],
      [undefined, undefined],
    ]);
    // A cache hit now: the requests were the earlier attempts' only.
    const cached = withEarlierAttempts([call('ocr', { cached: true })], [first, second]);
    expect(cached[0]?.attempts).toBe(2);
    // Another service at that place: not the same call.
    expect(withEarlierAttempts([call('caption')], [first])[0]?.attempts).toBeUndefined();
  });

  it('notes a failed attempt in the job only when the queue will run it again, within the payload limit', async () => {
    const data = {
      v: 1 as const,
      sweepId: 's',
      rolloutId: 'r',
      turn: 0,
      expert: 'e',
      skill: 'k',
      input: 'i',
      benchmark: 'b',
      itemId: 'x',
      images: [],
      seed: 0,
    };
    const fakeJob = (attemptsMade: number) => {
      const updates: unknown[] = [];
      const job = { attemptsMade, opts: { attempts: 4 }, updateData: async (d: unknown) => updates.push(d) };
      return { job: job as unknown as Job, updates };
    };
    const failed = [call('expert', { ok: false, error: 'server error 500' })];
    const last = fakeJob(3);
    await noteFailedAttempt(last.job, data, new Error('server error 500'), failed);
    expect(last.updates).toEqual([]);
    const first = fakeJob(0);
    await noteFailedAttempt(first.job, data, new Error('server error 500'), failed);
    expect(first.updates).toEqual([
      {
        ...data,
        earlier: [
          { error: 'server error 500', calls: [{ service: 'expert', ok: false, error: 'server error 500' }] },
        ],
      },
    ]);
    const many = [...Array(64)].map(() =>
      call('expert', { ok: false, error: 'e'.repeat(1000), attemptErrors: ['x'.repeat(1000)] }),
    );
    const big = fakeJob(0);
    const prior = [...Array(4)].map(() => earlierAttempt(new Error('old'), many));
    await noteFailedAttempt(big.job, { ...data, earlier: prior }, new Error('new'), many);
    const written = big.updates[0] as { earlier: EarlierAttempt[] };
    expect(written.earlier.map((e) => e.error)).toEqual(['old', 'old', 'old', 'old', 'new']);
    expect(written.earlier.every((e) => e.calls.length === 0)).toBe(true);
  });
});
