import { type Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { type JsonReply, LeanPool } from './http-lean.ts';
import { byteLength, sharedBodies } from './json-body.ts';

/** A reply larger than this is refused (retryable): no endpoint answers a chat call with more. */
const MAX_REPLY_BYTES = 64 * 2 ** 20;

export type { JsonReply };

function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** One JSON request: its target, the connection to use and its limits. */
interface JsonRequest {
  name: string;
  url: URL;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** The body, as parts written one after the other (see json-body.ts). */
  payload?: Buffer[];
  /** A keep-alive agent, or false for one connection closed after the reply. */
  agent: HttpAgent | false;
  timeoutMs: number;
}

/** Sends one request; the parsed JSON reply of any status, or a typed error. */
function requestJson(r: JsonRequest): Promise<JsonReply> {
  const send = r.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<JsonReply>((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(
        err instanceof RetryableError
          ? err
          : new RetryableError(`${r.name}: connection failed (${err.message})`, {
              cause: err,
              hint: 'is the server up and the baseUrl right?',
            }),
      );
    };
    const req = send(
      {
        protocol: r.url.protocol,
        hostname: r.url.hostname,
        port: r.url.port,
        path: `${r.url.pathname}${r.path}`,
        method: r.method,
        agent: r.agent,
        headers: {
          ...(r.payload ? { 'content-type': 'application/json' } : {}),
          accept: 'application/json',
          ...(r.payload ? { 'content-length': String(byteLength(r.payload)) } : {}),
          ...r.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPLY_BYTES) {
            req.destroy(new RetryableError(`${r.name}: reply over ${MAX_REPLY_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch (err) {
            if ((res.statusCode ?? 0) < 300) {
              reject(new RetryableError(`${r.name}: reply is not JSON (${(err as Error).message})`));
              return;
            }
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: parsed });
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new RetryableError(`${r.name}: request timed out`)),
      r.timeoutMs,
    );
    req.on('error', fail);
    // The parts go out together (corked), with the headers.
    req.cork();
    for (const part of r.payload ?? []) req.write(part);
    req.end();
    req.uncork();
  });
}

/**
 * A lean JSON-over-HTTP poster for the chat calls of a rollout: kept-alive connections per
 * endpoint, one write per request, no retries (the queue retries). Plain `http:` goes
 * through a small HTTP/1.1 client of its own (http-lean.ts), `https:` through node:https
 * with a keep-alive agent; either costs a fraction of the general-purpose SDK's CPU per
 * request, which matters at hundreds of calls a second.
 */
export class JsonPoster {
  private readonly url: URL;
  private readonly agent: HttpsAgent | undefined;
  private readonly lean: LeanPool | undefined;

  /**
   * `idleMs`: a kept-alive connection unused this long is closed here, before the server's own
   * idle timeout (5 s for Node, uvicorn and so vLLM) can close it while a request is going out
   * on it (the request would fail with a reset). Default 4 000.
   */
  constructor(
    readonly name: string,
    baseUrl: string,
    private readonly timeoutMs: number,
    idleMs = 4_000,
  ) {
    this.url = new URL(baseUrl.replace(/\/+$/, ''));
    if (this.url.protocol === 'http:') this.lean = new LeanPool(name, this.url, idleMs);
    // The agent's `timeout` closes idle sockets only; a request in flight has its own timer.
    else this.agent = new HttpsAgent({ keepAlive: true, timeout: idleMs });
  }

  /** POSTs `body` to base URL + `path`; the parsed JSON reply of any status, or a typed error. */
  post(path: string, body: unknown, headers: Record<string, string>): Promise<JsonReply> {
    const payload = sharedBodies.encode(body);
    if (this.lean)
      return this.lean.post({
        path: `${this.url.pathname}${path}`,
        headers,
        payload,
        timeoutMs: this.timeoutMs,
        maxReplyBytes: MAX_REPLY_BYTES,
      });
    return requestJson({
      name: this.name,
      url: this.url,
      method: 'POST',
      path,
      headers,
      payload,
      agent: this.agent as HttpsAgent,
      timeoutMs: this.timeoutMs,
    });
  }
}

/**
 * GETs base URL + `path` on a connection of its own (closed after the reply): one-off
 * requests such as the reachability check before a sweep. The parsed JSON reply of any
 * status, or a typed error.
 */
export function getJson(
  name: string,
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<JsonReply> {
  const url = new URL(baseUrl.replace(/\/+$/, ''));
  return requestJson({ name, url, method: 'GET', path, headers, agent: false, timeoutMs });
}

/** The server's error text of a non-2xx reply (`{error: {message}}`, `{message}` or the text). */
function errorText(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 500);
  const o = body as { error?: { message?: unknown } | string; message?: unknown } | undefined;
  if (typeof o?.error === 'string') return o.error;
  if (typeof o?.error?.message === 'string') return o.error.message;
  if (typeof o?.message === 'string') return o.message;
  return JSON.stringify(body ?? '').slice(0, 500);
}

/**
 * A non-2xx reply as a typed error, as the SDK path classifies it: 429 (with retry-after)
 * and 5xx/408/409 are retryable, any other status is permanent.
 */
export function statusError(
  name: string,
  reply: JsonReply,
  retryAfterMs: (h: Record<string, string>) => number | undefined,
): RetryableError | PermanentError {
  const { status } = reply;
  if (status === 429)
    return new RetryableError(`${name}: rate limited (429)`, { retryAfterMs: retryAfterMs(reply.headers) });
  if (status >= 500 || status === 408 || status === 409 || status === 0)
    return new RetryableError(`${name}: server error ${status || ''}`.trim());
  return new PermanentError(`${name}: request rejected (${status}): ${status} ${errorText(reply.body)}`, {
    hint: status === 404 ? 'check the served model name and baseUrl in the registry' : undefined,
  });
}
