/**
 * The release's detection-box image (skills/detection_service.py, draw_boxes_to_data_url),
 * drawn with OpenCV itself (opencv.js, the same drawing code as the release's cv2): green
 * boxes, a filled green label band and the label in red Hershey simplex, then JPEG at
 * OpenCV's default quality 95. Decoded pixels equal the release's.
 */
import { createRequire } from 'node:module';
import { loadSharp } from '../../src/core/sharp.ts';
import { roundHalfEven } from './images.ts';

interface CvMat {
  data: Uint8Array;
  delete(): void;
}
interface Cv {
  Mat: new (rows: number, cols: number, type: number, scalar?: unknown) => CvMat;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): CvMat;
  Point: new (x: number, y: number) => unknown;
  Scalar: new (a: number, b: number, c: number, d: number) => unknown;
  rectangle(m: CvMat, p1: unknown, p2: unknown, color: unknown, thickness: number): void;
  putText(
    m: CvMat,
    text: string,
    org: unknown,
    font: number,
    scale: number,
    color: unknown,
    t: number,
    line: number,
  ): void;
  CV_8UC1: number;
  CV_8UC3: number;
  FONT_HERSHEY_SIMPLEX: number;
  LINE_8: number;
  LINE_AA: number;
  onRuntimeInitialized?: () => void;
}

let loading: Promise<{ cv: Cv }> | undefined;

/**
 * opencv.js, loaded once. Its module object is a thenable that resolves to itself, so it
 * travels wrapped: resolving a promise with it directly never settles.
 */
function opencv(): Promise<{ cv: Cv }> {
  loading ??= new Promise((resolve) => {
    const mod = createRequire(import.meta.url)('@techstark/opencv-js') as Cv;
    if (typeof mod.Mat === 'function') resolve({ cv: mod });
    else mod.onRuntimeInitialized = () => resolve({ cv: mod });
  });
  return loading;
}

/** How OpenCV's Hershey code sees a label: each UTF-8 byte outside ' '…'\x7f' is '?'. */
function hersheyText(label: string): string {
  return Array.from(Buffer.from(label, 'utf8'), (b) =>
    b < 32 || b > 127 ? '?' : String.fromCharCode(b),
  ).join('');
}

const advances = new Map<string, number>();

function inkOf(cv: Cv, text: string): Uint8Array {
  const m = new cv.Mat(40, 120, cv.CV_8UC1, new cv.Scalar(0, 0, 0, 0));
  cv.putText(
    m,
    text,
    new cv.Point(10, 30),
    cv.FONT_HERSHEY_SIMPLEX,
    1,
    new cv.Scalar(255, 0, 0, 0),
    1,
    cv.LINE_8,
  );
  const ink = Uint8Array.from(m.data);
  m.delete();
  return ink;
}

/**
 * The advance width of a glyph at scale 1 (Hershey advances are whole units), measured by
 * drawing: `c + "H"` is `c` with "H" shifted right by the advance.
 */
function advance(cv: Cv, c: string): number {
  const known = advances.get(c);
  if (known !== undefined) return known;
  const alone = inkOf(cv, c);
  const both = inkOf(cv, `${c}H`);
  const h = inkOf(cv, 'H');
  for (let d = 0; d < 80; d++) {
    let ok = true;
    for (let i = 0; i < both.length && ok; i++) {
      const x = i % 120;
      const shifted = x - d >= 0 ? h[i - d]! : 0;
      if (both[i]! > 0 !== (alone[i]! > 0 || shifted > 0)) ok = false;
    }
    if (ok) {
      advances.set(c, d);
      return d;
    }
  }
  throw new Error(`cannot measure the Hershey advance of ${JSON.stringify(c)}`);
}

/** OpenCV's simplex font: cap line 12 and base line 9 font units. */
const SIMPLEX_LINES = 12 + 9;

/** OpenCV's getTextSize (cvRound rounds half to even). */
function textSize(
  cv: Cv,
  label: string,
  scale: number,
  thickness: number,
): { width: number; height: number } {
  let view = 0;
  for (const c of hersheyText(label)) view += advance(cv, c) * scale;
  return {
    width: roundHalfEven(view + thickness),
    height: roundHalfEven(SIMPLEX_LINES * scale + Math.floor((thickness + 1) / 2)),
  };
}

/** The detection reply as the release parses it; [] where its parse fails. */
export function detectionList(raw: string): unknown[] {
  if (!raw || raw.startsWith('[ERROR]')) return [];
  const cleaned = raw.replaceAll('```json', '').replaceAll('```', '').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(cleaned);
  } catch {
    parsed = JSON.parse(cleaned.replace(/'/g, '"')); // a failure here ends the drawing (no boxes)
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'objects' in parsed) {
    parsed = (parsed as { objects: unknown }).objects;
  }
  return Array.isArray(parsed) ? parsed : [];
}

/** Python's int() of a box coordinate; undefined where it raises. */
function pyInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  return undefined;
}

/** Draws what the release draws, stopping where the release's drawing raises. */
function drawAll(cv: Cv, img: CvMat, width: number, height: number, detection: string): void {
  const green = new cv.Scalar(0, 255, 0, 0);
  const red = new cv.Scalar(0, 0, 255, 0); // BGR
  let boxes: unknown[];
  try {
    boxes = detectionList(detection);
  } catch {
    return;
  }
  for (const obj of boxes) {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) continue;
    const o = obj as Record<string, unknown>;
    const bbox = o.bbox_2d;
    const label = 'label' in o ? o.label : 'unknown';
    if (bbox === undefined || bbox === null) continue;
    const items = typeof bbox === 'string' ? Array.from(bbox) : Array.isArray(bbox) ? bbox : undefined;
    if (!items) return; // len() of a number raises
    if (items.length !== 4) continue;
    const c = items.map(pyInt);
    if (c.some((v) => v === undefined)) return;
    const [x1, y1] = [Math.max(0, c[0]!), Math.max(0, c[1]!)];
    const [x2, y2] = [Math.min(width - 1, c[2]!), Math.min(height - 1, c[3]!)];
    cv.rectangle(img, new cv.Point(x1, y1), new cv.Point(x2, y2), green, 2);
    if (typeof label !== 'string') return; // cv2.getTextSize raises on a non-string label
    const size = textSize(cv, label, 0.6, 1);
    cv.rectangle(
      img,
      new cv.Point(x1, Math.max(0, y1 - size.height - 5)),
      new cv.Point(Math.min(width - 1, x1 + size.width), y1),
      green,
      -1,
    );
    cv.putText(
      img,
      label,
      new cv.Point(x1, Math.max(0, y1 - 5)),
      cv.FONT_HERSHEY_SIMPLEX,
      0.6,
      red,
      2,
      cv.LINE_AA,
    );
  }
}

/** The boxed image as a JPEG data URL (cv2.imread of the file, boxes, cv2.imencode). */
export async function boxImageDataUrl(file: Buffer, detection: string): Promise<string> {
  const { cv } = await opencv();
  const sharp = await loadSharp();
  // cv2.imread: 8-bit BGR, EXIF orientation applied, alpha dropped.
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const bgr = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 3) {
    bgr[i] = data[i + 2]!;
    bgr[i + 1] = data[i + 1]!;
    bgr[i + 2] = data[i]!;
  }
  const img = cv.matFromArray(info.height, info.width, cv.CV_8UC3, bgr);
  try {
    drawAll(cv, img, info.width, info.height, detection);
    const out = Buffer.from(img.data);
    for (let i = 0; i < out.length; i += 3) {
      const b = out[i]!;
      out[i] = out[i + 2]!;
      out[i + 2] = b;
    }
    const jpeg = await sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } })
      .jpeg({ quality: 95, chromaSubsampling: '4:2:0' })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } finally {
    img.delete();
  }
}
