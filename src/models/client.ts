import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { redactError } from '../core/redact.ts';
import { type AttemptLog, countedRequest, countingFetch } from './attempts.ts';
import { authHeaders, type EndpointConfig, endpointApiKey, listModels, parseRetryAfter } from './endpoint.ts';
import { JsonPoster, statusError } from './http.ts';
import { SendError, type SendFailure } from './send-error.ts';

// Light modules (no SDK) re-exported here: code that only needs them imports them directly.
export { type EndpointConfig, parseRetryAfter } from './endpoint.ts';
export { SendError, type SendFailure } from './send-error.ts';

export interface ChatRequest {
  messages: ChatCompletionMessageParam[];
  temperature: number;
  topP?: number;
  maxTokens: number;
  stop?: string[];
  seed?: number;
  /** Tracing headers (item, skill, seed): correlate requests in server logs. */
  headers?: Record<string, string>;
  /**
   * vLLM extra parameters, sent only when set. `continueFinalMessage`: the reply continues
   * the final (assistant) message instead of opening a new turn; `addGenerationPrompt`: the
   * template adds the assistant header (vLLM's default is true); `chatTemplate`: a Jinja
   * template used for this request instead of the model's own.
   */
  continueFinalMessage?: boolean;
  addGenerationPrompt?: boolean;
  chatTemplate?: string;
  /** The attempt log of the call this request belongs to (withAttemptLog): it is counted there. */
  attempts?: AttemptLog;
}

/** vLLM's `/tokenize` reply (prompt form). */
const TokenizeResponse = z.object({
  tokens: z.array(z.number().int()),
  count: z.number().int().nonnegative(),
  max_model_len: z.number().int().optional(),
});

/** vLLM's `/detokenize` reply. */
const DetokenizeResponse = z.object({ prompt: z.string() });

/** The server root of an OpenAI-compatible base URL: `…/v1` (or `…/v1/`) taken off. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** Options of {@link ModelClient.send}: one request body sent as it is. */
export interface SendOptions {
  /** Per-attempt timeout (ms); default the endpoint's. */
  timeoutMs?: number;
  /** Retries inside the call, the OpenAI client's policy (408/409/429/5xx, connection errors, timeouts). Default 0. */
  maxRetries?: number;
  headers?: Record<string, string>;
  /** Aborts the request (the caller's deadline or cancellation). */
  signal?: AbortSignal;
}

/** Raw bodies of error responses, by the Headers object the OpenAI client's error carries. */
const errorBodies = new WeakMap<Headers, string>();

/** fetch that keeps each error response's body text (the OpenAI client keeps only its `error` field). */
const keepingErrorBodies: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  // Statuses that cannot carry a body pass as they are.
  if (res.ok || [101, 204, 205, 304].includes(res.status)) return res;
  const text = await res.text().catch(() => '');
  const copy = new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  errorBodies.set(copy.headers, text);
  return copy;
};

export interface ChatResult {
  text: string;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
}

/**
 * The one place the project talks to OpenAI-compatible endpoints (vLLM, API gateways,
 * the simulators). Retries are not done here: the queue retries with backoff, so a
 * waiting retry never holds a worker slot. Errors come out typed: RetryableError
 * (timeouts, resets, 5xx, 429 with its retry-after) or PermanentError (other 4xx).
 */
export class ModelClient {
  readonly endpoint: EndpointConfig;
  private readonly client: OpenAI;
  /** The same server at its root (vLLM serves /tokenize and /detokenize there, not under /v1). */
  private readonly root: OpenAI;
  /** Chat calls go through a lean keep-alive poster (the SDK serves the rest). */
  private readonly poster: JsonPoster;
  private readonly auth: Record<string, string>;
  private readonly env: NodeJS.ProcessEnv;

  constructor(endpoint: EndpointConfig, env: NodeJS.ProcessEnv = process.env) {
    this.endpoint = endpoint;
    // The key is a secret of this process from now on: `redact` removes it from any text.
    const apiKey = endpointApiKey(endpoint, env);
    this.env = env;
    this.client = new OpenAI({
      baseURL: endpoint.baseUrl,
      apiKey: apiKey ?? 'EMPTY',
      timeout: endpoint.timeoutMs,
      maxRetries: 0,
      // Counts each request for the trace of the call that sends it (see attempts.ts), and
      // keeps error bodies for callers that word failures themselves.
      fetch: countingFetch(() => keepingErrorBodies),
    });
    this.root = this.client.withOptions({ baseURL: serverRoot(endpoint.baseUrl) });
    this.poster = new JsonPoster(endpoint.name, endpoint.baseUrl, endpoint.timeoutMs);
    this.auth = authHeaders(apiKey);
  }

  async chat(req: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const body = {
      model: this.endpoint.model,
      messages: req.messages,
      temperature: req.temperature,
      ...(req.topP !== undefined ? { top_p: req.topP } : {}),
      max_tokens: req.maxTokens,
      ...(req.stop ? { stop: req.stop } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...vllmExtras(req),
    };
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      const reply = await countedRequest(req.attempts, () =>
        this.poster.post('/chat/completions', body, { ...req.headers, ...this.auth }),
      );
      if (reply.status < 200 || reply.status >= 300)
        throw statusError(this.endpoint.name, reply, (h) => parseRetryAfter(h));
      completion = reply.body as OpenAI.Chat.Completions.ChatCompletion;
    } catch (err) {
      throw classifyError(this.endpoint.name, err);
    }
    const choice = completion?.choices?.[0];
    if (!choice || typeof choice.message?.content !== 'string') {
      throw new RetryableError(`${this.endpoint.name}: response had no choices or no content`);
    }
    return {
      text: choice.message.content,
      finishReason: choice.finish_reason ?? 'unknown',
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      latencyMs: performance.now() - started,
    };
  }

  /**
   * Sends one chat-completions body exactly as given (nothing added: no sampling defaults,
   * no max_tokens) and returns the reply's raw text, unparsed. For callers that must send
   * byte-for-byte what another client sends (the `release` skills). Fails with a
   * {@link SendError} whose `failure` says what happened; secrets are redacted.
   */
  async send(
    body: Record<string, unknown>,
    opts: SendOptions = {},
  ): Promise<{ text: string; latencyMs: number }> {
    const started = performance.now();
    try {
      const res = await this.client.chat.completions
        .create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, {
          maxRetries: opts.maxRetries ?? 0,
          ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
          ...(opts.headers ? { headers: opts.headers } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        })
        .asResponse();
      return { text: await res.text(), latencyMs: performance.now() - started };
    } catch (err) {
      throw redactError(new SendError(this.endpoint.name, sendFailure(err), err));
    }
  }

  /**
   * The model's token ids for `text`, no special tokens added (vLLM's `POST <root>/tokenize`);
   * special strings written in the text (e.g. `<|im_end|>`) come out as their own tokens.
   */
  async tokenize(text: string): Promise<number[]> {
    const body = { model: this.endpoint.model, prompt: text, add_special_tokens: false };
    return (await this.rootPost('/tokenize', body, TokenizeResponse)).tokens;
  }

  /** The text of token ids, special tokens kept (vLLM's `POST <root>/detokenize`). */
  async detokenize(tokens: number[]): Promise<string> {
    const body = { model: this.endpoint.model, tokens };
    return (await this.rootPost('/detokenize', body, DetokenizeResponse)).prompt;
  }

  private async rootPost<T>(path: string, body: object, schema: z.ZodType<T>): Promise<T> {
    let raw: unknown;
    try {
      raw = await this.root.post(path, { body });
    } catch (err) {
      throw classifyError(this.endpoint.name, err);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RetryableError(
        `${this.endpoint.name}: unexpected ${path} response (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'})`,
        { hint: 'is this a vLLM server? /tokenize and /detokenize are served at its root, beside /v1' },
      );
    }
    return parsed.data;
  }

  /** Lists served models: a cheap reachability check before a sweep starts. */
  listModels(): Promise<string[]> {
    return listModels(this.endpoint, this.env);
  }
}

function sendFailure(err: unknown): SendFailure {
  if (err instanceof OpenAI.APIUserAbortError) return { kind: 'aborted' };
  if (err instanceof OpenAI.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (err instanceof OpenAI.APIConnectionError) {
    return { kind: 'connection', detail: err.cause instanceof Error ? err.cause.message : err.message };
  }
  if (err instanceof OpenAI.APIError && err.status) {
    const body = err.headers ? errorBodies.get(err.headers as Headers) : undefined;
    return { kind: 'status', status: err.status, body: body ?? '' };
  }
  return { kind: 'connection', detail: err instanceof Error ? err.message : String(err) };
}

/** vLLM's extra chat parameters, present only when the request sets them. */
function vllmExtras(req: ChatRequest): Record<string, boolean | string> {
  const out: Record<string, boolean | string> = {};
  if (req.continueFinalMessage !== undefined) out.continue_final_message = req.continueFinalMessage;
  if (req.addGenerationPrompt !== undefined) out.add_generation_prompt = req.addGenerationPrompt;
  if (req.chatTemplate !== undefined) out.chat_template = req.chatTemplate;
  return out;
}

export function classifyError(name: string, err: unknown): RetryableError | PermanentError {
  // A server may echo the request's key in its error ("Incorrect API key provided: …").
  return redactError(classifyRaw(name, err));
}

function classifyRaw(name: string, err: unknown): RetryableError | PermanentError {
  if (err instanceof RetryableError || err instanceof PermanentError) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new RetryableError(`${name}: request timed out`, { cause: err });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new RetryableError(
      `${name}: connection failed (${err.cause instanceof Error ? err.cause.message : err.message})`,
      {
        cause: err,
        hint: 'is the server up and the baseUrl right?',
      },
    );
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    if (status === 429) {
      return new RetryableError(`${name}: rate limited (429)`, {
        cause: err,
        retryAfterMs: parseRetryAfter(err.headers),
      });
    }
    if (status >= 500 || status === 408 || status === 409 || status === 0) {
      return new RetryableError(`${name}: server error ${status || ''}`.trim(), { cause: err });
    }
    return new PermanentError(`${name}: request rejected (${status}): ${err.message}`, {
      cause: err,
      hint: status === 404 ? 'check the served model name and baseUrl in the registry' : undefined,
    });
  }
  // Malformed bodies (truncated JSON) and other surprises: worth a bounded retry.
  return new RetryableError(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** One client per endpoint per process (keeps connections alive). */
export class ClientCache {
  private readonly clients = new Map<string, ModelClient>();
  get(endpoint: EndpointConfig): ModelClient {
    const key = `${endpoint.name}|${endpoint.baseUrl}|${endpoint.model}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new ModelClient(endpoint);
      this.clients.set(key, c);
    }
    return c;
  }
}
