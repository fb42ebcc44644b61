import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import type { ImageRef } from '../core/items.ts';
import { loadSharp, type Sharp } from '../core/sharp.ts';
import { DataStore } from '../data/store.ts';
import { parseListLiteral } from './literal.ts';
import { type ImageLimits, RowError } from './types.ts';

/**
 * Turning the many ways source files hold images into content-addressed ImageRefs:
 * raw bytes, Hugging Face `{bytes, path}` structs, base64 text, `data:` URLs and relative
 * paths (confined to the data file's folder: no `..`, no absolute paths, no symlinks out).
 */

export type ImageEncoding = 'auto' | 'base64' | 'path';

export interface ImageContext {
  store: DataStore;
  /** Folder relative paths start from (the data file's folder, or the mapping's imageDir). */
  baseDir: string;
  limits: ImageLimits;
  encoding: ImageEncoding;
}

const MIME: Record<string, ImageRef['mime']> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/;

/** A size for people: "51 MB", "1.5 KB". */
function size(bytes: number): string {
  const [v, unit] = bytes >= 1024 * 1024 ? [bytes / (1024 * 1024), 'MB'] : [bytes / 1024, 'KB'];
  return `${v.toFixed(1).replace(/\.0$/, '')} ${unit}`;
}

function checkBytes(bytes: number, limits: ImageLimits, field: string): void {
  if (bytes > limits.maxBytes) {
    throw new RowError(
      field,
      `image is ${size(bytes)} (${bytes} bytes), over the ${size(limits.maxBytes)} limit`,
    );
  }
}

/** True when a string is plausibly base64 image data rather than a path. */
export function looksLikeBase64(text: string): boolean {
  return text.length >= 64 && BASE64.test(text);
}

function decodeBase64(text: string, field: string): Uint8Array {
  const t = text.trim();
  if (!BASE64.test(t)) throw new RowError(field, 'image is not valid base64');
  return Buffer.from(t, 'base64');
}

function decodeDataUrl(text: string, field: string): Uint8Array {
  const m = /^data:[^;,]*(;base64)?,(.*)$/s.exec(text);
  if (!m?.[1]) throw new RowError(field, 'image data URL is not base64-encoded');
  return decodeBase64(m[2] ?? '', field);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Reads an image file named by a relative path, refusing anything that leaves the base folder. */
async function readImageFile(relPath: string, ctx: ImageContext, field: string): Promise<Uint8Array> {
  if (isAbsolute(relPath) || /^[A-Za-z]:[\\/]/.test(relPath)) {
    throw new RowError(
      field,
      `absolute image path "${relPath}" is not allowed; paths must be relative to ${ctx.baseDir}`,
    );
  }
  let full: string;
  try {
    full = DataStore.safeJoin(ctx.baseDir, relPath);
  } catch {
    throw new RowError(field, `image path "${relPath}" escapes ${ctx.baseDir}`);
  }
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    throw new RowError(field, `image file "${relPath}" does not exist (looked for ${full})`);
  }
  const realBase = await realpath(ctx.baseDir);
  if (!inside(realBase, real)) {
    throw new RowError(
      field,
      `image path "${relPath}" goes through a symlink to ${real}, outside ${ctx.baseDir}`,
    );
  }
  const info = await stat(real);
  if (!info.isFile()) throw new RowError(field, `image path "${relPath}" is not a file`);
  checkBytes(info.size, ctx.limits, field);
  return readFile(real);
}

/** Validates image bytes (format, size, pixels) and stores them once, by hash. */
export async function storeImageBytes(
  bytes: Uint8Array,
  ctx: ImageContext,
  field: string,
): Promise<ImageRef> {
  checkBytes(bytes.byteLength, ctx.limits, field);
  if (bytes.byteLength === 0) throw new RowError(field, 'image is empty (0 bytes)');
  const sharp = await loadSharp();
  let meta: Awaited<ReturnType<Sharp['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new RowError(field, `image cannot be decoded (${why})`);
  }
  const mime = meta.format ? MIME[meta.format] : undefined;
  if (!mime) {
    throw new RowError(
      field,
      `image format "${meta.format ?? 'unknown'}" is not accepted (PNG, JPEG, WebP or GIF)`,
    );
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new RowError(field, 'image has no width or height');
  const pixels = width * height;
  if (pixels > ctx.limits.maxPixels) {
    throw new RowError(
      field,
      `image is ${width}×${height} (${(pixels / 1e6).toFixed(1)} megapixels), over the ${ctx.limits.maxPixels / 1e6} megapixel limit`,
    );
  }
  return ctx.store.putImage(bytes, mime, { width, height });
}

/**
 * Every image of one cell, in order: bytes, `{bytes, path}`, a list of either, base64 or
 * data-URL text, a list written as text (`['…', '…']`), or a relative path.
 */
export async function cellImages(value: unknown, ctx: ImageContext, field: string): Promise<ImageRef[]> {
  if (value === null || value === undefined || value === '') return [];
  if (value instanceof Uint8Array) return [await storeImageBytes(value, ctx, field)];
  if (Array.isArray(value)) {
    const refs: ImageRef[] = [];
    for (const v of value) refs.push(...(await cellImages(v, ctx, field)));
    return refs;
  }
  if (typeof value === 'object') {
    const o = value as { bytes?: unknown; path?: unknown };
    if (o.bytes !== null && o.bytes !== undefined && o.bytes !== '') {
      if (o.bytes instanceof Uint8Array) return [await storeImageBytes(o.bytes, ctx, field)];
      if (typeof o.bytes === 'string') {
        return [await storeImageBytes(decodeBase64(o.bytes, field), ctx, field)];
      }
      throw new RowError(field, 'image "bytes" is neither binary nor base64 text');
    }
    if (typeof o.path === 'string' && o.path !== '') {
      return [await storeImageBytes(await readImageFile(o.path, ctx, field), ctx, field)];
    }
    throw new RowError(field, 'image has neither bytes nor a path');
  }
  if (typeof value !== 'string') throw new RowError(field, `expected an image, got ${typeof value}`);
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    let list: string[];
    try {
      list = parseListLiteral(text);
    } catch (err) {
      throw new RowError(field, `image list cannot be read (${(err as Error).message})`);
    }
    return cellImages(list, ctx, field);
  }
  if (text.startsWith('data:')) return [await storeImageBytes(decodeDataUrl(text, field), ctx, field)];
  const asBase64 = ctx.encoding === 'base64' || (ctx.encoding === 'auto' && looksLikeBase64(text));
  if (asBase64) return [await storeImageBytes(decodeBase64(text, field), ctx, field)];
  return [await storeImageBytes(await readImageFile(text, ctx, field), ctx, field)];
}
