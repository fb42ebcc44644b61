/**
 * Simulated OpenAI-compatible servers for every endpoint of a registry: experts,
 * auxiliary services and policies, all in one HTTP server, each under `/<name>/v1`.
 *
 * Replies are deterministic functions of the request (item, skill and seed headers, the
 * messages) and the registry's `sim` profiles, so a sweep against the simulator gives the
 * same numbers every time. Each endpoint behaves like a vLLM server of the registry's
 * `capacity`: at most that many requests are served at once, the rest wait in FIFO order,
 * and each takes a lognormal service time once it holds a slot.
 *
 * Environment: MAESTRO_SIM_LATENCY_SCALE, when set, overrides the `latencyScale` option
 * (a non-negative number; 0 answers at once, 0.1 is ten times faster than the profiles).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { ConfigError } from '../core/errors.ts';
import { fastParse } from '../core/fast-check.ts';
import { hashLognormal, hashUnit, sha256, stableStringify } from '../core/hash.ts';
import type { Item } from '../core/items.ts';
import type { Expert, Judge, Policy, Registry, Service } from '../core/registry.ts';
import { DataStore } from '../data/store.ts';
import type { SimContext } from './context.ts';
import { expertReply } from './expert.ts';
import {
  HOSTILE_EXPERT_KINDS,
  HOSTILE_POLICY_KINDS,
  type HostileKind,
  hostileCompletion,
  hostileReply,
} from './hostile.ts';
import { judgeReply } from './judge.ts';
import { policyReply } from './policy.ts';
import { releaseReply } from './release.ts';
import {
  applyStop,
  ChatRequest,
  type ItemRef,
  isReleaseRequest,
  parseItemHeader,
  parseSeedHeader,
  simplifyMessages,
  stopList,
  templateProblem,
} from './request.ts';
import { serviceReply } from './services.ts';
import { Slots } from './slots.ts';
import {
  DetokenizeRequest,
  detokenize,
  SIM_MAX_MODEL_LEN,
  TokenizeRequest,
  tokenize,
  tokenMeter,
} from './tokenizer.ts';

export interface SimFaults {
  error500Rate?: number;
  /** 400 Bad Request: a permanent failure (no retry helps), answered after the service time. */
  error400Rate?: number;
  error429Rate?: number;
  /**
   * 401 whose message echoes the request's Authorization header, as some providers do
   * ("Incorrect API key provided: Bearer sk-…"): tests check that no key leaves a worker.
   */
  error401EchoRate?: number;
  retryAfterSec?: number;
  hangRate?: number;
  resetRate?: number;
  truncatedJsonRate?: number;
  emptyChoicesRate?: number;
  /** Replies that break the protocol or carry prompt injection (see hostile.ts); 200 OK. */
  hostileRate?: number;
  /** Restrict hostile replies to these kinds (default: all that fit the endpoint). */
  hostileKinds?: HostileKind[];
}

export interface SimServerOptions {
  registry: Registry; // from src/core/registry.ts; serves every expert, service and policy in it
  catalog: BenchmarkCatalog; // benchmark id -> domain
  dataDir: string; // DataStore root: datasets hold the gold answers
  port?: number; // 0 (default) = a free port
  host?: string; // default '127.0.0.1'
  seed?: number; // default 0
  latencyScale?: number; // multiplies every sampled latency (0 = instant); default 1
  faults?: Record<string, SimFaults>; // by endpoint name (or '*' for all)
  /** Called with every chat request the server accepts (tests look at what models were shown). */
  observe?: (endpointKind: 'policy' | 'expert' | 'service', ctx: SimContext) => void;
}

export interface EndpointStats {
  requests: number;
  peakInFlight: number;
  peakActive: number;
  inFlight: number;
  errorsInjected: number;
  capacity: number;
  /** Requests answered after their service time (not faults that skip it). */
  completed: number;
  /** Sum of the service times slept while holding a batch slot (ms): the endpoint's busy time. */
  busyMs: number;
}

export interface SimServer {
  url: string;
  stats(): Record<string, EndpointStats>;
  resetStats(): void;
  setFaults(f: Record<string, SimFaults>): void;
  close(): Promise<void>;
}

const Rate = z.number().min(0).max(1).optional();
const FaultsSchema = z.record(
  z.string(),
  z.strictObject({
    error500Rate: Rate,
    error400Rate: Rate,
    error429Rate: Rate,
    error401EchoRate: Rate,
    retryAfterSec: z.number().nonnegative().optional(),
    hangRate: Rate,
    resetRate: Rate,
    truncatedJsonRate: Rate,
    emptyChoicesRate: Rate,
    hostileRate: Rate,
    hostileKinds: z.array(z.enum([...HOSTILE_POLICY_KINDS, ...HOSTILE_EXPERT_KINDS])).optional(),
  }),
);

type FaultKind = '500' | '400' | '401-echo' | '429' | 'hang' | 'reset' | 'truncated' | 'empty' | 'hostile';
/** Order in which the fault rates share the unit interval. */
const FAULT_ORDER: Array<[FaultKind, Exclude<keyof SimFaults, 'hostileKinds'>]> = [
  ['500', 'error500Rate'],
  ['400', 'error400Rate'],
  ['401-echo', 'error401EchoRate'],
  ['429', 'error429Rate'],
  ['hang', 'hangRate'],
  ['reset', 'resetRate'],
  ['truncated', 'truncatedJsonRate'],
  ['empty', 'emptyChoicesRate'],
  ['hostile', 'hostileRate'],
];

const DEFAULT_LATENCY = { median: 100, sigma: 0.3 };
const MAX_BODY_BYTES = 64 * 1024 * 1024;

type Endpoint = {
  name: string;
  model: string;
  latency: { median: number; sigma: number };
  knee: { at: number; slowdown: number } | undefined;
  slots: Slots;
  stats: Omit<EndpointStats, 'capacity'>;
} & (
  | { kind: 'expert'; entry: Expert }
  | { kind: 'service'; entry: Service }
  | { kind: 'policy'; entry: Policy }
  | { kind: 'judge'; entry: Judge }
);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function validateFaults(faults: Record<string, SimFaults>): Record<string, SimFaults> {
  const parsed = FaultsSchema.safeParse(faults);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError('(sim faults)', issue?.path.join('.') ?? '', issue?.message ?? 'invalid faults');
}

function resolveLatencyScale(option: number | undefined): number {
  const fromEnv = process.env.MAESTRO_SIM_LATENCY_SCALE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const v = Number(fromEnv);
    if (!Number.isFinite(v) || v < 0) {
      throw new ConfigError(
        '(environment)',
        'MAESTRO_SIM_LATENCY_SCALE',
        `expected a number >= 0, got "${fromEnv}"`,
      );
    }
    return v;
  }
  const v = option ?? 1;
  if (!Number.isFinite(v) || v < 0)
    throw new ConfigError('(sim options)', 'latencyScale', 'expected a number >= 0');
  return v;
}

function buildEndpoints(registry: Registry): Map<string, Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  const add = (ep: Endpoint) => {
    const prior = endpoints.get(ep.name);
    if (prior) {
      throw new ConfigError(
        '(registry)',
        ep.name,
        `the ${prior.kind} and a ${ep.kind} share the name "${ep.name}"`,
        {
          hint: 'the simulator serves each endpoint under /<name>/v1, so names must be unique',
        },
      );
    }
    endpoints.set(ep.name, ep);
  };
  const common = (entry: Expert | Service | Policy | Judge) => ({
    name: entry.name,
    model: entry.model,
    latency: entry.sim?.latencyMs ?? DEFAULT_LATENCY,
    knee: entry.sim?.knee,
    slots: new Slots(entry.capacity),
    stats: {
      requests: 0,
      peakInFlight: 0,
      peakActive: 0,
      inFlight: 0,
      errorsInjected: 0,
      completed: 0,
      busyMs: 0,
    },
  });
  for (const entry of registry.policies) add({ ...common(entry), kind: 'policy', entry });
  for (const entry of registry.experts) add({ ...common(entry), kind: 'expert', entry });
  for (const entry of registry.services) add({ ...common(entry), kind: 'service', entry });
  for (const entry of registry.judges) add({ ...common(entry), kind: 'judge', entry });
  return endpoints;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** A request about an item the simulator's data directory does not hold (422, permanent). */
function unknownItem(ref: ItemRef, root: string): HttpError {
  return new HttpError(
    422,
    `simulator: item ${ref.benchmark}/${ref.itemId} is not in its data directory ${root}; start \`maestro-eval sim\` with the workers' MAESTRO_DATA_DIR (or --data-dir)`,
    'invalid_request_error',
    'unknown_item',
  );
}

function sendError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { error: { message: err.message, type: err.type, code: err.code } }, headers);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES && !done) {
        done = true;
        reject(
          new HttpError(
            413,
            `request body over ${MAX_BODY_BYTES} bytes`,
            'invalid_request_error',
            'too_large',
          ),
        );
        req.resume();
        return;
      }
      if (!done) chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on('error', (err) => {
      if (!done) {
        done = true;
        reject(err);
      }
    });
    req.on('close', () => {
      if (!done) {
        done = true;
        reject(new Error('client closed the connection'));
      }
    });
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON', 'invalid_request_error', 'invalid_json');
  }
}

function invalidRequest(issue: z.core.$ZodIssue | undefined): HttpError {
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return new HttpError(
    400,
    `${where}${issue?.message ?? 'invalid request'}`,
    'invalid_request_error',
    'invalid_request',
  );
}

/** 404 unless `model` names the endpoint (its served model or its registry name). */
function checkModel(ep: Endpoint, model: string): void {
  const known = [ep.model, ep.name].map((x) => x.toLowerCase());
  if (!known.includes(model.toLowerCase())) {
    throw new HttpError(404, `The model \`${model}\` does not exist.`, 'not_found_error', 'model_not_found');
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const { registry, catalog } = opts;
  const serverSeed = opts.seed ?? 0;
  const latencyScale = resolveLatencyScale(opts.latencyScale);
  const host = opts.host ?? '127.0.0.1';
  const endpoints = buildEndpoints(registry);
  const store = new DataStore(opts.dataDir);
  let faults = validateFaults(opts.faults ?? {});
  /** How often each (endpoint, request key) was seen while faults were on: retries draw anew. */
  const occurrences = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const startedAt = Math.floor(Date.now() / 1000);
  let closing = false;
  let completionCounter = 0;
  /** Completion ids: a tag drawn once per server, then a count (unique without a random draw each). */
  const idTag = randomBytes(6).toString('hex');

  const faultsFor = (name: string): SimFaults => ({ ...faults['*'], ...faults[name] });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closing) return; // never resolves: the socket is going away
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  async function loadItem(ref: ItemRef | null): Promise<Item | null> {
    if (!ref) return null;
    try {
      return await store.item(ref.benchmark, ref.itemId);
    } catch {
      return null;
    }
  }

  function drawFault(ep: Endpoint, requestKey: string): FaultKind | null {
    const f = faultsFor(ep.name);
    if (!FAULT_ORDER.some(([, key]) => (f[key] ?? 0) > 0)) return null;
    const key = `${ep.name}\u241f${requestKey}`;
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    const u = hashUnit(serverSeed, ep.name, requestKey, occurrence);
    let edge = 0;
    for (const [kind, rateKey] of FAULT_ORDER) {
      edge += f[rateKey] ?? 0;
      if (u < edge) return kind;
    }
    return null;
  }

  function reply(ep: Endpoint, ctx: SimContext): string {
    switch (ep.kind) {
      case 'expert':
        return expertReply(registry, ep.entry, ctx);
      case 'service':
        return serviceReply(ep.entry, ctx);
      case 'judge':
        return judgeReply(ctx);
      case 'policy':
        return ctx.release
          ? releaseReply(registry, ep.entry, ctx, ctx.release)
          : policyReply(registry, ep.entry, ctx);
    }
  }

  function completion(ep: Endpoint, body: ChatRequest, ctx: SimContext) {
    const stops = stopList(body.stop);
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? null;
    const tokens = tokenMeter(ctx.release !== undefined);
    let completionTokens = 0;
    const choices = Array.from({ length: body.n ?? 1 }, (_, index) => {
      const sampleCtx = index === 0 ? ctx : { ...ctx, seed: `${ctx.seed}#${index}` };
      const cut = applyStop(reply(ep, sampleCtx), stops);
      let text = cut.text;
      let finishReason: 'stop' | 'length' = 'stop';
      let stopReason: string | null = cut.matched;
      if (maxTokens !== null && tokens.count(text) > maxTokens) {
        text = tokens.cut(text, maxTokens);
        finishReason = 'length';
        stopReason = null;
      }
      completionTokens += tokens.count(text);
      return {
        index,
        message: { role: 'assistant', content: text },
        logprobs: null,
        finish_reason: finishReason,
        stop_reason: stopReason,
      };
    });
    const promptTokens = tokens.prompt(ctx.messages);
    completionCounter += 1;
    return {
      id: `chatcmpl-sim-${idTag}-${completionCounter.toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    };
  }

  async function handleChat(ep: Endpoint, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const st = ep.stats;
    st.requests += 1;
    st.inFlight += 1;
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);
    let answered = false;
    let aborted = false;
    let onAbort: (() => void) | null = null;
    /** Called just before the response is sent: the request stops counting as in flight. */
    const answer = () => {
      if (answered) return;
      answered = true;
      st.inFlight -= 1;
    };
    res.on('close', () => {
      if (answered) return;
      // The client went away (or the server is closing) before the reply: drop the request.
      aborted = true;
      answer();
      onAbort?.();
    });

    let body: ChatRequest;
    try {
      const parsed = fastParse(ChatRequest, await readJson(req));
      if (!parsed.success) throw invalidRequest(parsed.error.issues[0]);
      body = parsed.data;
      if (body.stream) {
        throw new HttpError(
          400,
          'streaming is not supported by the simulator',
          'invalid_request_error',
          'unsupported',
        );
      }
      checkModel(ep, body.model);
      const problem = templateProblem(body);
      if (problem) throw new HttpError(400, problem, 'invalid_request_error', 'invalid_request');
    } catch (err) {
      if (aborted) return;
      answer();
      if (err instanceof HttpError) sendError(res, err);
      else
        sendError(
          res,
          new HttpError(400, 'could not read the request body', 'invalid_request_error', 'bad_body'),
        );
      return;
    }

    const itemHeader = header(req, 'x-maestro-item');
    const skillHeader = header(req, 'x-maestro-skill');
    const seedHeader = header(req, 'x-maestro-seed');
    const messages = simplifyMessages(body.messages);
    const ref = parseItemHeader(itemHeader);
    const rawSkill = skillHeader?.trim() || 'direct';
    const skill =
      rawSkill.toLowerCase() === 'direct' ? 'direct' : (registry.findSkill(rawSkill)?.name ?? rawSkill);
    const requestKey = sha256(
      stableStringify({
        item: itemHeader ?? '',
        skill: skillHeader ?? '',
        seed: seedHeader ?? '',
        messages: messages.map((m) => [m.role, m.text]),
      }),
    );
    const item = await loadItem(ref);
    if (aborted || closing) return;
    if (ref && !item) {
      // Never a made-up answer: the rollout becomes an error whose cause says what to fix.
      answer();
      sendError(res, unknownItem(ref, store.root));
      return;
    }
    const ctx: SimContext = {
      endpoint: ep.name,
      seed: parseSeedHeader(seedHeader, serverSeed),
      skill,
      ref,
      item,
      domain: ref ? (catalog.find(ref.benchmark)?.domain ?? '') : '',
      requestKey,
      messages,
    };
    if (isReleaseRequest(body)) {
      const last = messages[messages.length - 1];
      ctx.release = {
        continuation: body.continue_final_message && last ? last.text : '',
        sampleSeed: body.seed ?? null,
      };
    }
    if (ep.kind !== 'judge') opts.observe?.(ep.kind, ctx);

    const fault = drawFault(ep, requestKey);
    if (fault) st.errorsInjected += 1;
    if (fault === '429') {
      const retryAfter = String(faultsFor(ep.name).retryAfterSec ?? 1);
      answer();
      sendError(res, new HttpError(429, 'simulated rate limit', 'rate_limit_error', 'rate_limited'), {
        'retry-after': retryAfter,
      });
      return;
    }
    // A hung request holds no batch slot: it stays in flight until the client gives up or
    // the server closes, and is never answered.
    if (fault === 'hang') return;

    const slot = ep.slots.acquire();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      ep.slots.release();
    };
    onAbort = () => {
      if (!slot.cancel()) release();
    };
    await slot.ready;
    if (aborted || closing) return;
    st.peakActive = Math.max(st.peakActive, ep.slots.inUse);

    // Past the batch knee every extra active request slows this one down (like vLLM once
    // its KV cache is full), so throughput falls when too many requests are let in.
    const slowdown = ep.knee ? 1 + ep.knee.slowdown * Math.max(0, ep.slots.inUse - ep.knee.at) : 1;
    const ms =
      hashLognormal(ep.latency.median, ep.latency.sigma, serverSeed, ep.name, requestKey) *
      latencyScale *
      slowdown;
    if (ms > 0) await sleep(ms);
    if (aborted || closing) return;
    st.busyMs += ms;
    st.completed += 1;

    release();
    answer();
    switch (fault) {
      case '500':
        sendError(
          res,
          new HttpError(500, 'simulated internal server error', 'server_error', 'internal_error'),
        );
        return;
      case '400':
        sendError(
          res,
          new HttpError(400, 'simulated bad request', 'invalid_request_error', 'invalid_request'),
        );
        return;
      case '401-echo':
        sendError(
          res,
          new HttpError(
            401,
            `Incorrect API key provided: ${String(req.headers.authorization ?? '')}`,
            'invalid_request_error',
            'invalid_api_key',
          ),
        );
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'truncated': {
        const text = JSON.stringify(completion(ep, body, ctx));
        const cut = text.slice(0, Math.floor(text.length / 2));
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(cut)),
        });
        res.end(cut);
        return;
      }
      case 'empty':
        sendJson(res, 200, { ...completion(ep, body, ctx), choices: [] });
        return;
      case 'hostile':
        sendJson(
          res,
          200,
          hostileCompletion(
            body.model,
            hostileReply(ep.kind === 'judge' ? 'service' : ep.kind, ctx, faultsFor(ep.name).hostileKinds)
              .text,
          ),
        );
        return;
      default:
        sendJson(res, 200, completion(ep, body, ctx));
    }
  }

  /**
   * vLLM's `/tokenize` (prompt form) and `/detokenize` at the endpoint's root, with the
   * simulator's reversible tokenizer (tokenizer.ts). Answered at once: no slot, no faults.
   */
  async function handleTokens(
    ep: Endpoint,
    op: 'tokenize' | 'detokenize',
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    try {
      const json = await readJson(req);
      const parsed = (op === 'tokenize' ? TokenizeRequest : DetokenizeRequest).safeParse(json);
      if (!parsed.success) throw invalidRequest(parsed.error.issues[0]);
      checkModel(ep, parsed.data.model);
      if ('prompt' in parsed.data) {
        const tokens = tokenize(parsed.data.prompt);
        sendJson(res, 200, { tokens, count: tokens.length, max_model_len: SIM_MAX_MODEL_LEN });
      } else {
        sendJson(res, 200, { prompt: detokenize(parsed.data.tokens) });
      }
    } catch (err) {
      if (res.destroyed) return;
      sendError(
        res,
        err instanceof HttpError
          ? err
          : new HttpError(400, 'could not read the request body', 'invalid_request_error', 'bad_body'),
      );
    }
  }

  function findEndpoint(segment: string): Endpoint | undefined {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    return endpoints.get(name);
  }

  function statsSnapshot(): Record<string, EndpointStats> {
    const out: Record<string, EndpointStats> = {};
    for (const ep of endpoints.values()) out[ep.name] = { ...ep.stats, capacity: ep.slots.capacity };
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const method = req.method ?? 'GET';
    const notFound = () =>
      sendError(res, new HttpError(404, `no route for ${method} ${path}`, 'not_found_error', 'not_found'));
    const wrongMethod = (allowed: string) =>
      sendError(
        res,
        new HttpError(
          405,
          `${method} is not allowed on ${path}`,
          'invalid_request_error',
          'method_not_allowed',
        ),
        { allow: allowed },
      );

    if (path === '/_sim/stats') {
      if (method !== 'GET') return wrongMethod('GET');
      return sendJson(res, 200, statsSnapshot());
    }
    const m = /^\/([^/]+)\/(v1\/models|v1\/chat\/completions|health|metrics|tokenize|detokenize)\/?$/.exec(
      path,
    );
    const ep = m ? findEndpoint(m[1] ?? '') : undefined;
    if (!m || !ep) return notFound();
    switch (m[2]) {
      case 'health':
        res.writeHead(200, { 'content-length': '0' });
        res.end();
        return;
      case 'metrics': {
        // The two queue gauges of vLLM's Prometheus endpoint, for adaptive concurrency.
        if (method !== 'GET') return wrongMethod('GET');
        const label = `model_name="${ep.model.replace(/["\\]/g, '')}"`;
        const text = [
          '# TYPE vllm:num_requests_running gauge',
          `vllm:num_requests_running{${label}} ${ep.slots.inUse}`,
          '# TYPE vllm:num_requests_waiting gauge',
          `vllm:num_requests_waiting{${label}} ${ep.slots.queued}`,
          '',
        ].join('\n');
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(text);
        return;
      }
      case 'v1/models':
        if (method !== 'GET') return wrongMethod('GET');
        return sendJson(res, 200, {
          object: 'list',
          data: [
            { id: ep.model, object: 'model', created: startedAt, owned_by: 'maestro-sim', root: ep.model },
          ],
        });
      case 'tokenize':
      case 'detokenize':
        // Only policies have a tokenizer the cluster asks for (the `release` profile).
        if (ep.kind !== 'policy') return notFound();
        if (method !== 'POST') return wrongMethod('POST');
        return handleTokens(ep, m[2], req, res);
      default:
        if (method !== 'POST') return wrongMethod('POST');
        return handleChat(ep, req, res);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the simulator, not an injected fault: answer 500 if still possible.
      if (!res.headersSent && !res.destroyed) {
        sendError(res, new HttpError(500, `simulator error: ${String(err)}`, 'server_error', 'sim_bug'));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the simulator did not get a TCP address');
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closed: Promise<void> | null = null;
  return {
    url,
    stats: statsSnapshot,
    resetStats() {
      for (const ep of endpoints.values()) {
        const st = ep.stats;
        st.requests = 0;
        st.errorsInjected = 0;
        st.completed = 0;
        st.busyMs = 0;
        st.peakInFlight = st.inFlight;
        st.peakActive = ep.slots.inUse;
      }
    },
    setFaults(f) {
      faults = validateFaults(f);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        // Ends keep-alive and hung connections too, so close() never waits on a client.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
