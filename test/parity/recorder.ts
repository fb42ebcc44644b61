/**
 * One OpenAI-compatible HTTP server for the parity tests: it answers chat completions from a
 * script and records every request (model, messages, other parameters), with each image
 * replaced by its decoded form: mime, width × height × channels, and the sha256 of the
 * decoded pixels. Decoded pixels (not the JPEG file bytes) are compared because the release
 * encodes with PIL and this project with sharp: the compressed streams differ in Huffman
 * tables and headers while the pixels they decode to must be identical.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/**
 * A scripted reply: content (null = none), no choices, an HTTP error status (with the
 * default error body), or a raw body with any status (bad JSON, a server's own error text).
 */
export type Reply =
  | { content: string | null }
  | { noChoices: true }
  | { status: number }
  | { raw: string; status?: number }
  /** The connection is closed without a reply. */
  | { drop: true };

export type Script = (call: { index: number; model: string; body: Record<string, unknown> }) => Reply;

export interface Recorded {
  model: unknown;
  messages: unknown;
  params: Record<string, unknown>;
}

async function describeImage(url: string): Promise<string> {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!m) return `url ${url}`;
  const bytes = Buffer.from(m[2]!, 'base64');
  try {
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const hash = createHash('sha256').update(data).digest('hex');
    return `${m[1]} ${info.width}x${info.height}x${info.channels} pixels:${hash}`;
  } catch {
    return `${m[1]} undecodable bytes:${createHash('sha256').update(bytes).digest('hex')}`;
  }
}

/**
 * The one text normalisation: the release's Code skill runs candidate code from a randomly
 * named temporary file and feeds the traceback (which names that file) back to the expert,
 * so the name differs between any two runs, the release's own included.
 */
const TEMP_FILE = /\/tmp\/tmp[a-z0-9_]{8}\.py/g;
const stable = (text: string) => text.replace(TEMP_FILE, '<temporary file>');

async function normalizeContent(content: unknown): Promise<unknown> {
  if (typeof content === 'string') return stable(content);
  if (!Array.isArray(content)) return content;
  const out: unknown[] = [];
  for (const part of content as Array<Record<string, unknown>>) {
    if (part.type === 'image_url') {
      const url = (part.image_url as { url?: string } | undefined)?.url ?? '';
      out.push({ type: 'image_url', image: await describeImage(url) });
    } else if (part.type === 'text' && typeof part.text === 'string') {
      out.push({ ...part, text: stable(part.text) });
    } else out.push(part);
  }
  return out;
}

async function record(body: Record<string, unknown>): Promise<Recorded> {
  const { model, messages, ...params } = body;
  const normalized: unknown[] = [];
  for (const msg of (messages as Array<Record<string, unknown>>) ?? []) {
    normalized.push({ ...msg, content: await normalizeContent(msg.content) });
  }
  return { model, messages: normalized, params };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class Recorder {
  private server: Server | undefined;
  private calls: Array<Promise<Recorded>> = [];
  private script: Script = () => ({ content: 'ok' });
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, json, raw, drop }) => {
          if (drop) {
            req.socket.destroy();
            return;
          }
          // retry-after-ms: clients retry a failed request after 1 ms instead of backing off.
          res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '1' });
          res.end(raw ?? JSON.stringify(json));
        },
        (err: unknown) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err) } }));
        },
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** Starts a new recording, answered by `script`. */
  reset(script: Script): void {
    this.calls = [];
    this.script = script;
  }

  /** The requests recorded since the last reset, in arrival order. */
  recorded(): Promise<Recorded[]> {
    return Promise.all(this.calls);
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; json?: unknown; raw?: string; drop?: boolean }> {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      return { status: 404, json: { error: { message: `no route ${req.method} ${req.url}` } } };
    }
    const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const index = this.calls.length;
    this.calls.push(record(body));
    const reply = this.script({ index, model: String(body.model), body });
    if ('drop' in reply) return { status: 0, drop: true };
    if ('raw' in reply) return { status: reply.status ?? 200, raw: reply.raw };
    if ('status' in reply) return { status: reply.status, json: { error: { message: 'scripted failure' } } };
    const choices =
      'noChoices' in reply
        ? []
        : [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: 'stop' }];
    return {
      status: 200,
      json: {
        id: `cmpl-${index}`,
        object: 'chat.completion',
        created: 0,
        model: body.model,
        choices,
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      },
    };
  }
}
