import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JsonPoster } from '../../src/models/http.ts';

const REPLY = '{"ok":true}';
const response = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${REPLY.length}\r\nconnection: keep-alive\r\n\r\n${REPLY}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A keep-alive server that answers each request after `delayMs`; counts connections and closes. */
async function keepAliveServer(delayMs: number) {
  const stats = { connections: 0, closedByClient: 0 };
  const server = createServer((socket: Socket) => {
    stats.connections += 1;
    socket.on('data', (chunk) => {
      if (chunk.toString('latin1').includes('\r\n\r\n')) setTimeout(() => socket.write(response), delayMs);
    });
    socket.on('end', () => {
      stats.closedByClient += 1;
      socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, server, stats };
}

describe('the lean HTTP client’s kept-alive connections', () => {
  it('reuses a connection while it is busy, and closes it itself once idle (before the server would)', async () => {
    const { url, server, stats } = await keepAliveServer(0);
    try {
      const poster = new JsonPoster('sim', url, 5_000, 150);
      for (let i = 0; i < 3; i++)
        expect((await poster.post('/chat/completions', { i }, {})).body).toEqual({ ok: true });
      expect(stats).toEqual({ connections: 1, closedByClient: 0 });
      await sleep(400);
      // Idle past 150 ms: closed from this side, so the next request opens a new connection.
      expect(stats.closedByClient).toBe(1);
      expect((await poster.post('/chat/completions', {}, {})).body).toEqual({ ok: true });
      expect(stats.connections).toBe(2);
    } finally {
      server.close();
    }
  });

  it('lets a request run longer than the idle time', async () => {
    const { url, server } = await keepAliveServer(500);
    try {
      const poster = new JsonPoster('sim', url, 5_000, 100);
      expect((await poster.post('/chat/completions', {}, {})).body).toEqual({ ok: true });
    } finally {
      server.close();
    }
  });
});
