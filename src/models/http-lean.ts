/**
 * A small HTTP/1.1 client for the chat calls of rollouts over plain `http:`: kept-alive
 * connections of its own, one write per request, replies framed by Content-Length or
 * chunked encoding (or by the close of the connection). It does what a JSON POST to an
 * OpenAI-compatible server needs and nothing else, at about half the CPU of node:http per
 * request (no request and response objects, streams or header validation on the way).
 * `https:` endpoints go through node:https (src/models/http.ts).
 */
import { connect, type Socket } from 'node:net';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { byteLength } from './json-body.ts';

/** A reply: its status, headers (lower-case names) and parsed JSON body (or its text). */
export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A reply that cannot be read (not HTTP, a bad length, not JSON, too large). */
class ReplyError extends Error {}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

function payloadLength(payload: Buffer | Buffer[]): number {
  return Array.isArray(payload) ? byteLength(payload) : payload.length;
}

/** What one request needs. */
export interface LeanRequest {
  path: string;
  headers: Record<string, string>;
  /** The body, as parts written one after the other (see json-body.ts). */
  payload: Buffer | Buffer[];
  timeoutMs: number;
  maxReplyBytes: number;
}

type Settle = { done: (r: JsonReply) => void; fail: (e: Error) => void };

/** One connection: at most one request on it at a time. */
class Connection {
  readonly socket: Socket;
  /** Unread bytes of the reply. */
  private pending: Buffer = Buffer.alloc(0);
  private reply: ReplyParser | null = null;
  private settle: Settle | null = null;
  private timer: NodeJS.Timeout | undefined;
  dead = false;
  idleSince = 0;

  constructor(
    private readonly pool: LeanPool,
    host: string,
    port: number,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.end(err));
    this.socket.on('close', () => this.end(new Error('connection closed before the reply')));
  }

  send(head: string, r: LeanRequest, settle: Settle): void {
    this.settle = settle;
    this.reply = new ReplyParser(r.maxReplyBytes);
    this.timer = setTimeout(
      () => this.end(new RetryableError(`${this.pool.name}: request timed out`)),
      r.timeoutMs,
    );
    this.socket.ref();
    this.socket.cork();
    this.socket.write(head);
    if (Array.isArray(r.payload)) for (const part of r.payload) this.socket.write(part);
    else this.socket.write(r.payload);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    if (!this.reply) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.socket.destroy();
      return;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let result: ReturnType<ReplyParser['feed']>;
    try {
      result = this.reply.feed(this.pending);
    } catch (err) {
      this.end(err as Error);
      return;
    }
    if (!result) return;
    this.pending = result.rest;
    this.finish(result.reply, result.keepAlive && result.rest.length === 0);
  }

  private finish(reply: JsonReply, reusable: boolean): void {
    clearTimeout(this.timer);
    const settle = this.settle;
    this.settle = null;
    this.reply = null;
    if (reusable) {
      this.idleSince = performance.now();
      this.socket.unref();
      this.pool.release(this);
    } else {
      this.dead = true;
      this.socket.destroy();
    }
    settle?.done(reply);
  }

  /** The connection failed or closed: the request on it (if any) fails, or ends with the close. */
  private end(err: Error): void {
    if (this.dead && !this.settle) return;
    clearTimeout(this.timer);
    this.dead = true;
    this.socket.destroy();
    const settle = this.settle;
    this.settle = null;
    if (!settle) return;
    // A reply framed by the end of the connection is complete now.
    const closed = this.reply?.closed(this.pending);
    this.reply = null;
    if (closed) settle.done(closed);
    else
      settle.fail(
        err instanceof RetryableError
          ? err
          : err instanceof ReplyError
            ? new RetryableError(`${this.pool.name}: ${err.message}`)
            : new RetryableError(`${this.pool.name}: connection failed (${err.message})`, {
                cause: err,
                hint: 'is the server up and the baseUrl right?',
              }),
      );
  }
}

/** Kept-alive connections to one `http:` origin. */
export class LeanPool {
  private readonly idle: Connection[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private sweeper: NodeJS.Timeout | undefined;

  /** `idleMs`: a connection unused this long is closed (before the server's own idle timeout). */
  constructor(
    readonly name: string,
    url: URL,
    private readonly idleMs: number,
  ) {
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
    this.hostHeader = url.host;
  }

  /** POSTs a JSON payload; the parsed JSON reply of any status, or a RetryableError. */
  post(r: LeanRequest): Promise<JsonReply> {
    let head = `POST ${r.path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: ${payloadLength(r.payload)}\r\n`;
    for (const [k, v] of Object.entries(r.headers)) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v))
        return Promise.reject(new PermanentError(`${this.name}: header ${k} holds a line break`));
      head += `${k}: ${v}\r\n`;
    }
    head += '\r\n';
    return new Promise((done, fail) => this.take().send(head, r, { done, fail }));
  }

  release(c: Connection): void {
    this.idle.push(c);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.closeIdle(), Math.max(250, this.idleMs / 4));
      this.sweeper.unref();
    }
  }

  /** Closes every idle connection (in-flight requests finish on theirs). */
  close(): void {
    for (const c of this.idle.splice(0)) c.socket.destroy();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** The most recently used idle connection still fresh enough, or a new one. */
  private take(): Connection {
    const now = performance.now();
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (!c.dead && now - c.idleSince < this.idleMs) return c;
      c.socket.destroy();
    }
    return new Connection(this, this.host, this.port);
  }

  private closeIdle(): void {
    const now = performance.now();
    const keep = this.idle.filter((c) => !c.dead && now - c.idleSince < this.idleMs);
    for (const c of this.idle) if (!keep.includes(c)) c.socket.destroy();
    this.idle.length = 0;
    this.idle.push(...keep);
    if (!keep.length) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}

/** Reads one reply: status line and headers, then a body framed by length, chunks or close. */
class ReplyParser {
  private status = 0;
  private headers: Record<string, string> | null = null;
  private framing: 'length' | 'chunked' | 'close' = 'close';
  private length = 0;
  private keepAlive = false;
  /** Where the body starts in the buffer, once the head is read. */
  private bodyAt = 0;

  constructor(private readonly maxBytes: number) {}

  /** The reply when the buffer holds all of it (with what follows it), else null. */
  feed(buf: Buffer): { reply: JsonReply; keepAlive: boolean; rest: Buffer } | null {
    if (buf.length > this.maxBytes) throw new ReplyError(`reply over ${this.maxBytes} bytes`);
    if (!this.headers && !this.readHead(buf)) return null;
    if (this.framing === 'length') {
      const end = this.bodyAt + this.length;
      if (buf.length < end) return null;
      return this.done(buf.subarray(this.bodyAt, end), buf.subarray(end));
    }
    if (this.framing === 'chunked') {
      const chunks = dechunk(buf, this.bodyAt);
      return chunks ? this.done(chunks.body, buf.subarray(chunks.end)) : null;
    }
    return null;
  }

  /** The reply of a connection that closed: complete only when framed by the close. */
  closed(buf: Buffer): JsonReply | null {
    if (!this.headers || this.framing !== 'close') return null;
    return this.build(buf.subarray(this.bodyAt));
  }

  private readHead(buf: Buffer): boolean {
    for (;;) {
      const end = buf.indexOf(CRLF_CRLF, this.bodyAt);
      if (end < 0) {
        if (buf.length - this.bodyAt > 64 * 1024) throw new ReplyError('reply head over 64 KiB');
        return false;
      }
      const lines = buf.toString('latin1', this.bodyAt, end).split('\r\n');
      const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
      if (!m) throw new ReplyError(`not an HTTP reply (${JSON.stringify((lines[0] ?? '').slice(0, 40))})`);
      this.bodyAt = end + 4;
      const status = Number(m[2]);
      // 1xx: an interim reply; the real one follows.
      if (status >= 100 && status < 200) continue;
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const k = line.slice(0, colon).trim().toLowerCase();
        const v = line.slice(colon + 1).trim();
        headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      }
      this.status = status;
      this.headers = headers;
      const connection = (headers.connection ?? '').toLowerCase();
      const te = (headers['transfer-encoding'] ?? '').toLowerCase();
      if (te.includes('chunked')) this.framing = 'chunked';
      else if (headers['content-length'] !== undefined) {
        this.length = Number(headers['content-length']);
        if (!Number.isSafeInteger(this.length) || this.length < 0)
          throw new ReplyError(`bad content-length ${headers['content-length']}`);
        this.framing = 'length';
      } else if (status === 204 || status === 304) {
        this.framing = 'length';
        this.length = 0;
      }
      this.keepAlive =
        this.framing !== 'close' &&
        (m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive'));
      return true;
    }
  }

  private done(body: Buffer, rest: Buffer) {
    return { reply: this.build(body), keepAlive: this.keepAlive, rest };
  }

  private build(body: Buffer): JsonReply {
    const text = body.toString('utf8');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch (err) {
      if (this.status < 300) throw new ReplyError(`reply is not JSON (${(err as Error).message})`);
      parsed = text;
    }
    return { status: this.status, headers: this.headers ?? {}, body: parsed };
  }
}

/** A chunked body from `at`: its bytes and where the reply ends, or null when incomplete. */
function dechunk(buf: Buffer, at: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let pos = at;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = Number.parseInt(buf.toString('latin1', pos, eol).split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) throw new ReplyError('bad chunk size in reply');
    if (size === 0) {
      // Trailers (ignored) up to an empty line.
      let p = eol + 2;
      for (;;) {
        const next = buf.indexOf('\r\n', p);
        if (next < 0) return null;
        if (next === p) return { body: Buffer.concat(parts), end: next + 2 };
        p = next + 2;
      }
    }
    const start = eol + 2;
    if (buf.length < start + size + 2) return null;
    parts.push(buf.subarray(start, start + size));
    pos = start + size + 2;
  }
}
