/**
 * The release's zoom step (DeepEyes-7B): one request with the model's tool-call system
 * prompt and stop strings, then the `<tool_call>` box read as the release reads it.
 */
import { MaestroError } from '../../src/core/errors.ts';
import type { Endpoint, Message, ReleaseWire } from './wire.ts';

/** Stop strings the release sends to DeepEyes. */
export const DEEPEYES_STOP = ['<|im_end|>\n', '</answer>', '</tool_call>'];
const DEEPEYES_TIMEOUT_MS = 900_000;

/** Asks DeepEyes; "" when the request fails (the release goes on without a zoom). */
export async function deepeyesDecision(
  wire: ReleaseWire,
  ep: Endpoint,
  system: string,
  userContent: Exclude<Message['content'], string>,
): Promise<{ text: string; ok: boolean }> {
  try {
    const res = await wire.create(
      ep,
      [
        { role: 'system', content: system },
        { role: 'user', content: userContent },
      ],
      { temperature: 0.0, stop: DEEPEYES_STOP },
      DEEPEYES_TIMEOUT_MS,
    );
    if (!res.hasChoices) return { text: '', ok: false };
    return { text: res.content ?? '', ok: true };
  } catch (err) {
    if (err instanceof MaestroError) throw err; // the run's budget, not the service's failure
    return { text: '', ok: false };
  }
}

/** A Python literal the release would read with literal_eval, as JSON (lists, numbers, strings, dicts). */
function pythonLiteralAsJson(s: string): unknown {
  const json = s
    .replace(/\(/g, '[')
    .replace(/\)/g, ']')
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
    .replace(/\bNone\b/g, 'null')
    .replace(/'/g, '"')
    .replace(/,\s*([\]}])/g, '$1');
  return JSON.parse(json);
}

/**
 * The box of a `<tool_call>` as the release reads it: the text between the first
 * `<tool_call>` and the next `</tool_call>`, parsed as JSON after turning ' into ",
 * then `["arguments"]["bbox_2d"]`. Undefined where the release's read fails.
 */
export function toolCallBox(output: string): unknown[] | undefined {
  const pieces = output.split('<tool_call>');
  if (pieces.length < 2) return undefined;
  const call = pieces[1]!.split('</tool_call>')[0]!.trim();
  let action: unknown;
  try {
    action = JSON.parse(call.replace(/'/g, '"'));
  } catch {
    try {
      action = pythonLiteralAsJson(call);
    } catch {
      return undefined;
    }
  }
  const args = (action as { arguments?: { bbox_2d?: unknown } } | null)?.arguments;
  const box = args && typeof args === 'object' ? args.bbox_2d : undefined;
  return Array.isArray(box) ? box : undefined;
}
