/**
 * The release's ERQA skills: five solvers, each written out by hand in the release on the
 * helpers of skills/erqa_solver_utils.py, and the keyword router ERQA_Embodied_Scene_QA_Skill.
 *
 * What each solver does is read from its own file, uncommented code only: which services
 * its constructor calls and in which order, whether it draws boxed images, whether and on
 * how many images it asks DeepEyes for a crop (the crops are requested even where the
 * solver does not send them: its `per_image_extras=` line is commented out), and its
 * prompt expression.
 */
import { boxImageDataUrl } from './boxes.ts';
import { detectionResults, focusCrops, need, routerCode } from './packs.ts';
import { removeThink } from './pytext.ts';
import type { ReleaseInputs, ReleaseInstance, ReleaseSkillCode } from './run.ts';
import { EXPERT_PARAMS, EXPERT_TIMEOUT_MS } from './run.ts';
import { captionResults, detectObjects, ocrResults, type ServiceRun } from './services.ts';
import type { ReleaseTexts } from './upstream.ts';
import type { ContentPart, Message } from './wire.ts';

/** The file's code without comment lines. */
function code(t: ReleaseTexts, file: string): string {
  return t
    .source(file)
    .text.split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
}

/** A solver's plan, from its file. */
function plan(t: ReleaseTexts, file: string) {
  const src = code(t, file);
  const ctor = src.slice(src.indexOf('def __init__'), src.indexOf('def generate'));
  const gen = src.slice(src.indexOf('def generate'));
  const services = [...ctor.matchAll(/format_result_for_images\(\s*"(\w+)"/g)].map((m) => m[1]!);
  const max = /max_images=(?:min\((\d+), len\(self\.images\)\)|(\d+))/.exec(gen);
  return {
    services,
    boxes: ctor.includes('get_box_images_for_paths('),
    focus: gen.includes('collect_focus_crops('),
    maxCrops: max ? Number(max[1] ?? max[2]) : 1,
    sendsExtras: /build_messages\([\s\S]*?per_image_extras=per_image_extras/.test(gen),
  };
}

/** One ERQA solver; `system` is the router's prompt when routed. */
async function buildErqaSolver(inp: ReleaseInputs, file: string, system?: string): Promise<ReleaseInstance> {
  const t = inp.env.texts;
  const { wire, caches, services } = inp.env;
  const run: ServiceRun = { texts: t, wire, caches, imagesBase64: inp.imagesBase64 };
  const p = plan(t, file);
  const evidence: Record<string, string> = {};
  for (const kind of p.services) {
    if (kind === 'ocr') evidence.ocr = await ocrResults(run, need(services.ocr, 'ocr'));
    else if (kind === 'caption') evidence.caption = await captionResults(run, services.caption);
    else evidence.detection = await detectionResults(run, need(services.detection, 'detection'));
  }
  const boxes: string[] = [];
  if (p.boxes) {
    const ep = need(services.detection, 'detection');
    for (let i = 0; i < inp.images.length; i++) {
      boxes.push(await boxImageDataUrl(inp.images[i]!, await detectObjects(run, ep, i)));
    }
  }
  return {
    generate: async () => {
      if (inp.imageUrls.length === 0) return null;
      const hint = p.focus ? t.literal(file, ['def generate', 'focus_hint=']) : '';
      const crops = p.focus ? await focusCrops(inp, hint, p.maxCrops) : inp.imageUrls.map(() => '');
      const values: Record<string, string> = { 'self.question': inp.question };
      for (const kind of ['caption', 'ocr', 'detection']) {
        const expr = `self.${kind}_results_text`;
        if (!code(t, file).includes(`${kind}_text = ${expr} or`)) continue;
        values[`${kind}_text`] =
          evidence[kind] || t.literal(file, ['def generate', `${kind}_text = ${expr} or`]);
      }
      const text = t.template(file, ['def generate', 'prompt_text =']).render(values);
      const content: ContentPart[] = [];
      inp.imageUrls.forEach((url, i) => {
        const extras = p.sendsExtras ? [boxes[i], crops[i]] : [];
        for (const u of [url, ...extras]) if (u) content.push({ type: 'image_url', image_url: { url: u } });
      });
      content.push({ type: 'text', text });
      const sys = system || t.constant(file, 'DEFAULT_SYSTEM_PROMPT');
      const messages: Message[] = sys
        ? [
            { role: 'system', content: sys },
            { role: 'user', content },
          ]
        : [{ role: 'user', content }];
      const out = await wire.create(inp.env.expert, messages, { ...EXPERT_PARAMS }, EXPERT_TIMEOUT_MS);
      return out.hasChoices ? { ...out, content: removeThink(out.content) } : out;
    },
  };
}

function erqaSolver(name: string): ReleaseSkillCode {
  const file = `skills/${name}.py`;
  return {
    name,
    aliases: [name.toLowerCase(), name.toLowerCase().replaceAll('_', '-')],
    file,
    services: ['ocr', 'caption', 'detection', 'zoom'],
    build: (inp) => buildErqaSolver(inp, file),
  };
}

export const erqaSolvers: ReleaseSkillCode[] = [
  'ERQA_Trajectory_Outcome_Solver',
  'ERQA_Action_Adjustment_Solver',
  'ERQA_Spatial_Mechanics_Solver',
  'ERQA_Pointing_Localization_Solver',
  'ERQA_Multi_View_Task_Solver',
].map(erqaSolver);

export const erqaRouterRelease: ReleaseSkillCode = routerCode(
  'ERQA_Embodied_Scene_QA_Skill',
  [
    'Embodied_Scene_QA_Skill',
    'embodied_scene_qa_skill',
    'embodied-scene-qa-skill',
    'erqa_embodied_scene_qa_skill',
    'erqa-embodied-scene-qa-skill',
  ],
  (inp, file, system) => buildErqaSolver(inp, file, system),
);
