import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Step } from '../core/items.ts';
import {
  afterThink,
  observationSegment,
  type ReleaseKeep,
  STEP0_PREFIX_TOKENS,
  TURN_END,
} from '../rollout/release-turn.ts';

/**
 * The policy's context under the `release` profile, rendered as the release's agent loop
 * builds it: the chat-templated prompt, then for every kept step its kept text and, after a
 * call, the observation as a user block with no new assistant header. Sent as one chat
 * request whose last message is the assistant continuation (`continue_final_message`).
 */

/** The policy's tokenizer (vLLM's /tokenize and /detokenize). */
export interface Tokenizer {
  tokenize(text: string): Promise<number[]>;
  detokenize(tokens: number[]): Promise<string>;
}

/** Tokens of one observation block at most; longer ones lose their start. */
export const MAX_OBS_TOKENS = 1024;

/**
 * A Qwen-VL chat template that renders messages verbatim (images as vision placeholders),
 * sent with each request so the server cannot reformat the continuation (e.g. split off
 * reasoning at `</think>`).
 */
export const VERBATIM_CHAT_TEMPLATE =
  "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}" +
  "{% else %}{% for p in m['content'] %}{% if p['type'] == 'text' %}{{ p['text'] }}" +
  '{% else %}<|vision_start|><|image_pad|><|vision_end|>{% endif %}{% endfor %}{% endif %}<|im_end|>\n' +
  '{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';

/** The prompt's user turn: `<image>` placeholders become the item's images, in order. */
export function userContent(text: string, images: string[]): ChatCompletionContentPart[] {
  const parts: ChatCompletionContentPart[] = [];
  let next = 0;
  for (const segment of text.split(/(<image>)/)) {
    if (segment === '<image>') {
      const url = images[next++];
      if (url) parts.push({ type: 'image_url', image_url: { url } });
    } else if (segment) parts.push({ type: 'text', text: segment });
  }
  return parts;
}

/** One observation block, its start cut so that it has at most MAX_OBS_TOKENS tokens. */
export async function observationText(observation: string, tok: Tokenizer): Promise<string> {
  const segment = observationSegment(observation);
  // A token is at least one byte: a short block needs no tokenizer.
  if (Buffer.byteLength(segment) <= MAX_OBS_TOKENS) return segment;
  const ids = await tok.tokenize(segment);
  if (ids.length <= MAX_OBS_TOKENS) return segment;
  return `<|im_start|>user<information>${await tok.detokenize(ids.slice(-MAX_OBS_TOKENS))}`;
}

/** Everything appended to the prompt so far (thrown-away generations are not). */
export async function continuation(steps: Step[], tok: Tokenizer): Promise<string> {
  let out = '';
  for (const step of steps) {
    if (step.resampled) continue;
    out += step.policyText;
    if (step.observation !== undefined) out += await observationText(step.observation, tok);
  }
  return out;
}

/** The messages of a request: the prompt, then the continuation as a final assistant message. */
export function releaseMessages(
  system: string,
  user: ChatCompletionContentPart[],
  cont: string,
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
  if (cont) messages.push({ role: 'assistant', content: cont });
  return messages;
}

/**
 * The text the loop keeps of a generation (`kept`, what its tokens decode to) and the text
 * its rules extracted (`extracted`, where an answer is looked for). `stopped`: the
 * generation ended with the end-of-turn token (vLLM's finish reason "stop"), which the
 * loop's token ids include and the returned text does not.
 */
export async function keptText(
  keep: Exclude<ReleaseKeep, { kind: 'resample' }>,
  step: number,
  generation: string,
  stopped: boolean,
  tok: Tokenizer,
): Promise<{ kept: string; extracted: string }> {
  const whole = { kept: stopped ? generation + TURN_END : generation, extracted: generation };
  if (keep.kind === 'whole') return { ...whole, extracted: step === 0 ? generation : afterThink(generation) };
  const ids = await tok.tokenize(generation);
  const length = ids.length + (stopped ? 1 : 0);
  if (keep.kind === 'prefix-search') {
    const prefixIds = await tok.tokenize(keep.prefix);
    const prefix =
      prefixIds.length > STEP0_PREFIX_TOKENS
        ? await tok.detokenize(prefixIds.slice(-STEP0_PREFIX_TOKENS))
        : keep.prefix;
    const text = prefix + keep.search + TURN_END;
    const rebuilt = await tok.tokenize(text);
    if (rebuilt.length > length) return whole;
    // All of the rebuilt tokens but the last, then the generation's own last token.
    const kept = stopped
      ? text
      : (await tok.detokenize(rebuilt.slice(0, -1))) + (await tok.detokenize(ids.slice(-1)));
    return { kept, extracted: text };
  }
  const n = (await tok.tokenize(keep.block + TURN_END)).length;
  if (n > length) return whole;
  const kept = stopped
    ? (n > 1 ? await tok.detokenize(ids.slice(-(n - 1))) : '') + TURN_END
    : await tok.detokenize(ids.slice(-n));
  return { kept, extracted: keep.block + TURN_END };
}

/**
 * The text the model reads for a request, as VERBATIM_CHAT_TEMPLATE renders it (images as
 * vision placeholders); with a final assistant message, continued without its end of turn.
 */
export function renderedText(messages: ChatCompletionMessageParam[]): string {
  const last = messages.at(-1);
  const continuing = last?.role === 'assistant';
  const parts = messages.map((m, i) => {
    const content =
      typeof m.content === 'string'
        ? m.content
        : (m.content ?? [])
            .map((p) => (p.type === 'text' ? p.text : '<|vision_start|><|image_pad|><|vision_end|>'))
            .join('');
    const end = continuing && i === messages.length - 1 ? '' : '<|im_end|>\n';
    return `<|im_start|>${m.role}\n${content}${end}`;
  });
  return parts.join('') + (continuing ? '' : '<|im_start|>assistant\n');
}
