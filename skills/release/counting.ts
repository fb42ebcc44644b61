/**
 * The release's Counting_Problem_Solver, call for call: detection per image (and the boxed
 * image drawn from it), DeepEyes per image with the boxed image, then two expert calls
 * (object list, then the verified count) with original, boxed and cropped images.
 */
import { MaestroError, PermanentError } from '../../src/core/errors.ts';
import { boxImageDataUrl } from './boxes.ts';
import { deepeyesDecision, toolCallBox } from './deepeyes.ts';
import { pilCropDataUrl } from './images.ts';
import { pyStr, removeThink } from './pytext.ts';
import type { ReleaseInputs, ReleaseSkillCode } from './run.ts';
import { callExpert } from './run.ts';
import { detectObjects, type ServiceRun } from './services.ts';
import type { Completion, ContentPart, Message } from './wire.ts';

const FILE = 'skills/Counting_Problem_Solver.py';

/** The value of an f-string field `name or 'fallback'`. */
function orField(expr: string, value: string): string {
  if (value) return value;
  const m = /\bor\s+(['"])(.*)\1\s*$/.exec(expr);
  return m ? m[2]! : '';
}

/** Detection lines per image and the boxed images, as the skill's constructor makes them. */
async function detections(inp: ReleaseInputs): Promise<{ lines: string[]; boxes: string[] }> {
  const { texts, wire, caches } = inp.env;
  const ep = inp.env.services.detection;
  if (!ep) throw new PermanentError('release skills: the registry has no service with role detection');
  const run: ServiceRun = { texts, wire, caches, imagesBase64: inp.imagesBase64 };
  const line = texts.template(FILE, ['def _get_detection_results_list', 'detection_results.append(']);
  const notFound = texts.literal(FILE, [
    'def _get_detection_results_list',
    'detect_objects(image_path=image_path, image_url=image_url) or',
  ]);
  const lines: string[] = [];
  for (let i = 0; i < inp.images.length; i++) {
    const text = (await detectObjects(run, ep, i)) || notFound;
    lines.push(line.render({ 'i+1': String(i + 1), detection_text: text }));
  }
  const boxes: string[] = [];
  for (let i = 0; i < inp.images.length; i++) {
    boxes.push(await boxImageDataUrl(inp.images[i]!, await detectObjects(run, ep, i)));
  }
  return { lines, boxes };
}

/** Per image: the original, its boxed image, then its crop when there is one. */
function userContent(inp: ReleaseInputs, boxes: string[], crops: string[], text: string): Message {
  if (inp.imageUrls.length === 0) return { role: 'user', content: text };
  const content: ContentPart[] = [];
  inp.imageUrls.forEach((url, i) => {
    for (const u of [url, boxes[i], crops[i]])
      if (u) content.push({ type: 'image_url', image_url: { url: u } });
  });
  content.push({ type: 'text', text });
  return { role: 'user', content };
}

/** DeepEyes on each image; the crops it asked for ("" where none). */
async function crops(inp: ReleaseInputs, lines: string[], boxes: string[]): Promise<string[]> {
  const t = inp.env.texts;
  const ep = inp.env.services.zoom;
  if (!ep) throw new PermanentError('release skills: the registry has no service with role zoom (DeepEyes)');
  const user = t.template(FILE, ['def _get_deepeyes_decision', 'user_prompt =']);
  const system = t.constant(FILE, 'DEEPEYES_SYSTEM_PROMPT');
  const out: string[] = inp.imageUrls.map(() => '');
  for (const [i, url] of inp.imageUrls.entries()) {
    const detectionText = lines[i] ?? '';
    const values: Record<string, string> = { 'self.question': inp.question };
    for (const f of user.fields()) if (f.startsWith('detection_text')) values[f] = orField(f, detectionText);
    const content: ContentPart[] = [{ type: 'image_url', image_url: { url } }];
    if (boxes[i]) content.push({ type: 'image_url', image_url: { url: boxes[i]! } });
    content.push({ type: 'text', text: user.render(values) });
    const { text } = await deepeyesDecision(inp.env.wire, ep, system, content);
    if (text.includes('<tool_call>') && inp.images[i]) {
      const box = toolCallBox(text);
      const crop = box ? await pilCropDataUrl(inp.images[i]!, box) : null;
      if (crop) out[i] = crop;
    }
  }
  return out;
}

export const countingRelease: ReleaseSkillCode = {
  name: 'Counting_Problem_Solver',
  aliases: ['counting_problem_solver', 'counting-problem-solver'],
  file: FILE,
  services: ['detection', 'zoom'],
  async build(inp) {
    const t = inp.env.texts;
    const { lines, boxes } = await detections(inp);
    const detectionText = lines.join('\n\n');
    return {
      generate: async (): Promise<Completion | null> => {
        try {
          if (inp.imageUrls.length === 0) return null;
          const cropUrls = await crops(inp, lines, boxes);
          const hasCrop = cropUrls.some(Boolean);
          const prompt = (step: number, extra: Record<string, string>) => {
            const builder = `def _build_step${step}_prompt`;
            const [withCrop, withoutCrop] = t.literals(FILE, [builder, 'crop_text = ('], 2);
            const fallback = t.literal(FILE, [
              builder,
              'detection_text = self.detection_results_text if self.detection_results_text else',
            ]);
            return t.template(FILE, [builder, 'return']).render({
              'self.question': inp.question,
              detection_text: detectionText || fallback,
              crop_text: (hasCrop ? withCrop! : withoutCrop!).render({}),
              [`STEP${step}_PROMPT`]: t.constant(FILE, `STEP${step}_PROMPT`),
              ...extra,
            });
          };
          const ask = (text: string) => callExpert(inp.env, [userContent(inp, boxes, cropUrls, text)]);
          const step2 = await ask(prompt(2, {}));
          const listed = pyStr(removeThink(step2.hasChoices ? step2.content : ''));
          const out = await ask(prompt(3, { step2_response: listed }));
          return out.hasChoices ? { ...out, content: removeThink(out.content) } : out;
        } catch (err) {
          if (err instanceof MaestroError) throw err;
          return null;
        }
      },
    };
  },
};
