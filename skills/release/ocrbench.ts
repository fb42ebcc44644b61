/**
 * The release's OCRBench pack: five solvers on one base (skills/ocrbench_skill_utils.py)
 * and a keyword router (OCRBench_Master_Router_Skill) that picks one with no model call.
 *
 * Every solver, whatever it uses in its prompt, first asks OCR, caption and detection for
 * every image and draws the boxed images (the base class does so in its constructor);
 * then DeepEyes may crop the first image around the solver's focus hint; then one expert
 * call with the system prompt (the router's when routed, else the solver's own).
 */
import { PermanentError } from '../../src/core/errors.ts';
import { boxImageDataUrl } from './boxes.ts';
import { deepeyesDecision, toolCallBox } from './deepeyes.ts';
import { pilCropDataUrl } from './images.ts';
import { removeThink } from './pytext.ts';
import type { ReleaseInputs, ReleaseInstance, ReleaseSkillCode } from './run.ts';
import { EXPERT_PARAMS, EXPERT_TIMEOUT_MS } from './run.ts';
import { captionResults, detectObjects, ocrResults, type ServiceRun } from './services.ts';
import type { ReleaseTexts } from './upstream.ts';
import type { ContentPart, Endpoint, Message } from './wire.ts';

const UTILS = 'skills/ocrbench_skill_utils.py';
const ERQA_UTILS = 'skills/erqa_solver_utils.py';
const DETECTION = 'skills/detection_service.py';
const ROUTER = 'skills/OCRBench_Master_Router_Skill.py';

/** The value of an f-string field `name or 'fallback'`. */
export function orValue(expr: string, value: string): string {
  if (value) return value;
  const m = /\bor\s+(['"])(.*)\1\s*$/.exec(expr);
  return m ? m[2]! : '';
}

/** Fills every field of the form `x or '…'` with `value`. */
function orFields(fields: string[], value: string): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f, orValue(f, value)]));
}

function need(ep: Endpoint | undefined, role: string): Endpoint {
  if (!ep) throw new PermanentError(`release skills: the registry has no service with role ${role}`);
  return ep;
}

/** `format_detection_results_for_images`. */
async function detectionResults(run: ServiceRun, ep: Endpoint): Promise<string> {
  if (run.imagesBase64.length === 0) return '';
  const line = run.texts.template(DETECTION, [
    'def format_detection_results_for_images',
    'formatted.append(',
  ]);
  const notFound = run.texts.literal(DETECTION, [
    'def format_detection_results_for_images',
    'detect_objects(image_path=image_path, image_url=image_url) or',
  ]);
  const out: string[] = [];
  for (let i = 0; i < run.imagesBase64.length; i++) {
    out.push(
      line.render({ 'index + 1': String(i + 1), text: (await detectObjects(run, ep, i)) || notFound }),
    );
  }
  return out.join('\n\n');
}

/** `get_deepeyes_decision` of the shared utils: the DeepEyes prompt with an optional focus hint. */
function focusPrompt(t: ReleaseTexts, question: string, hint: string): string {
  const at = ['def get_deepeyes_decision', 'prompt_text ='];
  let text = t.template(ERQA_UTILS, at).render({ question });
  if (hint)
    text += t.template(ERQA_UTILS, [...at, 'if focus_hint:', 'prompt_text +=']).render({ focus_hint: hint });
  text += t.template(ERQA_UTILS, [...at, 'if focus_hint:', 'prompt_text +=', 'prompt_text +=']).render({});
  return text;
}

/** `collect_focus_crops`: DeepEyes on the first `max` images; the crops it asked for. */
async function focusCrops(inp: ReleaseInputs, hint: string, max: number): Promise<string[]> {
  const t = inp.env.texts;
  const crops = inp.imageUrls.map(() => '');
  const ep = need(inp.env.services.zoom, 'zoom');
  const system = t.constant(ERQA_UTILS, 'DEEPEYES_SYSTEM_PROMPT');
  for (let i = 0; i < Math.min(max, inp.imageUrls.length); i++) {
    const content: ContentPart[] = [
      { type: 'image_url', image_url: { url: inp.imageUrls[i]! } },
      { type: 'text', text: focusPrompt(t, inp.question, hint) },
    ];
    const { text } = await deepeyesDecision(inp.env.wire, ep, system, content);
    if (!text.includes('<tool_call>')) continue;
    const box = toolCallBox(text);
    const crop = box ? await pilCropDataUrl(inp.images[i]!, box) : null;
    if (crop) crops[i] = crop;
  }
  return crops;
}

/** What a solver file configures. */
function solverConfig(t: ReleaseTexts, file: string) {
  const flag = (name: string) => t.keyword(file, name) === 'True';
  return {
    system: t.constant(file, 'DEFAULT_SYSTEM_PROMPT'),
    intro: t.literal(file, ['task_intro=']),
    hint: t.literal(file, ['focus_hint=']),
    requirements: t.list(file, ['requirements=']),
    maxCrops: Number(t.keyword(file, 'max_crop_images')),
    useOcr: flag('use_ocr'),
    useCaption: flag('use_caption'),
    useDetection: flag('use_detection'),
    boxImages: flag('include_box_images'),
  };
}

/** `_build_prompt_text`. */
function promptText(
  t: ReleaseTexts,
  cfg: ReturnType<typeof solverConfig>,
  question: string,
  ev: { ocr: string; caption: string; detection: string },
): string {
  const at = ['def _build_prompt_text'];
  const head = t.template(UTILS, [...at, 'prompt_parts =']);
  const parts = [head.render({ 'self.task_intro': cfg.intro, 'self.question': question })];
  const part = (flag: string, value: string) => {
    const tpl = t.template(UTILS, [...at, `if self.${flag}:`, 'prompt_parts.append']);
    parts.push(tpl.render(orFields(tpl.fields(), value)));
  };
  if (cfg.useOcr) part('use_ocr', ev.ocr);
  if (cfg.useCaption) part('use_caption', ev.caption);
  if (cfg.useDetection) part('use_detection', ev.detection);
  const reqHead = t.literal(UTILS, [
    ...at,
    'if self.use_detection:',
    'prompt_parts.append',
    'prompt_parts.append',
  ]);
  const bullet = t.template(UTILS, [...at, '.join(']);
  parts.push(`${reqHead}${cfg.requirements.map((item) => bullet.render({ item })).join('\n')}\n`);
  return parts.join('\n');
}

/** One OCRBench solver; `routerSystem` replaces its system prompt when the router built it. */
async function buildSolver(
  inp: ReleaseInputs,
  file: string,
  routerSystem?: string,
): Promise<ReleaseInstance> {
  const t = inp.env.texts;
  const { wire, caches, services } = inp.env;
  const run: ServiceRun = { texts: t, wire, caches, imagesBase64: inp.imagesBase64 };
  const cfg = solverConfig(t, file);
  const ocr = await ocrResults(run, need(services.ocr, 'ocr'));
  const caption = await captionResults(run, services.caption);
  const detectionEp = need(services.detection, 'detection');
  const detection = await detectionResults(run, detectionEp);
  const boxes: string[] = [];
  for (let i = 0; i < inp.images.length; i++) {
    boxes.push(await boxImageDataUrl(inp.images[i]!, await detectObjects(run, detectionEp, i)));
  }
  return {
    generate: async () => {
      if (inp.imageUrls.length === 0) return null;
      const crops = cfg.hint ? await focusCrops(inp, cfg.hint, cfg.maxCrops) : inp.imageUrls.map(() => '');
      const content: ContentPart[] = [];
      inp.imageUrls.forEach((url, i) => {
        const extras = [cfg.boxImages ? boxes[i] : '', crops[i]];
        for (const u of [url, ...extras]) if (u) content.push({ type: 'image_url', image_url: { url: u } });
      });
      content.push({ type: 'text', text: promptText(t, cfg, inp.question, { ocr, caption, detection }) });
      const system = routerSystem || cfg.system;
      const messages: Message[] = system
        ? [
            { role: 'system', content: system },
            { role: 'user', content },
          ]
        : [{ role: 'user', content }];
      const out = await wire.create(inp.env.expert, messages, { ...EXPERT_PARAMS }, EXPERT_TIMEOUT_MS);
      return out.hasChoices ? { ...out, content: removeThink(out.content) } : out;
    },
  };
}

const SOLVERS = {
  text_recognition: 'OCRBench_Text_Recognition_Skill',
  key_information_extraction: 'OCRBench_Key_Information_Extraction_Skill',
  scene_text_qa: 'OCRBench_Scene_Text_QA_Skill',
  document_chart_qa: 'OCRBench_Document_Chart_QA_Skill',
  formula_recognition: 'OCRBench_Formula_Recognition_Skill',
} as const;
type Route = keyof typeof SOLVERS;

/** `_classify_question_type`: keyword scores, the release's bonuses, ties by priority. */
export function ocrbenchRoute(t: ReleaseTexts, question: string): Route {
  const q = question.trim().toLowerCase().replace(/\s+/g, ' ');
  const keywords = t.listDict(ROUTER, 'ROUTE_KEYWORDS');
  const priority = t.listConstant(ROUTER, 'ROUTE_PRIORITY') as Route[];
  const scores = Object.fromEntries(Object.keys(SOLVERS).map((r) => [r, 0])) as Record<Route, number>;
  for (const [route, words] of Object.entries(keywords)) {
    scores[route as Route] += words.filter((w) => q.includes(w)).length;
  }
  const at = ['def _classify_question_type', '_count_matches(question, keywords)'];
  const [latex, formula, , written, number] = t.literals(ROUTER, at, 5).map((x) => x.render({}));
  if (q.includes(latex!) || q.includes(formula!)) scores.formula_recognition += 3;
  if (q.includes(written!) || q.includes(number!)) scores.text_recognition += 3;
  const anyOf = (n: number) => {
    const anchors = [...at, ...Array(n).fill('if any('), 'for token in'];
    return t.list(ROUTER, anchors).some((tok) => q.includes(tok));
  };
  if (anyOf(1)) scores.key_information_extraction += 3;
  if (anyOf(2)) scores.document_chart_qa += 2;
  if (anyOf(3)) scores.scene_text_qa += 2;
  if (Object.values(scores).every((s) => s === 0)) return 'scene_text_qa';
  let best: Route = 'scene_text_qa';
  let bestScore = -1;
  for (const route of priority) {
    if (scores[route] > bestScore) {
      best = route;
      bestScore = scores[route];
    }
  }
  return best;
}

function solverCode(name: string): ReleaseSkillCode {
  const file = `skills/${name}.py`;
  return {
    name,
    aliases: [name.toLowerCase(), name.toLowerCase().replaceAll('_', '-')],
    file,
    services: ['ocr', 'caption', 'detection', 'zoom'],
    build: (inp) => buildSolver(inp, file),
  };
}

export const ocrbenchSolvers: ReleaseSkillCode[] = Object.values(SOLVERS).map(solverCode);

export const ocrbenchRouterRelease: ReleaseSkillCode = {
  name: 'OCRBench_Master_Router_Skill',
  aliases: [
    'ocr_problem_solver',
    'ocr-problem-solver',
    'OCR_Problem_Solver',
    'ocrbench_master_router_skill',
    'ocrbench-master-router-skill',
  ],
  file: ROUTER,
  services: ['ocr', 'caption', 'detection', 'zoom'],
  async build(inp) {
    const t = inp.env.texts;
    return {
      generate: async () => {
        if (inp.imageUrls.length === 0) return null;
        const route = ocrbenchRoute(t, inp.question);
        // The solver is built (its service calls made) inside the router's generate.
        const solver = await buildSolver(
          inp,
          `skills/${SOLVERS[route]}.py`,
          t.constant(ROUTER, 'DEFAULT_SYSTEM_PROMPT'),
        );
        return solver.generate();
      },
    };
  },
};
