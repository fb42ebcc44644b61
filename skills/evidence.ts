/**
 * Shared steps of the skills: asking auxiliary services for evidence (OCR, caption,
 * zoom region, detection boxes) and turning their replies into usable values, plus the
 * text conventions of skill outputs.
 */
import { type Box, type Picture, resolveSpace, zoom } from '../src/data/image-tools.ts';
import type { AuxResult, SkillContext } from './types.ts';
import { questionWithOptions } from './types.ts';

/** The closing instruction of every answering prompt. */
export const ANSWER_RULE =
  'End with one line "The answer is X." where X is short: an option letter, a number, or a few words.';

/** A successful auxiliary reply. */
export type AuxOk = Extract<AuxResult, { ok: true }>;

/** The last "The answer is X" of a text, without trailing punctuation or emphasis. */
export function statedAnswer(text: string): string | null {
  const re = /the answer is\s*:?\s*([^\n]+)/gi;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const x = (m[1] ?? '')
      .trim()
      .replace(/[.。]+$/, '')
      .replace(/^\*\*(.*)\*\*$/, '$1')
      .trim();
    if (x) found = x;
  }
  return found;
}

/** A text cut to at most `n` characters (keeping the start), marked when cut. */
export function clip(text: string, n: number): string {
  const t = text.trim();
  return t.length <= n ? t : `${t.slice(0, Math.max(0, n - 1)).trimEnd()}…`;
}

/** The task as the expert sees it: the planner's request, then the item's question and options. */
export function taskText(ctx: SkillContext): string {
  const question = questionWithOptions(ctx.item);
  const input = ctx.input.trim();
  if (!input || question.includes(input) || input === ctx.item.question.trim())
    return `Question: ${question}`;
  return `Request from the planner: ${input}\nQuestion: ${question}`;
}

/**
 * A skill's output: a header line, notes (degraded steps, choices), the expert's final
 * reasoning (shortened), and the answer line last, since the policy sees only the tail.
 */
export function compose(parts: {
  header: string;
  notes?: string[];
  body: string;
  answer?: string | null;
}): string {
  const notes = (parts.notes ?? []).filter(Boolean);
  const lines = [parts.header, ...notes.map((n) => `Note: ${n}`)];
  let body = parts.body.trim();
  const answer = parts.answer ?? statedAnswer(body);
  if (answer !== null) {
    // The answer line goes last, once.
    body = body.replace(/the answer is\s*:?\s*[^\n]+/gi, '').trim();
    lines.push(clip(body, 520), `The answer is ${answer}.`);
  } else {
    lines.push(clip(body, 700));
  }
  return lines.filter((l) => l.trim()).join('\n');
}

/** The classification line format (the simulators understand it too). */
export function classifyPrompt(options: string[]): string {
  return `Options: ${options.join(' | ')}\nReply with one option only, exactly as written.`;
}

/** The option a reply names (exact word first, then the first one mentioned), or null. */
export function parseOption(text: string, options: string[]): string | null {
  const t = text.toLowerCase();
  const exact = options.find((o) => t.trim().replace(/[.!"'`*]/g, '') === o.toLowerCase());
  if (exact) return exact;
  let best: { option: string; at: number } | null = null;
  for (const o of options) {
    const at = t.search(new RegExp(`\\b${o.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
    if (at >= 0 && (!best || at < best.at)) best = { option: o, at };
  }
  return best?.option ?? null;
}

/** A bbox in a reply: `"bbox_2d": [x1, y1, x2, y2]`, else the first list of four numbers; null for none. */
export function parseBox(text: string): Box | null {
  const num = '(-?\\d+(?:\\.\\d+)?)';
  const list = `\\[\\s*${num}\\s*,\\s*${num}\\s*,\\s*${num}\\s*,\\s*${num}\\s*\\]`;
  const m = new RegExp(`bbox(?:_2d)?"?\\s*:\\s*${list}`).exec(text) ?? new RegExp(list).exec(text);
  if (!m) return null;
  const box = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return box.every(Number.isFinite) ? box : null;
}

/** Detection boxes in a reply: a JSON list of `{bbox_2d, label}`, or bare boxes. */
export function parseDetections(text: string): Array<{ box: Box; label: string }> {
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start >= 0 && end > start) {
    try {
      const data: unknown = JSON.parse(text.slice(start, end + 1));
      if (Array.isArray(data)) {
        const out: Array<{ box: Box; label: string }> = [];
        for (const d of data) {
          const raw = Array.isArray(d)
            ? d
            : ((d as { bbox_2d?: unknown; bbox?: unknown })?.bbox_2d ?? (d as { bbox?: unknown })?.bbox);
          if (
            Array.isArray(raw) &&
            raw.length === 4 &&
            raw.every((v) => typeof v === 'number' && Number.isFinite(v))
          ) {
            const label =
              typeof (d as { label?: unknown })?.label === 'string'
                ? (d as { label: string }).label
                : 'object';
            out.push({ box: raw as unknown as Box, label });
          }
        }
        return out;
      }
    } catch {
      // fall through to the loose reading
    }
  }
  const out: Array<{ box: Box; label: string }> = [];
  const re =
    /\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ box: [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])], label: 'object' });
  }
  return out;
}

/**
 * A box from a service reply, in pixels of the original image: 0–1000 boxes are scaled,
 * pixel boxes are mapped back from the (possibly shrunk) image the service saw.
 */
export function toImagePixels(box: Box, r: AuxOk): Box {
  const space = resolveSpace(box, r.sent.width, r.sent.height, r.service.coordinates ?? 'auto');
  const sx = space === 'norm1000' ? r.original.width / 1000 : r.original.width / r.sent.width;
  const sy = space === 'norm1000' ? r.original.height / 1000 : r.original.height / r.sent.height;
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/** What the policy-facing text says about a failed service. */
export function unavailable(role: string, r: AuxResult): string {
  return r.ok ? '' : `${role} unavailable (${clip(r.error, 80)}); answered without it`;
}

// ---- evidence steps --------------------------------------------------------------------

/** OCR of one item image. */
export function readText(ctx: SkillContext, index = 0, note = 'ocr'): Promise<AuxResult> | null {
  const ref = ctx.images[index];
  if (!ref) return null;
  return ctx.aux('ocr', {
    image: { ref },
    prompt: 'Read all text in the image: titles, labels, numbers, legends. Reply with the text only.',
    note,
  });
}

/** A one-paragraph description of one item image. */
export function describe(ctx: SkillContext, index = 0, note = 'caption'): Promise<AuxResult> | null {
  const ref = ctx.images[index];
  if (!ref) return null;
  return ctx.aux('caption', {
    image: { ref },
    prompt: 'Describe the image in a few sentences: what it shows, its parts and any visible text.',
    note,
  });
}

/** A zoomed view of the region the zoom service picks for the question. */
export interface ZoomView {
  box: Box;
  view: Picture;
  url: string;
}

/**
 * Asks the zoom service where to look, then crops that region with context and enlarges
 * it. `view` is null when the service failed, gave no region, or the image is missing;
 * `reason` then says why.
 */
export async function zoomIn(
  ctx: SkillContext,
  index = 0,
  note = 'zoom decision',
): Promise<{ result: AuxResult | null; view: ZoomView | null; reason: string }> {
  const ref = ctx.images[index];
  if (!ref) return { result: null, view: null, reason: 'no image' };
  const result = await ctx.aux('zoom', {
    image: { ref },
    prompt:
      `${questionWithOptions(ctx.item)}\n\nWhich region of the image holds the detail needed to answer? ` +
      'Reply with {"bbox_2d": [x1, y1, x2, y2]}, or {"bbox_2d": null} when the whole image is needed.',
    note,
  });
  if (!result.ok) return { result, view: null, reason: unavailable('zoom', result) };
  const raw = parseBox(result.text);
  if (!raw) return { result, view: null, reason: 'the zoom service chose the whole image' };
  try {
    const bytes = await ctx.tools.store.readImage(ref);
    const box = toImagePixels(raw, result);
    const view = await zoom(bytes, box, { space: 'pixel' });
    return { result, view: { box, view, url: await ctx.expertImage(view.bytes) }, reason: '' };
  } catch (err) {
    return {
      result,
      view: null,
      reason: `could not crop the zoom region (${err instanceof Error ? err.message : err})`,
    };
  }
}

/** Detection boxes (original image pixels) for a target on one item image. */
export async function detect(
  ctx: SkillContext,
  target: string,
  index = 0,
  note = 'detection',
): Promise<{ result: AuxResult | null; boxes: Box[] | null }> {
  const ref = ctx.images[index];
  if (!ref) return { result: null, boxes: null };
  const result = await ctx.aux('detection', {
    image: { ref },
    prompt: `Detect every ${target} in the image. Reply with a JSON list of {"bbox_2d": [x1, y1, x2, y2], "label": "..."}.`,
    note,
  });
  if (!result.ok) return { result, boxes: null };
  return { result, boxes: parseDetections(result.text).map((d) => toImagePixels(d.box, result)) };
}

/** The thing a "how many …" question counts, for the detector's prompt. */
export function countTarget(question: string): string {
  const m =
    /how many\s+(.+?)(?:\s+(?:are|is|can|do|does|did|were|there|in|on|at|of|appear|visible)\b|[?,.]|$)/i.exec(
      question,
    );
  const t = m?.[1]?.trim();
  return t && t.length <= 60 ? t : 'object';
}

/** Ok-text of an optional evidence step, or null. */
export function okText(r: AuxResult | null): string | null {
  return r?.ok ? r.text.trim() : null;
}
