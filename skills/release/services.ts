/**
 * The release's auxiliary services (skills/ocr_service.py, caption_service.py): one request
 * per image, the image re-encoded as PIL does, replies cached per process by the image's
 * base64 text, a failed request read as "" (and cached, as the release does).
 */
import { createHash } from 'node:crypto';
import { MaestroError } from '../../src/core/errors.ts';
import type { ReleaseTexts } from './upstream.ts';
import type { Endpoint, ReleaseWire } from './wire.ts';

/** Per-process reply caches of the services, keyed like the release's. */
export class ReleaseCaches {
  readonly ocr = new Map<string, string>();
  readonly caption = new Map<string, string>();
  readonly detection = new Map<string, string>();

  clear(): void {
    this.ocr.clear();
    this.caption.clear();
    this.detection.clear();
  }
}

/** Process-wide caches for the runtime (the release keeps module-level dicts). */
export const processCaches = new ReleaseCaches();

const SERVICE_TIMEOUT_MS = 120_000;

export interface ServiceRun {
  texts: ReleaseTexts;
  wire: ReleaseWire;
  caches: ReleaseCaches;
  /** JPEG base64 of each image (as the services re-encode the image files). */
  imagesBase64: string[];
}

function cacheKey(b64: string): string {
  return createHash('sha256').update(b64, 'utf8').digest('hex');
}

async function cached(
  cache: Map<string, string>,
  b64: string,
  request: () => Promise<string | null>,
): Promise<string> {
  const key = cacheKey(b64);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let text: string;
  try {
    text = (await request()) ?? '';
  } catch (err) {
    if (err instanceof MaestroError) throw err; // the run's budget: nothing is cached
    text = '';
  }
  cache.set(key, text);
  return text;
}

const OCR_FILE = 'skills/ocr_service.py';
const CAPTION_FILE = 'skills/caption_service.py';

/** `format_ocr_results_for_images`: the OCR block the release's prompts embed. */
export async function ocrResults(run: ServiceRun, ep: Endpoint): Promise<string> {
  if (run.imagesBase64.length === 0) return '';
  const prompt = run.texts.literal(OCR_FILE, ['def recognize_text', '"type": "text", "text":']);
  const line = run.texts.template(OCR_FILE, ['def format_ocr_results_for_images', 'formatted.append(']);
  const notFound = run.texts.literal(OCR_FILE, [
    'def format_ocr_results_for_images',
    'recognize_text(image_path=image_path, image_url=image_url) or',
  ]);
  const out: string[] = [];
  for (const [index, b64] of run.imagesBase64.entries()) {
    const text = await cached(run.caches.ocr, b64, async () => {
      const res = await run.wire.create(
        ep,
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: prompt },
              { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${b64}` } },
            ],
          },
        ],
        { temperature: 0.0, max_tokens: 4096 },
        SERVICE_TIMEOUT_MS,
      );
      return res.hasChoices ? res.content : '';
    });
    out.push(line.render({ 'index + 1': String(index + 1), text: text || notFound }));
  }
  return out.join('\n\n');
}

/**
 * `format_caption_results_for_images(…, empty_default=True)`. Without an API key the release
 * sends nothing and the caption is "" (not cached).
 */
export async function captionResults(run: ServiceRun, ep: Endpoint | undefined): Promise<string> {
  if (run.imagesBase64.length === 0) return '';
  const prompt = run.texts.literal(CAPTION_FILE, ['"CAPTION_PROMPT",']);
  const line = run.texts.template(CAPTION_FILE, [
    'def format_caption_results_for_images',
    'formatted.append(',
  ]);
  const out: string[] = [];
  for (const [index, b64] of run.imagesBase64.entries()) {
    let text = '';
    if (ep) {
      text = await cached(run.caches.caption, b64, async () => {
        const res = await run.wire.create(
          ep,
          [
            {
              role: 'user',
              content: [
                { type: 'text', text: prompt },
                { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${b64}` } },
              ],
            },
          ],
          {},
          SERVICE_TIMEOUT_MS,
        );
        return res.hasChoices ? res.content : '';
      });
    }
    out.push(line.render({ 'index + 1': String(index + 1), text }));
  }
  return out.join('\n\n');
}

const DETECTION_FILE = 'skills/detection_service.py';

/** `detect_objects` for one image: the detection model's raw reply ("" when it failed). */
export async function detectObjects(run: ServiceRun, ep: Endpoint, index: number): Promise<string> {
  const b64 = run.imagesBase64[index];
  if (!b64) return '';
  return cached(run.caches.detection, b64, async () => {
    const res = await run.wire.create(
      ep,
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: run.texts.constant(DETECTION_FILE, 'DETECTION_PROMPT') },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${b64}` } },
          ],
        },
      ],
      { temperature: 0.0, max_tokens: 4096 },
      SERVICE_TIMEOUT_MS,
    );
    return res.hasChoices ? res.content : '';
  });
}
