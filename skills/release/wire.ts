/**
 * Sends chat completions exactly as the release's OpenAI clients do: the body holds the
 * fields the release passes and nothing else (no max_tokens unless it sets one), and a
 * failed request is retried twice (the OpenAI client default the release keeps). The trace
 * entry of a call counts those retries and keeps references to the images it sent; neither
 * changes a byte of the request.
 */
import OpenAI from 'openai';
import type { CallTrace, ImageRef } from '../../src/core/items.ts';
import { attemptFields, countingFetch, withAttemptLog } from '../../src/models/attempts.ts';

/** Where a release call goes. */
export interface Endpoint {
  /** Name for the trace (expert or service name). */
  name: string;
  baseUrl: string;
  model: string;
  apiKey: string;
}

/** The part of a completion the release reads. */
export interface Completion {
  /** False when the reply had no choices (the release then treats the skill as failed). */
  hasChoices: boolean;
  /** `choices[0].message.content`; null when the server sent none. */
  content: string | null;
  promptTokens: number;
  completionTokens: number;
}

/** Request fields besides model and messages (as the release names them). */
export type Params = Record<string, unknown>;

export type Message = { role: 'system' | 'user'; content: string | ContentPart[] };
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** One OpenAI client per endpoint and key, for the process (the release caches them too). */
const clients = new Map<string, OpenAI>();

/** Sends release requests and reports each to `onCall`. */
export class ReleaseWire {
  constructor(
    /** Called after every request (traces). */
    private readonly onCall: (entry: CallTrace) => void = () => {},
    /** Tracing headers; they do not change the request body. */
    private readonly headers: Record<string, string> = {},
    /** Stores the images of a request (data URLs) and gives their references, for the trace. */
    private readonly keepImages?: (messages: ReadonlyArray<{ content?: unknown }>) => Promise<ImageRef[]>,
  ) {}

  private client(ep: Endpoint): OpenAI {
    const key = `${ep.baseUrl}\n${ep.apiKey}`;
    let c = clients.get(key);
    if (!c) {
      c = new OpenAI({ baseURL: ep.baseUrl, apiKey: ep.apiKey, maxRetries: 2, fetch: countingFetch() });
      clients.set(key, c);
    }
    return c;
  }

  /** One chat completion; throws when it fails after the client's retries. */
  async create(ep: Endpoint, messages: Message[], params: Params, timeoutMs: number): Promise<Completion> {
    const started = performance.now();
    const entry: CallTrace = {
      service: ep.name,
      model: ep.model,
      latencyMs: 0,
      promptTokens: 0,
      completionTokens: 0,
      ok: true,
    };
    // Stored beside the request, from the same strings: what is sent stays as it is.
    const kept = this.keepImages?.(messages).catch(() => []);
    const { log, result } = withAttemptLog(() => this.send(ep, messages, params, timeoutMs));
    try {
      const out = await result;
      entry.promptTokens = out.promptTokens;
      entry.completionTokens = out.completionTokens;
      return out;
    } catch (err) {
      entry.ok = false;
      entry.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      entry.latencyMs = performance.now() - started;
      Object.assign(entry, attemptFields(log));
      const images = kept ? await kept : [];
      if (images.length) entry.images = images;
      this.onCall(entry);
    }
  }

  private async send(
    ep: Endpoint,
    messages: Message[],
    params: Params,
    timeoutMs: number,
  ): Promise<Completion> {
    const body = {
      model: ep.model,
      messages,
      ...params,
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const res = await this.client(ep).chat.completions.create(body, {
      timeout: timeoutMs,
      headers: this.headers,
    });
    const choice = res.choices?.[0];
    return {
      hasChoices: Array.isArray(res.choices) && res.choices.length > 0,
      content: typeof choice?.message?.content === 'string' ? choice.message.content : null,
      promptTokens: res.usage?.prompt_tokens ?? 0,
      completionTokens: res.usage?.completion_tokens ?? 0,
    };
  }
}
