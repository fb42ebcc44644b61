import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/hash.ts';
import { JsonPoster } from '../../src/models/http.ts';
import { JsonBodies, MIN_CACHED_CHARS } from '../../src/models/json-body.ts';

/** A base64 `data:` URL of about `chars` characters. */
function dataUrl(seed: number, chars: number): string {
  const rand = mulberry32(seed);
  const bytes = Buffer.alloc(Math.ceil((chars * 3) / 4));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

/** A chat request with these images in its last user message. */
function chatBody(text: string, images: string[]) {
  return {
    model: 'expert',
    temperature: 0,
    messages: [
      { role: 'system', content: 'You answer.' },
      {
        role: 'user',
        content: [
          { type: 'text', text },
          ...images.map((url) => ({ type: 'image_url', image_url: { url } })),
        ],
      },
    ],
  };
}

const joined = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');

describe('request bodies with their data: URLs encoded once', () => {
  it('gives the bytes of JSON.stringify for any body (3,000 random bodies)', () => {
    const rand = mulberry32(7);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const images = [1, 2, 3].map((s) => dataUrl(s, MIN_CACHED_CHARS + s * 1_000));
    const awkward = [
      'plain',
      'quote " backslash \\ newline \n tab \t',
      'é ü 中文 😀',
      '\u0000',
      '\u0000maestro-body-000000000000:0',
      'data:image/png;base64,AAAA',
      `data:${'x'.repeat(MIN_CACHED_CHARS)}\n"`,
      '',
    ];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.35)
        return pick<unknown>([...awkward, ...images, 0, -1.5, 1e21, true, false, null]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let k = Math.floor(rand() * 4); k > 0; k--)
        o[pick(['a', 'b', 'url', 'text', '"k"', 'é'])] = value(depth + 1);
      if (rand() < 0.1) o.skipped = undefined;
      return o;
    };
    const bodies = new JsonBodies(6 * (MIN_CACHED_CHARS + 4_000));
    let withImages = 0;
    for (let i = 0; i < 3_000; i++) {
      const body =
        rand() < 0.5
          ? value(0)
          : chatBody(
              pick(awkward),
              images.filter(() => rand() < 0.5),
            );
      const parts = bodies.encode(body);
      if (parts.length > 1) withImages++;
      expect(joined(parts)).toBe(JSON.stringify(body));
    }
    expect(withImages).toBeGreaterThan(500);
  });

  it('reuses the bytes of an image across requests, and sends a body without one as one buffer', () => {
    const bodies = new JsonBodies();
    const image = dataUrl(11, 200_000);
    const first = bodies.encode(chatBody('turn 1', [image]));
    const second = bodies.encode(chatBody('turn 2, longer', [image, image]));
    expect(first).toHaveLength(3);
    expect(second).toHaveLength(5);
    const imageBytes = first[1];
    expect(imageBytes?.toString()).toBe(JSON.stringify(image));
    expect(second[1]).toBe(imageBytes);
    expect(second[3]).toBe(imageBytes);
    // A copy of the same text (another string object) finds the same bytes too.
    expect(bodies.encode(chatBody('x', [`${image.slice(0, 10)}${image.slice(10)}`]))[1]).toBe(imageBytes);
    expect(bodies.encode(chatBody('no image', []))).toHaveLength(1);
    expect(bodies.encode(chatBody('small image', [dataUrl(12, 100)]))).toHaveLength(1);
  });

  it('keeps at most its byte budget, the least recently used out first', () => {
    // An entry counts twice its size: its bytes and the URL's text it is found by.
    const size = 2 * JSON.stringify(dataUrl(1, 10_000)).length;
    const bodies = new JsonBodies(3 * size);
    const [a, b, c, d] = [1, 2, 3, 4].map((s) => dataUrl(s, 10_000)) as [string, string, string, string];
    const bytesOf = (url: string) => bodies.encode(url)[1];
    const aBytes = bytesOf(a);
    const bBytes = bytesOf(b);
    bytesOf(c);
    expect(bytesOf(a)).toBe(aBytes); // used again: now the most recent
    bytesOf(d); // over budget: b goes
    expect(bodies.size).toBeLessThanOrEqual(3 * size);
    expect(bytesOf(a)).toBe(aBytes);
    expect(bytesOf(b)).not.toBe(bBytes);
    // Larger than the whole budget: encoded, never kept.
    const huge = dataUrl(5, 40_000);
    expect(joined(bodies.encode(huge))).toBe(JSON.stringify(huge));
    expect(bodies.size).toBeLessThanOrEqual(3 * size);
  });
});

/** Serves one POST; hands back the body text and its content-length header. */
function echo(req: IncomingMessage, res: ServerResponse, seen: Array<{ text: string; length: number }>) {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({
      text: Buffer.concat(chunks).toString('utf8'),
      length: Number(req.headers['content-length']),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
}

describe('posting a body with images', () => {
  const body = chatBody('how many?', [dataUrl(21, 300_000), dataUrl(22, 50_000), dataUrl(21, 300_000)]);
  const expected = JSON.stringify(body);

  it('sends exactly its JSON over plain HTTP', async () => {
    const seen: Array<{ text: string; length: number }> = [];
    const server = createHttpServer((req, res) => echo(req, res, seen));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const poster = new JsonPoster(
        'e',
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        5_000,
      );
      for (let i = 0; i < 2; i++) expect((await poster.post('/chat/completions', body, {})).status).toBe(200);
      expect(seen.map((s) => s.text)).toEqual([expected, expected]);
      expect(seen.map((s) => s.length)).toEqual([Buffer.byteLength(expected), Buffer.byteLength(expected)]);
    } finally {
      server.close();
    }
  });

  it('sends exactly its JSON over HTTPS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-body-tls-'));
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
          '-keyout',
          'key.pem',
          '-out',
          'cert.pem',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ]),
        { cwd: dir, stdio: 'ignore' },
      );
      const seen: Array<{ text: string; length: number }> = [];
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (req, res) => echo(req, res, seen),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      // A self-signed certificate made just now.
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      try {
        const poster = new JsonPoster(
          'e',
          `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
          5_000,
        );
        expect((await poster.post('/chat/completions', body, {})).status).toBe(200);
        expect(seen).toEqual([{ text: expected, length: Buffer.byteLength(expected) }]);
      } finally {
        server.close();
      }
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
