/**
 * Image operations of the release, done with sharp so the pixels the experts receive are
 * the release's: its images are re-encoded as PIL does (`convert("RGB")`, then JPEG at
 * PIL's default quality 75, 4:2:0), and its crops are PIL's `Image.crop` of the original
 * file (box rounded half-to-even, zero fill outside the image) saved as JPEG the same way.
 * The JPEG container bytes differ from PIL's (Huffman tables, headers); the decoded pixels
 * are the same, which the parity tests check.
 */
import { loadSharp } from '../../src/core/sharp.ts';

const PIL_QUALITY = 75;

function dataUrl(jpeg: Buffer): string {
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** The base64 JPEG the release makes from an image file (`convert("RGB")`, `save(format="JPEG")`). */
export async function pilJpegBase64(bytes: Buffer): Promise<string> {
  const sharp = await loadSharp();
  const jpeg = await sharp(bytes)
    .removeAlpha()
    .toColourspace('srgb')
    .jpeg({ quality: PIL_QUALITY, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return jpeg.toString('base64');
}

/** The data URL the release's orchestrator makes from an image file. */
export async function pilJpegDataUrl(bytes: Buffer): Promise<string> {
  return `data:image/jpeg;base64,${await pilJpegBase64(bytes)}`;
}

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** PIL image modes that `save(format="JPEG")` refuses (the release's crop then fails). */
async function pilMode(bytes: Buffer): Promise<{ mode: string; channels: number }> {
  const sharp = await loadSharp();
  const meta = await sharp(bytes).metadata();
  const channels = meta.channels ?? 3;
  if (meta.format === 'png' || meta.format === 'gif') {
    if (meta.isPalette || meta.format === 'gif') {
      return { mode: 'P', channels };
    }
    if (meta.depth === 'ushort') return { mode: 'I;16', channels };
    if (channels === 4) return { mode: 'RGBA', channels };
    if (channels === 2) return { mode: 'LA', channels };
  }
  if (channels === 4) return { mode: meta.format === 'jpeg' ? 'CMYK' : 'RGBA', channels };
  return { mode: channels === 1 ? 'L' : 'RGB', channels };
}

/**
 * The release's crop of the original image for a box read from the zoom model, as a JPEG
 * data URL; null where the release's crop fails (it then goes on without a crop).
 */
export async function pilCropDataUrl(bytes: Buffer, bbox: readonly unknown[]): Promise<string | null> {
  if (bbox.length < 4) return null;
  const b = bbox.slice(0, 4);
  if (!b.every((v) => typeof v === 'number' && Number.isFinite(v))) return null;
  const [l, t, r, btm] = b as number[];
  if (r! < l! || btm! < t!) return null; // PIL: "Coordinate 'right' is less than 'left'"
  const x0 = roundHalfEven(l!);
  const y0 = roundHalfEven(t!);
  const w = roundHalfEven(r!) - x0;
  const h = roundHalfEven(btm!) - y0;
  if (w <= 0 || h <= 0) return null; // PIL: "cannot write empty image as JPEG"
  const { mode } = await pilMode(bytes);
  if (mode !== 'RGB' && mode !== 'L') return null; // PIL: "cannot write mode … as JPEG"
  const sharp = await loadSharp();
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const c = info.channels;
  const out = Buffer.alloc(w * h * c); // PIL fills outside the image with zeros
  for (let y = 0; y < h; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= info.height) continue;
    const from = Math.max(0, x0);
    const to = Math.min(info.width, x0 + w);
    if (to <= from) continue;
    data.copy(out, (y * w + (from - x0)) * c, (sy * info.width + from) * c, (sy * info.width + to) * c);
  }
  const jpeg = await sharp(out, { raw: { width: w, height: h, channels: c as 1 | 3 } })
    .jpeg({ quality: PIL_QUALITY, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return dataUrl(jpeg);
}
