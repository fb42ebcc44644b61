import type { Action } from './items.ts';

/**
 * The Maestro turn protocol: `<think>…</think>` then exactly one of
 * `<search> MODEL@@SKILL: input </search>` or `<answer> … </answer>`.
 * The parser never throws: untrusted model text becomes an `invalid` action with a reason.
 */

/** Stop sequences for policy generation. */
export const POLICY_STOP = ['</search>', '</answer>'];

/** Policy text longer than this is cut before parsing (bounds work on hostile output). */
export const MAX_POLICY_TEXT = 32_000;

export interface ParsedTurn {
  think: string | null;
  action: Action;
}

const TAG_THINK_OPEN = '<think>';
const TAG_THINK_CLOSE = '</think>';

/**
 * Re-attaches the closing tag an OpenAI-compatible server strips when generation stops
 * on a stop sequence, so the stored text is a complete turn.
 */
export function restoreStopSequence(text: string): string {
  const lastSearch = text.lastIndexOf('<search>');
  const lastAnswer = text.lastIndexOf('<answer>');
  const open = lastSearch > lastAnswer ? 'search' : lastAnswer >= 0 ? 'answer' : null;
  if (!open) return text;
  const openAt = Math.max(lastSearch, lastAnswer);
  if (text.indexOf(`</${open}>`, openAt) >= 0) return text;
  return `${text}</${open}>`;
}

export function parseTurn(rawText: string): ParsedTurn {
  const text = rawText.length > MAX_POLICY_TEXT ? rawText.slice(0, MAX_POLICY_TEXT) : rawText;
  let think: string | null = null;
  let body = text;
  const thinkOpen = text.indexOf(TAG_THINK_OPEN);
  const thinkClose = text.indexOf(TAG_THINK_CLOSE);
  if (thinkClose >= 0) {
    // Thinking models may omit the opening tag (it is part of the chat template).
    const start = thinkOpen >= 0 && thinkOpen < thinkClose ? thinkOpen + TAG_THINK_OPEN.length : 0;
    think = text.slice(start, thinkClose).trim();
    body = text.slice(thinkClose + TAG_THINK_CLOSE.length);
  } else if (thinkOpen >= 0) {
    return {
      think: text.slice(thinkOpen + TAG_THINK_OPEN.length).trim(),
      action: invalid('unclosed <think> tag'),
    };
  }

  const first = firstActionTag(body);
  if (!first) return { think, action: invalid('no <search> or <answer> tag') };
  const { tag, start } = first;
  const contentStart = start + tag.length + 2;
  const close = body.indexOf(`</${tag}>`, contentStart);
  const content = (close >= 0 ? body.slice(contentStart, close) : body.slice(contentStart)).trim();
  if (tag === 'answer') {
    if (content.length === 0) return { think, action: invalid('empty <answer>') };
    return { think, action: { type: 'answer', answer: content } };
  }
  return { think, action: parseSearch(content) };
}

function firstActionTag(body: string): { tag: 'search' | 'answer'; start: number } | null {
  const s = body.indexOf('<search>');
  const a = body.indexOf('<answer>');
  if (s < 0 && a < 0) return null;
  if (s >= 0 && (a < 0 || s < a)) return { tag: 'search', start: s };
  return { tag: 'answer', start: a };
}

/** Parses `MODEL@@SKILL: input` (spaces allowed around the parts). */
export function parseSearch(content: string): Action {
  const at = content.indexOf('@@');
  if (at < 0) return invalid('malformed call: expected "MODEL@@SKILL: input"');
  const model = content.slice(0, at).trim();
  const rest = content.slice(at + 2);
  const colon = rest.indexOf(':');
  if (colon < 0) return invalid('malformed call: missing ":" between SKILL and the input');
  const skill = rest.slice(0, colon).trim();
  const input = rest.slice(colon + 1).trim();
  if (!model) return invalid('malformed call: empty model name before "@@"');
  if (!skill) return invalid('malformed call: empty skill name after "@@"');
  if (model.length > 200 || skill.length > 200)
    return invalid('malformed call: model or skill name too long');
  return { type: 'search', model, skill, input };
}

function invalid(reason: string): Action {
  return { type: 'invalid', reason };
}

const PROTOCOL_TAG = /<(\/?)(information|search|answer|think)>/gi;

/**
 * Wraps a skill's output for the next policy turn. Keeps the last `maxChars` characters
 * (as the upstream system does) and neutralises protocol tags inside the output, so an
 * expert (or text in an image) cannot forge an answer or close the block.
 */
export function formatInformation(output: string, maxChars = 1000): string {
  const tail = output.length > maxChars ? output.slice(output.length - maxChars) : output;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = tail.replace(PROTOCOL_TAG, '[$1$2]').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
  return `<information>${clean.trim()}</information>`;
}
