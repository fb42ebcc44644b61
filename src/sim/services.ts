import { hashUnit } from '../core/hash.ts';
import type { Service } from '../core/registry.ts';
import { type SimContext, scene } from './context.ts';

/** Probability that OCR reads an OCR item's text, and that detection finds exactly the gold count. */
export const OCR_HIT_RATE = 0.8;
export const DETECTION_HIT_RATE = 0.8;

type Box = [number, number, number, number];

/** Hash parts identifying what a service is looking at: the item when known, else the request. */
function subject(ctx: SimContext): Array<string | number> {
  return ctx.ref
    ? [ctx.seed, ctx.endpoint, ctx.ref.benchmark, ctx.ref.itemId]
    : [ctx.seed, ctx.endpoint, ctx.requestKey];
}

/** A box in 0–1000 coordinates, between 120 and 400 units on a side. */
function box(...parts: Array<string | number>): Box {
  const u = (k: string) => hashUnit(...parts, k);
  const w = 120 + Math.round(u('w') * 280);
  const h = 120 + Math.round(u('h') * 280);
  const x1 = Math.round(u('x') * (1000 - w));
  const y1 = Math.round(u('y') * (1000 - h));
  return [x1, y1, x1 + w, y1 + h];
}

function zoomReply(ctx: SimContext): string {
  const b = box(...subject(ctx), 'zoom');
  return `The detail that answers the question is small, so zoom in on it.\n{"bbox_2d": [${b.join(', ')}]}`;
}

function ocrReply(ctx: SimContext): string {
  const item = ctx.item;
  if (!item) return 'Text found: (no legible text)';
  const gold = (item.answers[0] ?? '').replace(/\s+/g, ' ').trim();
  if (ctx.domain === 'ocr') {
    if (hashUnit(...subject(ctx), 'ocr') < OCR_HIT_RATE) return `Text found: ${gold}`;
    // A misread: part of the text at most, never all of it.
    return gold.length >= 4
      ? `Text found: ${gold.slice(0, Math.floor(gold.length / 2))}…`
      : 'Text found: (illegible)';
  }
  const labels = (item.options ?? []).map((o) => o.text.trim()).filter(Boolean);
  if (labels.length > 0) return `Text found: ${labels.join('; ')}`;
  return 'Text found: a title and a few short labels; nothing else is legible.';
}

function detectionReply(ctx: SimContext): string {
  const item = ctx.item;
  if (!item) return '[]';
  const parts = subject(ctx);
  let count: number;
  const gold = Number.parseInt((item.answers[0] ?? '').trim(), 10);
  if (ctx.domain === 'counting' && Number.isFinite(gold) && gold >= 0) {
    if (hashUnit(...parts, 'detect') < DETECTION_HIT_RATE) count = gold;
    else count = gold > 0 && hashUnit(...parts, 'detect-miss') < 0.5 ? gold - 1 : gold + 1;
  } else {
    count = 1 + Math.floor(hashUnit(...parts, 'detect-other') * 4);
  }
  const boxes = Array.from({ length: count }, (_, k) => ({
    bbox_2d: box(...parts, 'obj', k),
    label: 'object',
  }));
  return JSON.stringify(boxes);
}

function captionReply(ctx: SimContext): string {
  if (!ctx.item) return 'The image shows a scene that is hard to make out.';
  return `The image shows ${scene(ctx.domain)}.`;
}

/** The reply text of an auxiliary service, by its role. */
export function serviceReply(service: Service, ctx: SimContext): string {
  switch (service.role) {
    case 'zoom':
      return zoomReply(ctx);
    case 'ocr':
      return ocrReply(ctx);
    case 'detection':
      return detectionReply(ctx);
    case 'caption':
      return captionReply(ctx);
  }
}
