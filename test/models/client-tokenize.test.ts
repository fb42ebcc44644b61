import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import { type EndpointConfig, ModelClient, serverRoot } from '../../src/models/client.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';
import { FIRST_SPECIAL_ID } from '../../src/sim/tokenizer.ts';
import { makeDataDir, testCatalog, testRegistry } from '../sim/fixtures.ts';

let data: Awaited<ReturnType<typeof makeDataDir>>;
let sim: SimServer;

/** A server that records chat request bodies and answers with a fixed completion. */
let recorder: Server;
let recorderUrl = '';
const recorded: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  data = await makeDataDir();
  sim = await startSimServer({
    registry: testRegistry(),
    catalog: testCatalog(),
    dataDir: data.dir,
    latencyScale: 0,
  });
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      recorded.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      const body = JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const address = recorder.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  recorderUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await sim?.close();
  await data?.cleanup();
  await new Promise<void>((resolve) => (recorder ? recorder.close(() => resolve()) : resolve()));
});

function policyClient(baseUrl: string, model = 'maestro-sim', name = 'maestro'): ModelClient {
  const endpoint: EndpointConfig = { name, model, baseUrl, timeoutMs: 5_000 };
  return new ModelClient(endpoint, {});
}

describe('serverRoot', () => {
  it('takes a trailing /v1 or /v1/ off and leaves other URLs alone', () => {
    expect(serverRoot('http://h:8000/v1')).toBe('http://h:8000');
    expect(serverRoot('http://h:8000/v1/')).toBe('http://h:8000');
    expect(serverRoot('http://h/maestro/v1')).toBe('http://h/maestro');
    expect(serverRoot('http://h/maestro')).toBe('http://h/maestro');
    expect(serverRoot('http://h/maestro/')).toBe('http://h/maestro');
    expect(serverRoot('http://h/v1x')).toBe('http://h/v1x');
    expect(serverRoot('http://h/api/v1/extra')).toBe('http://h/api/v1/extra');
  });
});

describe('ModelClient.tokenize / detokenize against the simulator', () => {
  const samples = [
    '',
    'plain ascii',
    '<|im_start|>user<information>The answer is B.</information><|im_end|>',
    'émoji 🙂 and 漢字, <|im_end tail without its bar',
    '<|vision_start|><|image_pad|><|vision_end|><|endoftext|>',
    'lone surrogate \ud800 here',
  ];

  it('round-trips text through the policy tokenizer', async () => {
    const c = policyClient(`${sim.url}/maestro/v1`);
    for (const text of samples) {
      const ids = await c.tokenize(text);
      expect(await c.detokenize(ids)).toBe(text);
    }
  });

  it('gives special strings one token each and other code points their number', async () => {
    const c = policyClient(`${sim.url}/maestro/v1`);
    expect(await c.tokenize('a<|im_end|>🙂')).toEqual([97, FIRST_SPECIAL_ID + 1, 0x1f642]);
    expect(await c.detokenize([FIRST_SPECIAL_ID, 104, 105])).toBe('<|im_start|>hi');
  });

  it('finds the root with and without /v1 in the base URL', async () => {
    for (const base of [`${sim.url}/maestro/v1`, `${sim.url}/maestro/v1/`, `${sim.url}/maestro`]) {
      const c = policyClient(base);
      expect(await c.tokenize('ab')).toEqual([97, 98]);
      expect(await c.detokenize([99])).toBe('c');
    }
  });

  it('turns 4xx answers into PermanentError', async () => {
    const wrongModel = policyClient(`${sim.url}/maestro/v1`, 'no-such-model');
    await expect(wrongModel.tokenize('x')).rejects.toBeInstanceOf(PermanentError);
    // Experts have no tokenizer endpoint in the simulator: 404.
    const expert = policyClient(`${sim.url}/Alpha/v1`, 'alpha-sim', 'Alpha');
    await expect(expert.tokenize('x')).rejects.toBeInstanceOf(PermanentError);
    // A token id past the vocabulary: 400.
    const c = policyClient(`${sim.url}/maestro/v1`);
    await expect(c.detokenize([FIRST_SPECIAL_ID + 1000])).rejects.toBeInstanceOf(PermanentError);
    await expect(c.detokenize([-1])).rejects.toThrow(/request rejected \(400\)/);
  });

  it('turns a refused connection into RetryableError', async () => {
    const c = policyClient('http://127.0.0.1:1/v1');
    await expect(c.tokenize('x')).rejects.toBeInstanceOf(RetryableError);
  });

  it('rejects a reply of the wrong shape as retryable', async () => {
    // The recorder answers every POST with a chat completion, which is no tokenize reply.
    const c = policyClient(`${recorderUrl}/v1`);
    await expect(c.tokenize('x')).rejects.toThrow(/unexpected \/tokenize response/);
    await expect(c.detokenize([1])).rejects.toBeInstanceOf(RetryableError);
  });
});

describe('ModelClient.chat vLLM template parameters', () => {
  const base = { messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0, maxTokens: 8 };

  it('sends the extra fields only when set', async () => {
    const c = policyClient(`${recorderUrl}/v1`);
    recorded.length = 0;
    await c.chat(base);
    await c.chat({ ...base, addGenerationPrompt: true, chatTemplate: '{{ messages }}' });
    await c.chat({ ...base, continueFinalMessage: true, addGenerationPrompt: false });
    const [plain, first, later] = recorded;
    for (const key of ['continue_final_message', 'add_generation_prompt', 'chat_template']) {
      expect(plain).not.toHaveProperty(key);
    }
    expect(first).toMatchObject({ add_generation_prompt: true, chat_template: '{{ messages }}' });
    expect(first).not.toHaveProperty('continue_final_message');
    expect(later).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
    expect(later).not.toHaveProperty('chat_template');
  });

  it('gets a PermanentError when the server refuses the flags', async () => {
    const c = policyClient(`${sim.url}/maestro/v1`);
    const both = { ...base, continueFinalMessage: true, addGenerationPrompt: true };
    await expect(c.chat(both)).rejects.toBeInstanceOf(PermanentError);
    await expect(c.chat(both)).rejects.toThrow(/Cannot set both/);
  });
});
