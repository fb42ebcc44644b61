/**
 * Image work for skills, on sharp: load from the content-addressed store, crop to a box,
 * zoom with padding, draw numbered boxes, resize to a model's pixel budget and encode as
 * data URLs. Everything stays in this process: images travel as references between
 * processes (never as bytes in Redis) and are read from the shared data directory here.
 *
 * Boxes are `[x1, y1, x2, y2]` in either pixel coordinates of the image or the 0–1000
 * normalised coordinates many VLMs emit; corners may come in any order and out of range:
 * they are sorted and clamped to the image.
 */

import type { ImageRef } from '../core/items.ts';
import { loadSharp, type Sharp, type SharpOptions } from '../core/sharp.ts';
import type { DataStore } from './store.ts';

/** `[x1, y1, x2, y2]`; corners in any order. */
export type Box = readonly [number, number, number, number];

/**
 * How box numbers are meant: `pixel` (of the image they were produced from), `norm1000`
 * (0–1000 on both axes), or `auto` (norm1000 when every number is within 0–1000 and some
 * number lies beyond the image's own size, else pixel).
 */
export type BoxSpace = 'pixel' | 'norm1000' | 'auto';

/** An integer rectangle inside an image. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Image bytes with their size. */
export interface Picture {
  bytes: Buffer;
  width: number;
  height: number;
}

/** Default pixel budget of an image sent to a model (Qwen2.5-VL's default `max_pixels`). */
export const DEFAULT_MAX_PIXELS = 16384 * 28 * 28;

/** A sharp pipeline on `input`; sharp loads on first use (src/core/sharp.ts). */
async function sharp(input?: Buffer, options?: SharpOptions): Promise<Sharp> {
  return (await loadSharp())(input, options);
}

/** Reads an image's size (after EXIF orientation is ignored: sharp reports stored size). */
export async function picture(bytes: Buffer): Promise<Picture> {
  const meta = await (await sharp(bytes)).metadata();
  if (!meta.width || !meta.height) throw new Error('image has no readable size');
  return { bytes, width: meta.width, height: meta.height };
}

/** Decides the space of a box for an image of the given size (see {@link BoxSpace}). */
export function resolveSpace(box: Box, width: number, height: number, space: BoxSpace): 'pixel' | 'norm1000' {
  if (space !== 'auto') return space;
  const inRange = box.every((v) => v >= 0 && v <= 1000);
  const beyondImage = box[0] > width || box[2] > width || box[1] > height || box[3] > height;
  return inRange && beyondImage ? 'norm1000' : 'pixel';
}

/**
 * The pixel rectangle a box covers: corners sorted, scaled from 0–1000 when asked,
 * clamped to the image, at least one pixel on each side. Returns null for a box that
 * is not four finite numbers.
 */
export function boxToRect(box: Box, width: number, height: number, space: BoxSpace = 'auto'): Rect | null {
  if (box.length !== 4 || !box.every((v) => Number.isFinite(v))) return null;
  const s = resolveSpace(box, width, height, space);
  const sx = s === 'norm1000' ? width / 1000 : 1;
  const sy = s === 'norm1000' ? height / 1000 : 1;
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  const x1 = clamp(Math.min(box[0], box[2]) * sx, width);
  const x2 = clamp(Math.max(box[0], box[2]) * sx, width);
  const y1 = clamp(Math.min(box[1], box[3]) * sy, height);
  const y2 = clamp(Math.max(box[1], box[3]) * sy, height);
  let left = Math.floor(x1);
  let top = Math.floor(y1);
  let right = Math.ceil(x2);
  let bottom = Math.ceil(y2);
  // A degenerate box still selects one pixel row/column at its position.
  if (right <= left) {
    if (left >= width) left = width - 1;
    right = left + 1;
  }
  if (bottom <= top) {
    if (top >= height) top = height - 1;
    bottom = top + 1;
  }
  return { left, top, width: right - left, height: bottom - top };
}

/** Grows a rectangle by `fraction` of its size on every side (at least `minPad` px), clamped. */
export function padRect(r: Rect, width: number, height: number, fraction: number, minPad = 0): Rect {
  const px = Math.max(minPad, Math.round(r.width * fraction));
  const py = Math.max(minPad, Math.round(r.height * fraction));
  const left = Math.max(0, r.left - px);
  const top = Math.max(0, r.top - py);
  const right = Math.min(width, r.left + r.width + px);
  const bottom = Math.min(height, r.top + r.height + py);
  return { left, top, width: right - left, height: bottom - top };
}

/** Crops an image to a box (PNG out). The rectangle actually used is returned with it. */
export async function crop(
  bytes: Buffer,
  box: Box,
  space: BoxSpace = 'auto',
): Promise<Picture & { rect: Rect }> {
  const src = await picture(bytes);
  const rect = boxToRect(box, src.width, src.height, space);
  if (!rect) throw new Error(`not a box: ${JSON.stringify(box)}`);
  const out = await (await sharp(bytes)).extract(rect).png().toBuffer();
  return { bytes: out, width: rect.width, height: rect.height, rect };
}

export interface ZoomOptions {
  space?: BoxSpace;
  /** Context kept around the box, as a fraction of its size on each side. Default 0.15. */
  padding?: number;
  /** The zoomed view is enlarged until its longer side reaches this (px). Default 768. */
  targetSide?: number;
  /** Never enlarge more than this factor. Default 4. */
  maxScale?: number;
}

/** Crops a box with some context around it and enlarges it: a closer look at a region. */
export async function zoom(
  bytes: Buffer,
  box: Box,
  opts: ZoomOptions = {},
): Promise<Picture & { rect: Rect; scale: number }> {
  const src = await picture(bytes);
  const tight = boxToRect(box, src.width, src.height, opts.space ?? 'auto');
  if (!tight) throw new Error(`not a box: ${JSON.stringify(box)}`);
  const rect = padRect(tight, src.width, src.height, opts.padding ?? 0.15, 2);
  const longer = Math.max(rect.width, rect.height);
  const scale = Math.max(1, Math.min(opts.maxScale ?? 4, (opts.targetSide ?? 768) / longer));
  const width = Math.max(1, Math.round(rect.width * scale));
  const height = Math.max(1, Math.round(rect.height * scale));
  const out = await (await sharp(bytes))
    .extract(rect)
    .resize(width, height, { kernel: 'lanczos3' })
    .png()
    .toBuffer();
  return { bytes: out, width, height, rect, scale };
}

/** A box to draw, with an optional number printed at its top-left corner. */
export interface DrawnBox {
  box: Box;
  label?: number;
}

export interface DrawOptions {
  space?: BoxSpace;
  /** Stroke colour (CSS hex). Default pure red. */
  color?: string;
  /** Stroke width in px. Default scales with the image (at least 2). */
  strokeWidth?: number;
}

/** Segments lit for each digit: a b c d e f g (clockwise from the top, g in the middle). */
const SEGMENTS: Record<string, string> = {
  '0': 'abcdef',
  '1': 'bc',
  '2': 'abdeg',
  '3': 'abcdg',
  '4': 'bcfg',
  '5': 'acdfg',
  '6': 'acdefg',
  '7': 'abc',
  '8': 'abcdefg',
  '9': 'abcdfg',
};

/** SVG rectangles for a number in seven-segment style (no font needed). */
function digitsSvg(value: number, x: number, y: number, h: number, fill: string): string {
  const w = h * 0.55;
  const t = Math.max(1, h * 0.14);
  const parts: string[] = [];
  [...String(value)].forEach((ch, i) => {
    const ox = x + i * (w + t * 1.5);
    const seg = SEGMENTS[ch] ?? '';
    const r = (sx: number, sy: number, sw: number, sh: number) =>
      `<rect x="${(ox + sx).toFixed(2)}" y="${(y + sy).toFixed(2)}" width="${sw.toFixed(2)}" height="${sh.toFixed(2)}" fill="${fill}"/>`;
    const half = h / 2;
    if (seg.includes('a')) parts.push(r(0, 0, w, t));
    if (seg.includes('b')) parts.push(r(w - t, 0, t, half));
    if (seg.includes('c')) parts.push(r(w - t, half, t, half));
    if (seg.includes('d')) parts.push(r(0, h - t, w, t));
    if (seg.includes('e')) parts.push(r(0, half, t, half));
    if (seg.includes('f')) parts.push(r(0, 0, t, half));
    if (seg.includes('g')) parts.push(r(0, half - t / 2, w, t));
  });
  return parts.join('');
}

/** Width of a number drawn by {@link digitsSvg}. */
function digitsWidth(value: number, h: number): number {
  const n = String(value).length;
  const w = h * 0.55;
  const t = Math.max(1, h * 0.14);
  return n * w + (n - 1) * t * 1.5;
}

/**
 * Draws boxes on an image (PNG out): the outline of each box, and its number in a small
 * filled tag inside the box's top-left corner. Boxes are clamped like {@link boxToRect}.
 */
export async function drawBoxes(bytes: Buffer, boxes: DrawnBox[], opts: DrawOptions = {}): Promise<Picture> {
  const src = await picture(bytes);
  const color = opts.color ?? '#ff0000';
  const sw = opts.strokeWidth ?? Math.max(2, Math.round(Math.min(src.width, src.height) / 150));
  const tagH = Math.max(9, Math.round(Math.min(src.width, src.height) / 28));
  const parts: string[] = [];
  for (const b of boxes) {
    const r = boxToRect(b.box, src.width, src.height, opts.space ?? 'auto');
    if (!r) continue;
    // The stroke is drawn fully inside the rectangle so clamped boxes stay visible.
    const inset = sw / 2;
    parts.push(
      `<rect x="${r.left + inset}" y="${r.top + inset}" width="${Math.max(0, r.width - sw)}" height="${Math.max(0, r.height - sw)}" fill="none" stroke="${color}" stroke-width="${sw}"/>`,
    );
    if (b.label !== undefined && Number.isInteger(b.label) && b.label >= 0) {
      const pad = Math.max(2, Math.round(tagH * 0.25));
      const tagW = digitsWidth(b.label, tagH) + pad * 2;
      parts.push(
        `<rect x="${r.left}" y="${r.top}" width="${tagW.toFixed(2)}" height="${tagH + pad * 2}" fill="${color}"/>`,
        digitsSvg(b.label, r.left + pad, r.top + pad, tagH, '#ffffff'),
      );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${src.width}" height="${src.height}" shape-rendering="crispEdges">${parts.join('')}</svg>`;
  const out = await (await sharp(bytes))
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  return { bytes: out, width: src.width, height: src.height };
}

/**
 * Shrinks an image so width × height ≤ maxPixels, keeping its aspect ratio. An image
 * already within budget comes back unchanged (same bytes).
 */
export async function fitPixels(bytes: Buffer, maxPixels: number): Promise<Picture> {
  const src = await picture(bytes);
  if (src.width * src.height <= maxPixels) return src;
  const scale = Math.sqrt(maxPixels / (src.width * src.height));
  const width = Math.max(1, Math.floor(src.width * scale));
  const height = Math.max(1, Math.floor(src.height * scale));
  const out = await (await sharp(bytes)).resize(width, height, { fit: 'fill' }).png().toBuffer();
  return { bytes: out, width, height };
}

export type Encoding = 'png' | 'jpeg';

/** Encodes an image as a `data:` URL (PNG, or JPEG at the given quality, flattened on white). */
export async function toDataUrl(bytes: Buffer, format: Encoding = 'png', quality = 90): Promise<string> {
  const out =
    format === 'jpeg'
      ? await (await sharp(bytes)).flatten({ background: '#ffffff' }).jpeg({ quality }).toBuffer()
      : await (await sharp(bytes)).png().toBuffer();
  return `data:image/${format};base64,${out.toString('base64')}`;
}

/** A least-recently-used map bounded by entry count and by total weight. */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; weight: number }>();
  private total = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = Number.POSITIVE_INFINITY,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V): void {
    const prior = this.entries.get(key);
    if (prior) {
      this.total -= prior.weight;
      this.entries.delete(key);
    }
    const weight = this.weigh(value);
    if (weight > this.maxWeight) return; // too big to keep at all
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.entries.size > this.maxEntries || this.total > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const e = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      this.total -= e?.weight ?? 0;
    }
  }
}

export interface ImageToolsOptions {
  /** Max encoded images kept. Default 512. */
  maxEncoded?: number;
  /** Max total characters of encoded images kept. Default 256 MB. */
  maxEncodedChars?: number;
  /** Max auxiliary results kept. Default 4096. */
  maxAux?: number;
}

/**
 * The per-process image toolbox skills use: loads images from the data directory and
 * keeps two caches keyed by image content hash: encoded data URLs (per pixel budget and
 * format) and auxiliary-service results (OCR, detection, …; the caller builds the key).
 */
export class ImageTools {
  readonly store: DataStore;
  private readonly encoded: LruCache<string>;
  private readonly auxResults: LruCache<unknown>;
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(store: DataStore, opts: ImageToolsOptions = {}) {
    this.store = store;
    this.encoded = new LruCache<string>(
      opts.maxEncoded ?? 512,
      opts.maxEncodedChars ?? 256 * 1024 * 1024,
      (s) => s.length,
    );
    this.auxResults = new LruCache<unknown>(opts.maxAux ?? 4096);
  }

  /** The image's bytes with their size. */
  async load(ref: ImageRef): Promise<Picture> {
    return picture(await this.store.readImage(ref));
  }

  /**
   * A data URL of a stored image for a model: shrunk to `maxPixels` when larger, PNG
   * unless the stored image is a JPEG. Cached by (hash, budget).
   */
  async dataUrl(ref: ImageRef, maxPixels = DEFAULT_MAX_PIXELS): Promise<string> {
    const key = `${ref.sha256}|${maxPixels}`;
    const hit = this.encoded.get(key);
    if (hit) return hit;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = (async () => {
        const bytes = await this.store.readImage(ref);
        const fitted = await fitPixels(bytes, maxPixels);
        // An image within budget keeps its stored bytes and type; a resized one is PNG.
        const url =
          fitted.bytes === bytes
            ? `data:${ref.mime};base64,${bytes.toString('base64')}`
            : await toDataUrl(fitted.bytes, ref.mime === 'image/jpeg' ? 'jpeg' : 'png');
        this.encoded.set(key, url);
        return url;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A data URL of derived bytes (a crop, a drawing), shrunk to `maxPixels`; not cached. */
  async encode(bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS, format: Encoding = 'png'): Promise<string> {
    const fitted = await fitPixels(bytes, maxPixels);
    return toDataUrl(fitted.bytes, format);
  }

  /** A cached auxiliary result (see {@link auxKey}). */
  cachedAux<T>(key: string): T | undefined {
    return this.auxResults.get(key) as T | undefined;
  }

  rememberAux(key: string, value: unknown): void {
    this.auxResults.set(key, value);
  }
}
