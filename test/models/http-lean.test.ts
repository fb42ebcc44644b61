import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import { LeanPool } from '../../src/models/http-lean.ts';

const servers: Array<Server | HttpServer> = [];
const pools: LeanPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  for (const s of servers.splice(0)) {
    (s as HttpServer).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

/** A raw TCP server answering each request (head and body read by content-length) with `reply`. */
async function raw(reply: (socket: Socket, n: number) => void) {
  let connections = 0;
  let requests = 0;
  const server = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.slice(end + 4 + len);
        reply(socket, ++requests);
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${port}/v1`), stats: () => ({ connections, requests }) };
}

function pool(url: URL, idleMs = 4_000) {
  const p = new LeanPool('Lean', url, idleMs);
  pools.push(p);
  return p;
}

const post = (
  p: LeanPool,
  body: unknown = { q: 1 },
  headers: Record<string, string> = {},
  timeoutMs = 5_000,
) =>
  p.post({
    path: '/v1/chat/completions',
    headers,
    payload: Buffer.from(JSON.stringify(body)),
    timeoutMs,
    maxReplyBytes: 1024,
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lean HTTP client', () => {
  it('posts JSON to node:http and reuses the connection for the next request', async () => {
    const seen: Array<{ path?: string; headers: Record<string, unknown>; body: string }> = [];
    let connections = 0;
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({ path: req.url, headers: req.headers, body });
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.setHeader('X-Mixed-Case', 'v');
        res.end(JSON.stringify({ echo: JSON.parse(body), n: seen.length }));
      });
    });
    server.on('connection', () => connections++);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const p = pool(new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1`));
    const first = await post(p, { q: 'ü' }, { authorization: 'Bearer k' });
    const second = await post(p, { q: 2 });
    expect(first).toMatchObject({ status: 200, body: { echo: { q: 'ü' }, n: 1 } });
    expect(first.headers['x-mixed-case']).toBe('v');
    expect(first.headers['set-cookie']).toBe('a=1, b=2');
    expect(second.body).toEqual({ echo: { q: 2 }, n: 2 });
    expect(seen[0]).toMatchObject({ path: '/v1/chat/completions', body: '{"q":"ü"}' });
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer k', 'content-type': 'application/json' });
    expect(connections).toBe(1);
  });

  it('reads chunked replies cut anywhere, and replies framed by the close of the connection', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(100) });
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${(40).toString(16)};ext=1\r\n${body.slice(0, 40)}\r\n${(body.length - 40).toString(16)}\r\n${body.slice(40)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    const s = await raw((socket) => {
      // Written a few bytes at a time.
      let at = 0;
      const next = () => {
        socket.write(chunked.slice(at, at + 7));
        at += 7;
        if (at < chunked.length) setTimeout(next, 1);
      };
      next();
    });
    const p = pool(s.url);
    expect((await post(p)).body).toEqual(JSON.parse(body));
    expect((await post(p)).body).toEqual(JSON.parse(body));
    expect(s.stats().connections).toBe(1);

    const closing = await raw((socket) =>
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n${body}`),
    );
    const q = pool(closing.url);
    expect((await post(q)).body).toEqual(JSON.parse(body));
    expect((await post(q)).body).toEqual(JSON.parse(body));
    expect(closing.stats().connections).toBe(2);
  });

  it('skips an interim 100 reply, and does not reuse a connection the server closes', async () => {
    const s = await raw((socket, n) =>
      socket.write(
        `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"n":${n}}`,
      ),
    );
    const p = pool(s.url);
    expect((await post(p)).body).toEqual({ n: 1 });
    expect((await post(p)).body).toEqual({ n: 2 });
    expect(s.stats().connections).toBe(2);
  });

  it('turns bad replies, hangs and broken connections into retryable errors naming the endpoint', async () => {
    const s = await raw((socket, n) => {
      if (n === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
      else if (n === 2) socket.write('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nupstr');
      else if (n === 3) socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n${'x'.repeat(2000)}`);
      else if (n === 4) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut":');
      else if (n === 5) socket.write('SSH-2.0-OpenSSH\r\n\r\n');
      // n === 6: never answered.
    });
    const p = pool(s.url);
    const failure = async (timeoutMs = 5_000) => {
      const err = await post(p, {}, {}, timeoutMs).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RetryableError);
      return (err as Error).message;
    };
    expect(await failure()).toMatch(/^Lean: reply is not JSON/);
    // A non-2xx reply that is not JSON keeps its text for the error the caller makes.
    expect(await post(p)).toMatchObject({ status: 502, body: 'upstr' });
    expect(await failure()).toMatch(/^Lean: reply over 1024 bytes/);
    expect(await failure()).toMatch(/^Lean: connection failed/);
    expect(await failure()).toMatch(/^Lean: not an HTTP reply/);
    expect(await failure(200)).toBe('Lean: request timed out');
    const refused = pool(new URL('http://127.0.0.1:1/v1'));
    await expect(post(refused)).rejects.toThrow(/^Lean: connection failed \(.*ECONNREFUSED/);
  });

  it('refuses a header value with a line break', async () => {
    const s = await raw((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'));
    const err = await post(pool(s.url), {}, { 'x-evil': 'a\r\nx-injected: 1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect(s.stats().requests).toBe(0);
  });

  it('closes connections idle for longer than its idle time instead of reusing them', async () => {
    const s = await raw((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'));
    const p = pool(s.url, 60);
    await post(p);
    await post(p);
    expect(s.stats().connections).toBe(1);
    await sleep(150);
    await post(p);
    expect(s.stats().connections).toBe(2);
  });
});
