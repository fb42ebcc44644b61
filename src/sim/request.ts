import { z } from 'zod';

/**
 * The subset of the OpenAI chat-completions request the simulated servers accept.
 * Unknown fields are ignored (as vLLM does); known fields are checked.
 */
const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string().min(1),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
});
const ContentPart = z.discriminatedUnion('type', [TextPart, ImagePart]);

const ChatMessageIn = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z
    .union([z.string(), z.array(ContentPart)])
    .nullable()
    .optional(),
  name: z.string().optional(),
});

export const ChatRequest = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageIn).min(1),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(32)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  n: z.number().int().min(1).max(16).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  // vLLM's extra parameters for chat templates (see templateProblem and isReleaseRequest).
  continue_final_message: z.boolean().nullable().optional(),
  add_generation_prompt: z.boolean().nullable().optional(),
  chat_template: z.string().nullable().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

/**
 * Template flags vLLM refuses, as its error message, or null. vLLM checks the raw flags
 * (an absent `add_generation_prompt` does not conflict), and a continued message must be
 * the assistant's.
 */
export function templateProblem(body: ChatRequest): string | null {
  const last = body.messages[body.messages.length - 1];
  if (body.continue_final_message && body.add_generation_prompt) {
    return 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.';
  }
  if (body.continue_final_message && last?.role !== 'assistant') {
    return 'Cannot set `continue_final_message` to True when the last message is not from the assistant.';
  }
  if (body.add_generation_prompt && last?.role === 'assistant') {
    return 'Cannot set `add_generation_prompt` to True when the last message is from the assistant. Consider using `continue_final_message` instead.';
  }
  return null;
}

/**
 * A request in the `release` protocol profile: the caller renders the policy's raw token
 * stream itself, so it sends its own `chat_template` with either `add_generation_prompt:
 * true` (the first step: no assistant message yet) or `continue_final_message: true` (later
 * steps: the final assistant message holds every kept generation and observation so far).
 * Requests without a `chat_template` are the ordinary chat protocol.
 */
export function isReleaseRequest(body: ChatRequest): boolean {
  return (
    typeof body.chat_template === 'string' &&
    (body.continue_final_message === true || body.add_generation_prompt === true)
  );
}

/** A message reduced to what the simulators look at. */
export interface SimMessage {
  role: string;
  text: string;
  images: number;
}

export function simplifyMessages(messages: ChatRequest['messages']): SimMessage[] {
  return messages.map((m) => {
    if (m.content == null) return { role: m.role, text: '', images: 0 };
    if (typeof m.content === 'string') return { role: m.role, text: m.content, images: 0 };
    let text = '';
    let images = 0;
    for (const part of m.content) {
      if (part.type === 'text') text += text ? `\n${part.text}` : part.text;
      else images += 1;
    }
    return { role: m.role, text, images };
  });
}

/** Rough token counts: a token per 4 characters, 256 per image. */
export function estimateTokens(chars: number, images = 0): number {
  return Math.ceil(chars / 4) + 256 * images;
}

export function stopList(stop: ChatRequest['stop']): string[] {
  if (stop == null) return [];
  return (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0);
}

/**
 * Cuts generated text at the first occurrence of any stop string, like vLLM: the stop
 * string itself is not returned. `matched` is the stop string that ended the text, if any.
 */
export function applyStop(text: string, stops: readonly string[]): { text: string; matched: string | null } {
  let cut = -1;
  let matched: string | null = null;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      matched = s;
    }
  }
  return cut < 0 ? { text, matched: null } : { text: text.slice(0, cut), matched };
}

/** Item identity sent by the cluster in `x-maestro-item: <benchmark>/<itemId>` (both parts URI-encoded). */
export interface ItemRef {
  benchmark: string;
  itemId: string;
}

export function parseItemHeader(value: string | undefined): ItemRef | null {
  if (!value) return null;
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) return null;
  try {
    const benchmark = decodeURIComponent(value.slice(0, slash));
    const itemId = decodeURIComponent(value.slice(slash + 1));
    if (!benchmark || !itemId) return null;
    return { benchmark, itemId };
  } catch {
    return null;
  }
}

export function parseSeedHeader(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return fallback;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : fallback;
}
