/**
 * Keeps the images a skill sends to a model, so its trace can show them: each data URL a
 * call sent (the item's images, crops, images with drawn boxes) is stored once in the data
 * directory's content-addressed image store and the call's trace entry holds only its
 * reference (hash, type, size). The request itself is never touched: storing reads the
 * URL's bytes after (or beside) the call, and a failure to store leaves the trace without
 * that thumbnail, the call unaffected.
 */
import { ImageRef } from '../core/items.ts';
import { picture } from '../data/image-tools.ts';
import type { DataStore } from '../data/store.ts';

/** Images a trace entry keeps a reference to (the rollout state carries every entry). */
export const MAX_CALL_IMAGES = 12;

const DATA_URL = /^data:(image\/(?:png|jpeg|webp|gif));base64,/;

/** The data URLs of a chat request's messages, in order (text and remote URLs skipped). */
export function sentImageUrls(messages: ReadonlyArray<{ content?: unknown }>): string[] {
  const urls: string[] = [];
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const part of m.content as Array<{ type?: unknown; image_url?: { url?: unknown } }>) {
      const url = part?.type === 'image_url' ? part.image_url?.url : undefined;
      if (typeof url === 'string' && DATA_URL.test(url)) urls.push(url);
    }
  }
  return urls;
}

/** One skill run's store of sent images: each distinct URL is decoded and stored once. */
export class SentImages {
  private readonly stored = new Map<string, Promise<ImageRef | undefined>>();

  constructor(
    private readonly store: DataStore,
    /** URLs already known as stored images of the item (no copy needed). */
    private readonly known: ReadonlyMap<string, ImageRef> = new Map(),
  ) {}

  /** References of the images among `urls` (at most MAX_CALL_IMAGES, in order, repeats kept). */
  async refs(urls: readonly string[]): Promise<ImageRef[]> {
    const picked = urls.slice(0, MAX_CALL_IMAGES);
    const refs = await Promise.all(picked.map((url) => this.ref(url)));
    return refs.filter((r): r is ImageRef => r !== undefined);
  }

  private ref(url: string): Promise<ImageRef | undefined> {
    const known = this.known.get(url);
    if (known) return Promise.resolve(known);
    let pending = this.stored.get(url);
    if (!pending) {
      pending = this.put(url).catch(() => undefined);
      this.stored.set(url, pending);
    }
    return pending;
  }

  private async put(url: string): Promise<ImageRef | undefined> {
    const m = DATA_URL.exec(url);
    if (!m) return undefined;
    const mime = ImageRef.shape.mime.parse(m[1]);
    const bytes = Buffer.from(url.slice(m[0].length), 'base64');
    const size = await picture(bytes).catch(() => undefined);
    return this.store.putImage(bytes, mime, size ? { width: size.width, height: size.height } : undefined);
  }
}
