import type { ImageRef } from '../core/items.ts';
import { DEFAULT_MAX_PIXELS, ImageTools } from './image-tools.ts';
import type { DataStore } from './store.ts';

/**
 * Data URLs of stored images (the policy's view of an item), through the image tools:
 * read from the data directory once, shrunk to a pixel budget when larger, and kept in a
 * bounded per-process cache keyed by content hash.
 */
export class ImageCache {
  private readonly tools: ImageTools;
  private readonly maxPixels: number;

  /**
   * @param maxEntries encoded images kept (default 256)
   * @param maxPixels largest image sent as is (default: the image tools' default budget)
   */
  constructor(store: DataStore, maxEntries = 256, maxPixels = DEFAULT_MAX_PIXELS) {
    this.tools = new ImageTools(store, { maxEncoded: maxEntries });
    this.maxPixels = maxPixels;
  }

  /** A `data:` URL for an image. */
  dataUrl(ref: ImageRef): Promise<string> {
    return this.tools.dataUrl(ref, this.maxPixels);
  }

  dataUrls(refs: ImageRef[]): Promise<string[]> {
    return Promise.all(refs.map((r) => this.dataUrl(r)));
  }
}
