import { z } from 'zod';
import { estimateTokens, type SimMessage } from './request.ts';

/**
 * The simulated policy's tokenizer: reversible and trivial to reason about in tests. Every
 * Unicode code point is one token whose id is the code point (lone UTF-16 surrogates
 * included, so any JavaScript string round-trips); the Qwen-style special strings below
 * are one token each, with ids from 0x110000 up in this order.
 */
export const SPECIAL_TOKENS = [
  '<|im_start|>',
  '<|im_end|>',
  '<|endoftext|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|image_pad|>',
] as const;

export const FIRST_SPECIAL_ID = 0x110000;
/** The largest id the tokenizer knows. */
export const MAX_TOKEN_ID = FIRST_SPECIAL_ID + SPECIAL_TOKENS.length - 1;
/** What `/tokenize` reports as the model's context length. */
export const SIM_MAX_MODEL_LEN = 32768;

const SPECIAL_RE = new RegExp(SPECIAL_TOKENS.map((s) => s.replace(/[|]/g, '\\|')).join('|'), 'g');

export function tokenize(text: string): number[] {
  const out: number[] = [];
  const plain = (s: string) => {
    for (const ch of s) out.push(ch.codePointAt(0) ?? 0);
  };
  let from = 0;
  for (const m of text.matchAll(SPECIAL_RE)) {
    plain(text.slice(from, m.index));
    out.push(FIRST_SPECIAL_ID + SPECIAL_TOKENS.indexOf(m[0] as (typeof SPECIAL_TOKENS)[number]));
    from = m.index + m[0].length;
  }
  plain(text.slice(from));
  return out;
}

export function detokenize(tokens: readonly number[]): string {
  let out = '';
  for (const t of tokens) {
    out += t >= FIRST_SPECIAL_ID ? (SPECIAL_TOKENS[t - FIRST_SPECIAL_ID] ?? '') : String.fromCodePoint(t);
  }
  return out;
}

/** `POST /<endpoint>/tokenize`, prompt form (vLLM's chat-messages form is not simulated). */
export const TokenizeRequest = z.object({
  model: z.string().min(1),
  prompt: z.string(),
  add_special_tokens: z.boolean().nullable().optional(),
});

/** `POST /<endpoint>/detokenize`. */
export const DetokenizeRequest = z.object({
  model: z.string().min(1),
  tokens: z.array(z.number().int().min(0).max(MAX_TOKEN_ID)),
});

/**
 * How the simulator counts and truncates tokens: with this tokenizer for `release` profile
 * requests (so usage and `max_tokens` agree with `/tokenize`), a token per 4 characters
 * (and 256 per image) otherwise.
 */
export interface TokenMeter {
  count(text: string): number;
  cut(text: string, maxTokens: number): string;
  prompt(messages: readonly SimMessage[]): number;
}

export function tokenMeter(exact: boolean): TokenMeter {
  const images = (messages: readonly SimMessage[]) => messages.reduce((n, m) => n + m.images, 0);
  if (exact) {
    return {
      count: (text) => tokenize(text).length,
      cut: (text, maxTokens) => detokenize(tokenize(text).slice(0, maxTokens)),
      prompt: (messages) =>
        messages.reduce((n, m) => n + tokenize(m.text).length, 0) + estimateTokens(0, images(messages)),
    };
  }
  return {
    count: (text) => estimateTokens(text.length),
    cut: (text, maxTokens) => text.slice(0, maxTokens * 4),
    prompt: (messages) =>
      estimateTokens(
        messages.reduce((n, m) => n + m.text.length, 0),
        images(messages),
      ),
  };
}
