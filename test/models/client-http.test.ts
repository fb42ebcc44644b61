import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import { withAttemptLog } from '../../src/models/attempts.ts';
import { ModelClient } from '../../src/models/client.ts';

/** A server whose reply depends on the request's `x-case` header. */
let server: Server;
let base = '';
const seen: Array<{ path: string; auth: string; trace: string; body: Record<string, unknown> }> = [];

function reply(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) {
  seen.push({
    path: req.url ?? '',
    auth: String(req.headers.authorization ?? ''),
    trace: String(req.headers['x-trace'] ?? ''),
    body,
  });
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  switch (req.headers['x-case']) {
    case '429':
      return json(429, { error: { message: 'slow down' } }, { 'retry-after': '3' });
    case '500':
      return json(500, { error: { message: 'boom' } });
    case '400':
      return json(400, { error: { message: 'bad max_tokens' } });
    case 'not-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"choices": [');
    case 'no-choices':
      return json(200, { choices: [] });
    case 'hang':
      return; // never answers
    case 'cut':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"choices"');
      return res.destroy();
    default:
      return json(200, {
        choices: [{ index: 0, message: { role: 'assistant', content: 'four' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 7, completion_tokens: 2 },
      });
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => reply(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const client = (timeoutMs = 5_000) =>
  new ModelClient({ name: 'Plain', model: 'm-1', baseUrl: base, timeoutMs }, { KEY: 'k-123' });
const ask = (c: ModelClient, kase?: string) =>
  c.chat({
    messages: [{ role: 'user', content: 'how many?' }],
    temperature: 0,
    maxTokens: 16,
    seed: 3,
    headers: { 'x-trace': 't1', ...(kase ? { 'x-case': kase } : {}) },
  });

describe('chat over the keep-alive poster', () => {
  it('posts the OpenAI request body to <baseUrl>/chat/completions and reads the completion', async () => {
    const out = await ask(client());
    expect(out).toMatchObject({ text: 'four', finishReason: 'stop', promptTokens: 7, completionTokens: 2 });
    const last = seen[seen.length - 1]!;
    expect(last.path).toBe('/v1/chat/completions');
    expect(last.auth).toBe('Bearer EMPTY');
    expect(last.trace).toBe('t1');
    expect(last.body).toEqual({
      model: 'm-1',
      messages: [{ role: 'user', content: 'how many?' }],
      temperature: 0,
      max_tokens: 16,
      seed: 3,
    });
  });

  it('sends the key from the environment as a bearer token', async () => {
    const c = new ModelClient(
      { name: 'Keyed', model: 'm', baseUrl: base, apiKeyEnv: 'KEY', timeoutMs: 5_000 },
      { KEY: 'k-123' },
    );
    await ask(c);
    expect(seen[seen.length - 1]!.auth).toBe('Bearer k-123');
  });

  it('types errors as the queue needs them: retryable, with retry-after, or permanent', async () => {
    const c = client();
    const limited = await ask(c, '429').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RetryableError);
    expect((limited as RetryableError).message).toMatch(/rate limited \(429\)/);
    expect((limited as RetryableError).retryAfterMs).toBe(3_000);
    await expect(ask(c, '500')).rejects.toThrow(/Plain: server error 500/);
    await expect(ask(c, '500')).rejects.toBeInstanceOf(RetryableError);
    const rejected = await ask(c, '400').catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(PermanentError);
    expect((rejected as Error).message).toMatch(/request rejected \(400\).*bad max_tokens/);
    await expect(ask(c, 'not-json')).rejects.toThrow(/not JSON/);
    await expect(ask(c, 'no-choices')).rejects.toThrow(/no choices/);
    await expect(ask(c, 'cut')).rejects.toBeInstanceOf(RetryableError);
  });

  it('counts each request in the attempt log it is given; calls in parallel keep their own', async () => {
    const c = client();
    const failed = withAttemptLog((attempts) =>
      c.chat({ messages: [], temperature: 0, maxTokens: 4, headers: { 'x-case': '500' }, attempts }),
    );
    const fine = withAttemptLog((attempts) =>
      c.chat({ messages: [], temperature: 0, maxTokens: 4, attempts }),
    );
    await expect(failed.result).rejects.toBeInstanceOf(RetryableError);
    await fine.result;
    expect(failed.log).toEqual({ attempts: 1, errors: ['HTTP 500 Internal Server Error'] });
    expect(fine.log).toEqual({ attempts: 1, errors: [] });
    // A call without a log is not counted anywhere (and needs no async context).
    await ask(c);
    expect(fine.log.attempts).toBe(1);
  });

  it('gives up on a request that takes longer than the endpoint timeout', async () => {
    const err = await ask(client(300), 'hang').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/Plain: request timed out/);
  });

  it('refuses a base URL where nothing listens, as a retryable connection failure', async () => {
    const c = new ModelClient({
      name: 'Gone',
      model: 'm',
      baseUrl: 'http://127.0.0.1:1/v1',
      timeoutMs: 2_000,
    });
    const err = await ask(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/Gone: connection failed/);
  });
});
