import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JsonPoster } from '../../src/models/http.ts';

const REPLY = '{"ok":true}';
const response = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${REPLY.length}\r\nconnection: keep-alive\r\n\r\n${REPLY}`;

/**
 * A server that answers one request per connection and resets the connection when a second
 * request arrives on it: what a client sees when it sends on a kept-alive connection the
 * server is closing at that moment.
 */
async function closingServer() {
  let connections = 0;
  let resets = 0;
  const server = createServer((socket: Socket) => {
    connections += 1;
    let requests = 0;
    socket.on('data', (chunk) => {
      if (!chunk.toString('latin1').includes('\r\n\r\n')) return;
      requests += 1;
      if (requests === 1) socket.write(response);
      else {
        resets += 1;
        socket.resetAndDestroy();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, server, stats: () => ({ connections, resets }) };
}

describe('the lean HTTP client on a kept-alive connection the server closed', () => {
  it('sends the request again on a new connection, once', async () => {
    const { url, server, stats } = await closingServer();
    try {
      const poster = new JsonPoster('sim', url, 5_000);
      for (let i = 0; i < 3; i++) {
        const reply = await poster.post('/chat/completions', { i }, {});
        expect(reply.body).toEqual({ ok: true });
      }
      // Requests 2 and 3 each met a reset on the kept-alive connection and went out again.
      expect(stats()).toEqual({ connections: 3, resets: 2 });
    } finally {
      server.close();
    }
  });
});
