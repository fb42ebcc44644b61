/**
 * Request bodies with images: the CPU of turning one chat request into the bytes sent,
 * stringified and encoded whole on every call (as before) against `JsonBodies`, which
 * encodes each image's `data:` URL once and reuses its bytes. Images of the bench's own
 * benchmarks are a few kilobytes, so the cluster scenarios hardly see this; real benchmark
 * images are 0.1–5 MB of base64, sent with every policy turn and skill call of an item.
 */
import { JsonBodies } from '../../models/json-body.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { elapsedS, type Scenario } from './common.ts';

/** Image sizes (KiB of image bytes; the data URL is 4/3 of that). */
const SIZES_KIB = [8, 100, 1_024, 4_096];

function chatBody(imageKiB: number) {
  const bytes = Buffer.alloc(imageKiB * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 255;
  return {
    model: 'expert',
    temperature: 0,
    max_tokens: 1024,
    messages: [
      { role: 'system', content: 'You are a careful visual assistant.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'How many objects are in the image? '.repeat(40) },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${bytes.toString('base64')}` } },
        ],
      },
    ],
  };
}

/** Mean ms per call of `fn` over `n` calls (after 3 unmeasured ones). */
function timePerCall(n: number, fn: () => unknown): number {
  for (let i = 0; i < 3; i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t) / n;
}

export const bodiesScenario: Scenario = {
  id: 'bodies',
  title: 'Request bodies with images',
  estimateS: { full: 10, quick: 3 },
  async run(_ctx, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const rows: Array<Array<string | number>> = [];
    const figures: Record<string, { wholeMs: number; cachedMs: number; ratio: number }> = {};
    for (const kib of SIZES_KIB) {
      const body = chatBody(kib);
      const bodies = new JsonBodies();
      const whole = Buffer.from(JSON.stringify(body));
      if (!Buffer.concat(bodies.encode(body)).equals(whole))
        throw new Error(`bodies: the encoded ${kib} KiB body differs from JSON.stringify`);
      const n = Math.max(quick ? 10 : 30, Math.floor((quick ? 20_000 : 100_000) / kib));
      const wholeMs = timePerCall(n, () => Buffer.from(JSON.stringify(body)));
      const cachedMs = timePerCall(n, () => bodies.encode(body));
      const ratio = wholeMs / cachedMs;
      figures[`${kib}KiB`] = {
        wholeMs: round(wholeMs, 4),
        cachedMs: round(cachedMs, 4),
        ratio: round(ratio, 1),
      };
      rows.push([
        `${kib} KiB (${Math.round(whole.length / 1024)} KiB of JSON)`,
        round(wholeMs, 4),
        round(cachedMs, 4),
        `${round(ratio, 1)}×`,
      ]);
    }
    const mib = figures['1024KiB'];
    return {
      id: 'bodies',
      title: 'Request bodies with images',
      target: 'reported: CPU per request body, whole against images encoded once',
      pass: null,
      headline: `a chat request with a 1 MiB image: ${mib?.wholeMs} ms made whole, ${mib?.cachedMs} ms with its image's bytes reused (${mib?.ratio}×)`,
      figures,
      tables: [
        {
          title: 'CPU per request body (ms, mean over repeated calls in the bench process)',
          columns: ['image', 'stringified and encoded whole', 'image bytes reused', 'ratio'],
          rows,
        },
      ],
      notes: [
        'One chat request (system and user messages, 1,400 characters of text and one PNG as a base64 data: URL); the same body made again and again, as a policy turn or a skill call of an item sends the same image each time. "Whole" is Buffer.from(JSON.stringify(body)); "reused" is JsonBodies.encode (src/models/json-body.ts), after its first call made the image\'s bytes. Both give the same bytes (checked).',
        'A first use of an image (a cache miss) costs about what the whole body does. The cache holds up to 64 MiB (image bytes and the URLs’ text) per process, least recently used out first; a worker whose images in flight exceed it gains less.',
      ],
      durationS: elapsedS(started),
    };
  },
};
