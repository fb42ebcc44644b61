/**
 * The release skills send through the project's model client and the skill runtime:
 * the run's call budget and deadline apply to them as to every skill (a typed error, not an
 * observation), failures reach the policy worded as the release's Python client words them,
 * and ModelClient.send reports each kind of failure as data.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseSettings } from '../../skills/release/run.ts';
import { processCaches } from '../../skills/release/services.ts';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import type { Item } from '../../src/core/items.ts';
import { loadRegistry, type Registry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import { ModelClient, SendError } from '../../src/models/client.ts';
import { SkillRuntime } from '../../src/skills-runtime/runtime.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
const RELEASE = join(SHARED, 'data/upstream-maestro/release');

type Mode = 'ok' | 'hang' | 'vllm400' | 'error500';
let mode: Mode = 'ok';
let requests: Array<Record<string, unknown>> = [];
let server: Server;
let url = '';
let dir: string;
let registry: Registry;
let store: DataStore;
const hanging: Array<() => void> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      const head = { 'content-type': 'application/json', 'retry-after-ms': '1' };
      if (mode === 'hang') {
        hanging.push(() => res.destroy());
        return;
      }
      if (mode === 'vllm400') {
        res.writeHead(400, head);
        res.end('{"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400}');
        return;
      }
      if (mode === 'error500') {
        res.writeHead(500, head);
        res.end('');
        return;
      }
      res.writeHead(200, head);
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  dir = mkdtempSync(join(tmpdir(), 'maestro-release-budget-'));
  store = new DataStore(join(dir, 'data'));
  const file = join(dir, 'registry.yaml');
  const ep = (name: string, extra = '') =>
    `  - { name: ${name}, model: ${name}, baseUrl: "${url}", capacity: 2${extra} }`;
  writeFileSync(
    file,
    [
      'version: 1',
      `upstream: "${RELEASE}"`,
      'experts:',
      ep('Step3-VL-10B'),
      'services:',
      ep('GLM-OCR', ', role: ocr'),
      ep('PR1-Detection', ', role: detection'),
      ep('DeepEyes-7B', ', role: zoom'),
      'skills:',
      '  - { name: none, implementation: "release:none" }',
      '  - { name: Chart_Problem_Solver, implementation: "release:Chart_Problem_Solver" }',
      '  - { name: OCRBench_Text_Recognition_Skill, implementation: "release:OCRBench_Text_Recognition_Skill" }',
    ].join('\n'),
  );
  registry = loadRegistry([file], {});
  releaseSettings.retryDelayMs = 0;
});

afterAll(async () => {
  for (const h of hanging) h();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const item = {
  id: 'i1',
  benchmark: 'b',
  question: 'q',
  images: [],
  answers: ['x'],
  answerType: 'text',
  extra: {},
} as unknown as Item;

async function run(runtime: SkillRuntime, skill: string, withImage = false) {
  processCaches.clear();
  const images = withImage
    ? [
        await store.putImage(
          readFileSync(join(ROOT, 'benchmarks/fixtures/files/tallyqa/images/tallyqa-0001.png')),
          'image/png',
          {
            width: 1,
            height: 1,
          },
        ),
      ]
    : [];
  return runtime.run({
    expert: registry.expert('Step3-VL-10B'),
    skill,
    input: 'What is shown?',
    item,
    images,
    headers: { 'x-maestro-item': 'i1' },
  });
}

describe('release skills within the runtime budget', () => {
  it('run within the default release budget and trace their calls', async () => {
    mode = 'ok';
    requests = [];
    const out = await run(new SkillRuntime({ registry, store }), 'none');
    expect(out.text).toBe('fine');
    expect(requests).toHaveLength(1);
    // The body is the release's, nothing added.
    expect(Object.keys(requests[0]!).sort()).toEqual(['messages', 'model', 'temperature', 'top_p']);
    expect(out.calls).toMatchObject([
      { service: 'Step3-VL-10B', ok: true, promptTokens: 3, completionTokens: 2 },
    ]);
  });

  it('stop at the call budget with a typed error instead of sending more', async () => {
    mode = 'ok';
    requests = [];
    const runtime = new SkillRuntime({ registry, store, maxCalls: 1 });
    // Chart: the chart-type call, then the answer call: the second is over budget.
    const err = await run(runtime, 'Chart_Problem_Solver').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(String((err as Error).message)).toMatch(/budget of 1 model calls/);
    expect(requests).toHaveLength(1);
  });

  it('stop at the deadline: the request is cancelled and the run fails retryably', async () => {
    mode = 'hang';
    requests = [];
    const runtime = new SkillRuntime({ registry, store, timeoutMs: 300 });
    const err = await run(runtime, 'none').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect(String((err as Error).message)).toMatch(/time budget/);
  });

  it("turn an expert's error status into the release's observation text", async () => {
    mode = 'vllm400';
    requests = [];
    const out = await run(new SkillRuntime({ registry, store }), 'OCRBench_Text_Recognition_Skill', true);
    expect(out.text).toBe(
      "Skill execution error: Error code: 400 - {'object': 'error', 'message': 'too long', 'type': 'BadRequestError', 'param': None, 'code': 400}",
    );
    expect(out.calls.at(-1)).toMatchObject({ ok: false });
  });
});

describe('release calls in the trace', () => {
  it('count each attempt of a retried call and keep its errors', async () => {
    mode = 'error500';
    requests = [];
    const out = await run(new SkillRuntime({ registry, store }), 'none');
    expect(out.text).toMatch(/^Skill execution error/);
    const failed = out.calls.filter((c) => !c.ok);
    expect(failed.length).toBeGreaterThan(0);
    // The client's two retries: three requests per call, each failed one's status kept.
    for (const c of failed) {
      expect(c.attempts).toBe(3);
      expect(c.attemptErrors).toEqual(Array(3).fill('HTTP 500 Internal Server Error'));
    }
    expect(requests).toHaveLength(3 * failed.length);
  });

  it('keep the images each request carried, by the hash of the bytes sent', async () => {
    mode = 'ok';
    requests = [];
    const out = await run(new SkillRuntime({ registry, store }), 'OCRBench_Text_Recognition_Skill', true);
    const sent = new Set<string>();
    for (const r of requests) {
      for (const m of r.messages as Array<{ content?: unknown }>) {
        if (!Array.isArray(m.content)) continue;
        for (const part of m.content as Array<{ image_url?: { url: string } }>) {
          const url = part.image_url?.url;
          if (url)
            sent.add(
              createHash('sha256')
                .update(Buffer.from(url.split(',')[1] ?? '', 'base64'))
                .digest('hex'),
            );
        }
      }
    }
    const refs = out.calls.flatMap((c) => c.images ?? []);
    expect(sent.size).toBeGreaterThan(0);
    expect(new Set(refs.map((r) => r.sha256))).toEqual(sent);
    for (const r of refs) expect(existsSync(store.imagePath(r))).toBe(true);
  });
});

describe('ModelClient.send failures as data', () => {
  const client = (baseUrl: string, timeoutMs = 60_000) =>
    new ModelClient({ name: 'x', model: 'm', baseUrl, timeoutMs }, {});
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => (e instanceof SendError ? e.failure : e),
    );

  it('keeps the raw body of an error status and retries as asked', async () => {
    mode = 'error500';
    requests = [];
    const f = await failure(client(url).send({ model: 'm', messages: [] }, { maxRetries: 2 }));
    expect(f).toEqual({ kind: 'status', status: 500, body: '' });
    expect(requests).toHaveLength(3);
    mode = 'vllm400';
    const g = await failure(client(url).send({ model: 'm', messages: [] }, { maxRetries: 2 }));
    expect(g).toMatchObject({ kind: 'status', status: 400, body: expect.stringContaining('"too long"') });
  });

  it('tells a timeout, a refused connection and an abort apart', async () => {
    mode = 'hang';
    expect(await failure(client(url).send({ model: 'm' }, { timeoutMs: 200 }))).toEqual({ kind: 'timeout' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await failure(client(`http://127.0.0.1:${port}/v1`).send({ model: 'm' }))).toMatchObject({
      kind: 'connection',
    });
    const abort = new AbortController();
    const p = failure(client(url).send({ model: 'm' }, { signal: abort.signal }));
    abort.abort();
    expect(await p).toEqual({ kind: 'aborted' });
  });
});
