import { randomBytes } from 'node:crypto';

/** A `data:` URL this long or longer has its JSON bytes made once and reused. */
export const MIN_CACHED_CHARS = 4_096;
/**
 * Memory the cache may hold per process (least recently used out first): each entry counts
 * twice its size, for its bytes and for the URL's text it is found by (kept alive by the
 * cache when the image cache has let it go).
 */
export const DEFAULT_CACHE_BYTES = 64 * 2 ** 20;

/**
 * Request bodies as the bytes to write. Images travel as `data:` URLs (base64; a large image
 * is megabytes of text), and the same ones go out with every policy turn and every skill call
 * of an item. Stringifying and encoding each body whole copies every image twice per
 * request; here a body's `data:` URLs are left out of its stringification, and each one's
 * JSON text is encoded once and its bytes reused (the parts are written one after the other,
 * in one system call). The bytes are those of `JSON.stringify(body)`, with any body.
 */
export class JsonBodies {
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;
  /** Stands for a `data:` URL in the body's text while it is stringified (never a real value). */
  private readonly mark = `\u0000maestro-body-${randomBytes(6).toString('hex')}:`;

  constructor(private readonly maxBytes = DEFAULT_CACHE_BYTES) {}

  /** The body's JSON as buffers to write in order (one buffer when it holds no large `data:` URL). */
  encode(body: unknown): Buffer[] {
    if (!hasLargeDataUrl(body, 0)) return [Buffer.from(JSON.stringify(body))];
    const urls: string[] = [];
    const json = JSON.stringify(body, (_key, value: unknown) => {
      if (!isLargeDataUrl(value)) return value;
      urls.push(value);
      return `${this.mark}${urls.length - 1}`;
    });
    const parts: Buffer[] = [];
    let from = 0;
    urls.forEach((url, i) => {
      const token = JSON.stringify(`${this.mark}${i}`);
      const at = json.indexOf(token, from);
      parts.push(Buffer.from(json.slice(from, at)), this.literal(url));
      from = at + token.length;
    });
    parts.push(Buffer.from(json.slice(from)));
    return parts;
  }

  /** Memory the cache holds, as it counts it (twice each entry's bytes). */
  get size(): number {
    return this.cachedBytes;
  }

  /** The JSON string literal of `url` as bytes: from the cache, or made and kept. */
  private literal(url: string): Buffer {
    const hit = this.cache.get(url);
    if (hit) {
      // Most recently used last: the map's order is the eviction order.
      this.cache.delete(url);
      this.cache.set(url, hit);
      return hit;
    }
    const bytes = Buffer.from(JSON.stringify(url));
    if (2 * bytes.length > this.maxBytes) return bytes;
    this.cache.set(url, bytes);
    this.cachedBytes += 2 * bytes.length;
    for (const [key, old] of this.cache) {
      if (this.cachedBytes <= this.maxBytes) break;
      this.cache.delete(key);
      this.cachedBytes -= 2 * old.length;
    }
    return bytes;
  }
}

function isLargeDataUrl(value: unknown): value is string {
  return typeof value === 'string' && value.length >= MIN_CACHED_CHARS && value.startsWith('data:');
}

/** Whether a large `data:` URL is anywhere in `value` (request bodies are a few levels deep). */
function hasLargeDataUrl(value: unknown, depth: number): boolean {
  if (isLargeDataUrl(value)) return true;
  if (typeof value !== 'object' || value === null || depth > 32) return false;
  if (Array.isArray(value)) return value.some((v) => hasLargeDataUrl(v, depth + 1));
  for (const key in value)
    if (hasLargeDataUrl((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** Total length of the parts. */
export function byteLength(parts: Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** The body encoder of this process: policy and skill calls send the same images. */
export const sharedBodies = new JsonBodies();
