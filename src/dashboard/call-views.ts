/**
 * The calls of one policy turn in the item trace: per expert or service call its request
 * summary, the images it sent as thumbnails (the item's own, and the crops and drawn boxes
 * the skill made, stored by the skill runtime) with a click to the full image, its output,
 * latency, tokens and attempts (retries with the error of each failed attempt).
 */
import type { CallTrace, ImageRef } from '../core/items.ts';
import { Html, html } from './html.ts';

const EXT: Record<ImageRef['mime'], string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/** The dashboard URL of a content-addressed image. */
export function imageUrl(ref: Pick<ImageRef, 'sha256' | 'mime'>): string {
  return `/images/${ref.sha256}.${EXT[ref.mime]}`;
}

const ms = (x: number) => `${Math.round(x)} ms`;

/** The images a call sent; `data-derived` marks those that are not images of the item. */
function callImages(c: CallTrace, itemImages: ReadonlySet<string>): Html[] {
  return (c.images ?? []).map((ref: ImageRef) => {
    const derived = !itemImages.has(ref.sha256);
    const size = ref.width && ref.height ? ` ${ref.width}×${ref.height}` : '';
    const what = derived
      ? `image made by the skill (crop, drawn boxes, re-encoding)${size}`
      : `image of the item${size}`;
    return html`<a href="${imageUrl(ref)}" target="_blank"><img class="mini${derived ? ' derived' : ''}" src="${imageUrl(ref)}" alt="${what}" title="${what}: click for the full image"${derived ? new Html(' data-derived="1"') : ''}></a>`;
  });
}

/** Requests sent for the call; the failed ones' errors one click away. */
function callAttempts(c: CallTrace): Html {
  const n = c.attempts ?? (c.cached ? 0 : 1);
  const errors = c.attemptErrors ?? [];
  const failed = errors.length ? html` <small class="bad">(${errors.length} failed)</small>` : '';
  const list = errors.length
    ? html`<details><summary>errors</summary><ol class="attempt-errors">${errors.map((e) => html`<li>${e}</li>`)}</ol></details>`
    : '';
  return html`<td class="num attempts" data-attempts="${n}"><span class="count">${n}</span>${failed}${list}</td>`;
}

function callRow(c: CallTrace, itemImages: ReadonlySet<string>): Html {
  const output =
    c.output !== undefined
      ? html`<details><summary>${c.output.length > 60 ? `${c.output.slice(0, 60)}…` : c.output}</summary><pre class="call-output">${c.output}</pre></details>`
      : html`<span class="muted">—</span>`;
  return html`<tr><td>${c.service}</td><td>${c.model}</td><td>${c.note ?? ''}</td><td class="images">${callImages(c, itemImages)}</td><td class="output">${output}</td><td class="num">${ms(c.latencyMs)}</td><td class="num">${c.promptTokens} / ${c.completionTokens}</td>${callAttempts(c)}<td>${c.ok ? html`<span class="ok">ok</span>` : html`<span class="bad">failed</span> ${c.error ?? ''}`}</td></tr>`;
}

/** The calls table of one turn. `itemImages`: hashes of the item's own images. */
export function callsTable(calls: readonly CallTrace[], itemImages: ReadonlySet<string>): Html {
  return html`<table class="calls"><thead><tr><th>service</th><th>model</th><th>request</th><th>images sent</th><th>output</th><th class="num">latency</th><th class="num">tokens in / out</th><th class="num">attempts</th><th>status</th></tr></thead><tbody>${calls.map((c) => callRow(c, itemImages))}</tbody></table>`;
}
