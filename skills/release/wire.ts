/**
 * Sends chat completions exactly as the release's OpenAI clients do, through the project's
 * model client (SkillContext.send: budget, deadline, limiter, headers, redaction): the body
 * holds the fields the release passes and nothing else (no max_tokens unless it sets one),
 * and a failed request is retried twice (the OpenAI client default the release keeps).
 * A failure comes out as {@link ReleaseCallError} worded as the release's Python client
 * words it (that text reaches the policy as the observation); running out of the run's
 * budget stays a typed project error.
 */
import type { Service } from '../../src/core/registry.ts';
import { SendError, type SendFailure } from '../../src/models/send-error.ts';
import type { SkillContext } from '../types.ts';
import { pyJsonLoads } from './pyjson.ts';

/** Where a release call goes. */
export interface Endpoint {
  /** Name for errors (expert or service name). */
  name: string;
  /** The chosen expert, or the registry service. */
  to: 'expert' | Service;
  /** The served model name the release sends. */
  model: string;
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

/** A failed release call; the message is `str(e)` of the release's Python exception. */
export class ReleaseCallError extends Error {}

/** The OpenAI Python client's message for a failed request (`openai._base_client`). */
export function pythonClientMessage(f: Exclude<SendFailure, { kind: 'aborted' }>): string {
  if (f.kind === 'timeout') return 'Request timed out.';
  if (f.kind === 'connection') return 'Connection error.';
  const text = f.body.trim();
  if (!text) return `Error code: ${f.status}`;
  const body = pyJsonLoads(text);
  if (!body.ok) return text;
  // An f-string shows a parsed str as it is, anything else as its repr.
  return `Error code: ${f.status} - ${typeof body.value === 'string' ? body.value : body.repr}`;
}

/** The release's reading of a reply body: Python's `json.loads`, then `choices[0].message.content`. */
export function completionOf(text: string): Completion {
  const parsed = pyJsonLoads(text);
  if (!parsed.ok) throw new ReleaseCallError(parsed.message);
  const res = parsed.value as {
    choices?: Array<{ message?: { content?: unknown } }>;
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  } | null;
  const choices = res?.choices;
  const content = Array.isArray(choices) ? choices[0]?.message?.content : undefined;
  return {
    hasChoices: Array.isArray(choices) && choices.length > 0,
    content: typeof content === 'string' ? content : null,
    promptTokens: res?.usage?.prompt_tokens ?? 0,
    completionTokens: res?.usage?.completion_tokens ?? 0,
  };
}

/** Sends release requests for one skill run. */
export class ReleaseWire {
  constructor(private readonly ctx: Pick<SkillContext, 'send'>) {}

  /** One chat completion; throws ReleaseCallError when it fails after the client's retries. */
  async create(ep: Endpoint, messages: Message[], params: Params, timeoutMs: number): Promise<Completion> {
    let text: string;
    try {
      ({ text } = await this.ctx.send({
        to: ep.to,
        body: { model: ep.model, messages, ...params },
        timeoutMs,
        maxRetries: 2,
      }));
    } catch (err) {
      if (err instanceof SendError && err.failure.kind !== 'aborted') {
        throw new ReleaseCallError(pythonClientMessage(err.failure), { cause: err });
      }
      throw err;
    }
    return completionOf(text);
  }
}
