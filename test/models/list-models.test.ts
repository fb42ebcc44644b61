import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import { redact } from '../../src/core/redact.ts';
import { listModels } from '../../src/models/endpoint.ts';

/** `GET /<case>/v1/models` answers as the case says; every request is noted. */
let server: Server;
let root = '';
const seen: Array<{ method: string; path: string; auth: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      path: req.url ?? '',
      auth: String(req.headers.authorization ?? ''),
    });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const c = (req.url ?? '').split('/')[1];
    if (c === 'ok') return json(200, { object: 'list', data: [{ id: 'm1', object: 'model' }, { id: 'm2' }] });
    if (c === 'denied') return json(401, { error: { message: 'bad key sk-test-123' } });
    if (c === 'down') return json(503, { error: { message: 'loading' } });
    if (c === 'odd') return json(200, { data: [{ name: 'no id' }] });
    if (c === 'hang') return; // never answers
    return json(404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const endpoint = (c: string, extra: { apiKeyEnv?: string; timeoutMs?: number } = {}) => ({
  name: `e-${c}`,
  model: 'm1',
  baseUrl: `${root}/${c}/v1/`,
  timeoutMs: 5_000,
  ...extra,
});

describe('listModels (the lean reachability check)', () => {
  it("GETs {baseUrl}/models with the endpoint's key and returns the served ids", async () => {
    seen.length = 0;
    const ids = await listModels(endpoint('ok', { apiKeyEnv: 'LM_KEY' }), { LM_KEY: 'sk-test-123' });
    expect(ids).toEqual(['m1', 'm2']);
    expect(seen).toEqual([{ method: 'GET', path: '/ok/v1/models', auth: 'Bearer sk-test-123' }]);
  });

  it('fails typed: other 4xx permanent (key redacted), 5xx and odd bodies retryable', async () => {
    const denied = await listModels(endpoint('denied', { apiKeyEnv: 'LM_KEY' }), {
      LM_KEY: 'sk-test-123',
    }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermanentError);
    expect((denied as Error).message).toContain('e-denied: request rejected (401)');
    expect(redact((denied as Error).message)).not.toContain('sk-test-123');
    await expect(listModels(endpoint('down'))).rejects.toThrow(RetryableError);
    await expect(listModels(endpoint('odd'))).rejects.toThrow(/unexpected \/models response/);
  });

  it('fails on a connection refused, a timeout and an unset key variable (before any request)', async () => {
    await expect(listModels({ ...endpoint('ok'), baseUrl: 'http://127.0.0.1:1/v1' })).rejects.toThrow(
      /connection failed/,
    );
    await expect(listModels(endpoint('hang', { timeoutMs: 100 }))).rejects.toThrow(/request timed out/);
    seen.length = 0;
    await expect(listModels(endpoint('ok', { apiKeyEnv: 'LM_UNSET' }), {})).rejects.toThrow(
      /environment variable LM_UNSET is not set/,
    );
    expect(seen).toEqual([]);
  });
});
