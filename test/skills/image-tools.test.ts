import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  boxToRect,
  crop,
  drawBoxes,
  fitPixels,
  ImageTools,
  LruCache,
  toDataUrl,
  zoom,
} from '../../src/data/image-tools.ts';
import { ImageCache } from '../../src/data/images.ts';
import { DataStore } from '../../src/data/store.ts';

type RGB = [number, number, number];
const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 255, 0];
const BLUE: RGB = [0, 0, 255];
const WHITE: RGB = [255, 255, 255];

/** A 200 × 100 PNG in four quadrants: red, green (top), blue, white (bottom). */
async function quadrants(): Promise<Buffer> {
  const q = (c: RGB) =>
    sharp({ create: { width: 100, height: 50, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } })
      .png()
      .toBuffer();
  const [tl, tr, bl, br] = await Promise.all([q(RED), q(GREEN), q(BLUE), q(WHITE)]);
  return sharp({ create: { width: 200, height: 100, channels: 3, background: '#000000' } })
    .composite([
      { input: tl, left: 0, top: 0 },
      { input: tr, left: 100, top: 0 },
      { input: bl, left: 0, top: 50 },
      { input: br, left: 100, top: 50 },
    ])
    .png()
    .toBuffer();
}

async function plain(width: number, height: number, c: RGB = WHITE): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } })
    .png()
    .toBuffer();
}

/** Pixel reader over decoded RGB. */
async function pixels(bytes: Buffer) {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at(x: number, y: number): RGB {
      const i = (y * info.width + x) * info.channels;
      return [data[i] ?? -1, data[i + 1] ?? -1, data[i + 2] ?? -1];
    },
  };
}

const near = (a: RGB, b: RGB, tol = 8) => a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= tol);

describe('boxes to pixel rectangles', () => {
  it('takes pixel boxes as they are', () => {
    expect(boxToRect([10, 20, 60, 70], 200, 100, 'pixel')).toEqual({
      left: 10,
      top: 20,
      width: 50,
      height: 50,
    });
  });
  it('sorts swapped corners', () => {
    expect(boxToRect([60, 70, 10, 20], 200, 100, 'pixel')).toEqual({
      left: 10,
      top: 20,
      width: 50,
      height: 50,
    });
  });
  it('clamps boxes that leave the image', () => {
    expect(boxToRect([-30, -5, 500, 80], 200, 100, 'pixel')).toEqual({
      left: 0,
      top: 0,
      width: 200,
      height: 80,
    });
    // Entirely outside: one pixel at the nearest edge, never an empty or negative area.
    expect(boxToRect([300, 150, 400, 190], 200, 100, 'pixel')).toEqual({
      left: 199,
      top: 99,
      width: 1,
      height: 1,
    });
  });
  it('scales 0–1000 boxes to the image', () => {
    expect(boxToRect([500, 0, 1000, 500], 200, 100, 'norm1000')).toEqual({
      left: 100,
      top: 0,
      width: 100,
      height: 50,
    });
  });
  it('guesses the space: 0–1000 when a number lies beyond the image', () => {
    expect(boxToRect([500, 0, 1000, 500], 200, 100, 'auto')).toEqual({
      left: 100,
      top: 0,
      width: 100,
      height: 50,
    });
    expect(boxToRect([10, 10, 50, 50], 200, 100, 'auto')).toEqual({
      left: 10,
      top: 10,
      width: 40,
      height: 40,
    });
  });
  it('rejects what is not a box', () => {
    expect(boxToRect([1, 2, Number.NaN, 4], 200, 100)).toBeNull();
    expect(boxToRect([1, 2, 3] as unknown as [number, number, number, number], 200, 100)).toBeNull();
  });
});

describe('crop', () => {
  it('cuts exactly the box', async () => {
    const out = await crop(await quadrants(), [100, 0, 200, 50], 'pixel');
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([100, 50]);
    expect(p.at(0, 0)).toEqual(GREEN);
    expect(p.at(99, 49)).toEqual(GREEN);
  });
  it('gives the same crop for swapped corners', async () => {
    const img = await quadrants();
    const a = await crop(img, [0, 50, 100, 100], 'pixel');
    const b = await crop(img, [100, 100, 0, 50], 'pixel');
    expect(b.rect).toEqual(a.rect);
    expect((await pixels(b.bytes)).at(50, 25)).toEqual(BLUE);
  });
  it('clamps an out-of-range box to the image', async () => {
    const out = await crop(await quadrants(), [150, -20, 400, 60], 'pixel');
    const p = await pixels(out.bytes);
    expect(out.rect).toEqual({ left: 150, top: 0, width: 50, height: 60 });
    expect([p.width, p.height]).toEqual([50, 60]);
    expect(p.at(10, 10)).toEqual(GREEN);
    expect(p.at(10, 55)).toEqual(WHITE);
  });
  it('reads 0–1000 coordinates', async () => {
    const p = await pixels((await crop(await quadrants(), [500, 500, 1000, 1000], 'norm1000')).bytes);
    expect([p.width, p.height]).toEqual([100, 50]);
    expect(p.at(50, 25)).toEqual(WHITE);
  });
});

describe('zoom', () => {
  it('keeps padding around the box and enlarges it', async () => {
    const out = await zoom(await quadrants(), [100, 0, 200, 50], {
      space: 'pixel',
      padding: 0.1,
      targetSide: 768,
      maxScale: 4,
    });
    // 10 % of 100 × 50 on each side, clamped at the image's top and right edges.
    expect(out.rect).toEqual({ left: 90, top: 0, width: 110, height: 55 });
    expect(out.scale).toBe(4);
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([440, 220]);
    // The padding strip on the left comes from the red quadrant, the rest is green.
    expect(near(p.at(15, 80), RED)).toBe(true);
    expect(near(p.at(300, 80), GREEN)).toBe(true);
    // The bottom padding reaches into the white quadrant.
    expect(near(p.at(300, 215), WHITE)).toBe(true);
  });
  it('never shrinks a large region', async () => {
    const out = await zoom(await plain(1200, 900), [0, 0, 1200, 900], { space: 'pixel' });
    expect(out.scale).toBe(1);
    expect([out.width, out.height]).toEqual([1200, 900]);
  });
});

describe('drawBoxes', () => {
  it('outlines each box inside its edges and tags it with its number', async () => {
    const out = await drawBoxes(await plain(200, 200), [{ box: [50, 50, 150, 150], label: 3 }], {
      space: 'pixel',
      strokeWidth: 4,
    });
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([200, 200]);
    expect(p.at(51, 120)).toEqual(RED); // left edge
    expect(p.at(148, 120)).toEqual(RED); // right edge
    expect(p.at(100, 148)).toEqual(RED); // bottom edge
    expect(p.at(100, 120)).toEqual(WHITE); // inside
    expect(p.at(45, 120)).toEqual(WHITE); // outside
    expect(p.at(155, 155)).toEqual(WHITE);
    // The number tag: filled red at the top-left corner, with white strokes of the digit in it.
    expect(p.at(51, 51)).toEqual(RED);
    let white = 0;
    for (let y = 50; y < 66; y++) for (let x = 50; x < 62; x++) if (near(p.at(x, y), WHITE, 30)) white++;
    expect(white).toBeGreaterThan(5);
  });
  it('clamps boxes that leave the image and accepts 0–1000 boxes', async () => {
    const out = await drawBoxes(
      await plain(200, 100),
      [{ box: [-50, -50, 60, 60] }, { box: [1000, 1000, 750, 500] }],
      {
        space: 'auto',
        strokeWidth: 2,
      },
    );
    const p = await pixels(out.bytes);
    expect(p.at(0, 30)).toEqual(RED); // first box, clamped to the left edge
    expect(p.at(59, 30)).toEqual(RED);
    expect(p.at(30, 30)).toEqual(WHITE);
    // Second box: 0–1000 with swapped corners → pixels 150..200 × 50..100.
    expect(p.at(150, 75)).toEqual(RED);
    expect(p.at(199, 75)).toEqual(RED);
    expect(p.at(175, 75)).toEqual(WHITE);
    expect(p.at(100, 75)).toEqual(WHITE);
  });
});

describe('resize and encode', () => {
  it('shrinks to a pixel budget, keeping the aspect ratio', async () => {
    const out = await fitPixels(await plain(400, 300), 30_000);
    expect([out.width, out.height]).toEqual([200, 150]);
    const p = await pixels(out.bytes);
    expect([p.width, p.height]).toEqual([200, 150]);
  });
  it('leaves an image within budget untouched', async () => {
    const img = await plain(40, 30);
    expect((await fitPixels(img, 1200)).bytes).toBe(img);
  });
  it('encodes PNG and JPEG data URLs that decode to the image', async () => {
    const img = await quadrants();
    const png = await toDataUrl(img, 'png');
    const jpeg = await toDataUrl(img, 'jpeg', 90);
    expect(png.startsWith('data:image/png;base64,')).toBe(true);
    expect(jpeg.startsWith('data:image/jpeg;base64,')).toBe(true);
    const decoded = await pixels(Buffer.from(jpeg.split(',')[1] ?? '', 'base64'));
    expect([decoded.width, decoded.height]).toEqual([200, 100]);
    expect(near(decoded.at(150, 25), GREEN, 20)).toBe(true);
    expect((await sharp(Buffer.from(png.split(',')[1] ?? '', 'base64')).metadata()).format).toBe('png');
  });
});

describe('the per-process image toolbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-imgtools-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an image once per pixel budget and serves it from the cache after', async () => {
    const store = new DataStore(dir);
    const ref = await store.putImage(await plain(400, 300), 'image/png', { width: 400, height: 300 });
    const tools = new ImageTools(store);
    const full = await tools.dataUrl(ref);
    const small = await tools.dataUrl(ref, 30_000);
    unlinkSync(store.imagePath(ref)); // gone from disk: only the cache can answer now
    expect(await tools.dataUrl(ref)).toBe(full);
    expect(await tools.dataUrl(ref, 30_000)).toBe(small);
    const p = await pixels(Buffer.from(small.split(',')[1] ?? '', 'base64'));
    expect([p.width, p.height]).toEqual([200, 150]);
    await expect(tools.dataUrl(ref, 12_345)).rejects.toThrow(/not in the data directory/);
  });

  it('gives the policy stored bytes as they are, and shrinks images over its budget', async () => {
    const store = new DataStore(dir);
    const smallBytes = await plain(40, 30, BLUE);
    const small = await store.putImage(smallBytes, 'image/png');
    const large = await store.putImage(await plain(400, 300, BLUE), 'image/png');
    const cache = new ImageCache(store, 16, 30_000);
    expect(await cache.dataUrl(small)).toBe(`data:image/png;base64,${smallBytes.toString('base64')}`);
    const [url] = await cache.dataUrls([large]);
    const p = await pixels(Buffer.from(url?.split(',')[1] ?? '', 'base64'));
    expect([p.width, p.height]).toEqual([200, 150]);
    expect(p.at(100, 75)).toEqual(BLUE);
  });

  it('keeps auxiliary results by key', () => {
    const tools = new ImageTools(new DataStore(dir), { maxAux: 2 });
    tools.rememberAux('a', { text: 'A' });
    tools.rememberAux('b', { text: 'B' });
    tools.rememberAux('c', { text: 'C' });
    expect(tools.cachedAux('a')).toBeUndefined();
    expect(tools.cachedAux<{ text: string }>('c')?.text).toBe('C');
  });

  it('evicts the least recently used entries by count and by weight', () => {
    const byCount = new LruCache<string>(2);
    byCount.set('a', 'x');
    byCount.set('b', 'y');
    byCount.get('a');
    byCount.set('c', 'z');
    expect(byCount.get('b')).toBeUndefined();
    expect(byCount.get('a')).toBe('x');
    const byWeight = new LruCache<string>(100, 10, (s) => s.length);
    byWeight.set('a', '123456');
    byWeight.set('b', '12345');
    expect(byWeight.get('a')).toBeUndefined();
    expect(byWeight.get('b')).toBe('12345');
    byWeight.set('huge', '12345678901');
    expect(byWeight.get('huge')).toBeUndefined();
    expect(byWeight.size).toBe(1);
  });
});
