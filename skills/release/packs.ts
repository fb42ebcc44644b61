/**
 * The release's out-of-domain packs built on a shared solver base: OCRBench
 * (skills/ocrbench_skill_utils.py) and VLMsAreBlind (skills/vlmsareblind_skill_utils.py),
 * five solvers each and a keyword router that picks one with no model call.
 *
 * A solver asks its services per image (OCRBench: OCR, caption and detection always, and
 * draws the boxed images; VLMsAreBlind: only those its flags name), then DeepEyes may crop
 * the first image around the solver's focus hint, then one expert call with the system
 * prompt (the router's when routed, else the solver's own).
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

/** What differs between the two packs' base classes. */
interface Pack {
  utils: string;
  /** Services only when the solver's flags ask (VLMsAreBlind); always (OCRBench). */
  gated: boolean;
  /** Evidence blocks in prompt order. */
  order: Array<'ocr' | 'caption' | 'detection'>;
}

const OCRBENCH: Pack = {
  utils: 'skills/ocrbench_skill_utils.py',
  gated: false,
  order: ['ocr', 'caption', 'detection'],
};
const VLMSAREBLIND: Pack = {
  utils: 'skills/vlmsareblind_skill_utils.py',
  gated: true,
  order: ['caption', 'ocr', 'detection'],
};

const ERQA_UTILS = 'skills/erqa_solver_utils.py';
const DETECTION = 'skills/detection_service.py';

/** The value of an f-string field `name or 'fallback'`. */
export function orValue(expr: string, value: string): string {
  if (value) return value;
  const m = /\bor\s+(['"])(.*)\1\s*$/.exec(expr);
  return m ? m[2]! : '';
}

/** Fills every field of the form `x or '…'` with `value`. */
export function orFields(fields: string[], value: string): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f, orValue(f, value)]));
}

export function need(ep: Endpoint | undefined, role: string): Endpoint {
  if (!ep) throw new PermanentError(`release skills: the registry has no service with role ${role}`);
  return ep;
}

/** `format_detection_results_for_images`. */
export async function detectionResults(run: ServiceRun, ep: Endpoint): Promise<string> {
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
export async function focusCrops(inp: ReleaseInputs, hint: string, max: number): Promise<string[]> {
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

/** What a solver file configures (a keyword it leaves out takes the base's default). */
function solverConfig(t: ReleaseTexts, pack: Pack, file: string) {
  const kw = (name: string) => {
    try {
      return t.keyword(file, name);
    } catch {
      return t.keyword(pack.utils, name);
    }
  };
  const hasHint = /\bfocus_hint\s*=/.test(t.source(file).text);
  return {
    system: t.constant(file, 'DEFAULT_SYSTEM_PROMPT'),
    intro: t.literal(file, ['task_intro=']),
    hint: hasHint ? t.literal(file, ['focus_hint=']) : '',
    requirements: t.list(file, ['requirements=']),
    maxCrops: Number(kw('max_crop_images')),
    useOcr: kw('use_ocr') === 'True',
    useCaption: kw('use_caption') === 'True',
    useDetection: kw('use_detection') === 'True',
    boxImages: kw('include_box_images') === 'True',
  };
}

/** `_build_prompt_text`. */
function promptText(
  t: ReleaseTexts,
  pack: Pack,
  cfg: ReturnType<typeof solverConfig>,
  question: string,
  ev: { ocr: string; caption: string; detection: string },
): string {
  const at = ['def _build_prompt_text'];
  const head = t.template(pack.utils, [...at, 'prompt_parts =']);
  const parts = [head.render({ 'self.task_intro': cfg.intro, 'self.question': question })];
  const used = { ocr: cfg.useOcr, caption: cfg.useCaption, detection: cfg.useDetection };
  for (const kind of pack.order) {
    if (!used[kind]) continue;
    const tpl = t.template(pack.utils, [...at, `if self.use_${kind}:`, 'prompt_parts.append']);
    parts.push(tpl.render(orFields(tpl.fields(), ev[kind])));
  }
  const last = pack.order[pack.order.length - 1]!;
  const reqHead = t.literal(pack.utils, [
    ...at,
    `if self.use_${last}:`,
    'prompt_parts.append',
    'prompt_parts.append',
  ]);
  const bullet = t.template(pack.utils, [...at, '.join(']);
  parts.push(`${reqHead}${cfg.requirements.map((item) => bullet.render({ item })).join('\n')}\n`);
  return parts.join('\n');
}

/** One OCRBench solver; `routerSystem` replaces its system prompt when the router built it. */
async function buildSolver(
  inp: ReleaseInputs,
  pack: Pack,
  file: string,
  routerSystem?: string,
): Promise<ReleaseInstance> {
  const t = inp.env.texts;
  const { wire, caches, services } = inp.env;
  const run: ServiceRun = { texts: t, wire, caches, imagesBase64: inp.imagesBase64 };
  const cfg = solverConfig(t, pack, file);
  const on = (flag: boolean) => !pack.gated || flag;
  const ocr = on(cfg.useOcr) ? await ocrResults(run, need(services.ocr, 'ocr')) : '';
  const caption = on(cfg.useCaption) ? await captionResults(run, services.caption) : '';
  const detection = on(cfg.useDetection)
    ? await detectionResults(run, need(services.detection, 'detection'))
    : '';
  const boxes: string[] = [];
  if (on(cfg.boxImages)) {
    const detectionEp = need(services.detection, 'detection');
    for (let i = 0; i < inp.images.length; i++) {
      boxes.push(await boxImageDataUrl(inp.images[i]!, await detectObjects(run, detectionEp, i)));
    }
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
      content.push({
        type: 'text',
        text: promptText(t, pack, cfg, inp.question, { ocr, caption, detection }),
      });
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

/**
 * A pack router's `_classify_question_type`, read from its file: keyword counts from
 * ROUTE_KEYWORDS, the bonus rules (`if "a" in question or "b" in question` and
 * `if any(token in question for token in [...])`), the all-zero default, then the highest
 * score in ROUTE_PRIORITY order (first wins a tie).
 */
export function keywordRoute(t: ReleaseTexts, file: string, question: string, imageCount = 1): string {
  const q = question.trim().toLowerCase().replace(/\s+/g, ' ');
  const keywords = t.listDict(file, 'ROUTE_KEYWORDS');
  const priority = t.listConstant(file, 'ROUTE_PRIORITY');
  const src = t.source(file);
  const body = src.text.slice(src.after('def _classify_question_type'));
  const scores: Record<string, number> = Object.fromEntries(priority.map((r) => [r, 0]));
  for (const [route, words] of Object.entries(keywords)) {
    scores[route] = (scores[route] ?? 0) + words.filter((w) => q.includes(w)).length;
  }
  const bonus = /\bif ((?:"[^"\n]*" in question(?: or )?)+):\s*\n\s*scores\["(\w+)"\] \+= (\d+)/g;
  for (const m of body.matchAll(bonus)) {
    const phrases = [...m[1]!.matchAll(/"([^"\n]*)" in question/g)].map((x) => x[1]!);
    if (phrases.some((p) => q.includes(p))) scores[m[2]!] = (scores[m[2]!] ?? 0) + Number(m[3]);
  }
  const anyRule = /\bif any\(\s*token in question\s*for token in (?=\[)/g;
  for (const m of body.matchAll(anyRule)) {
    const list = src.stringList(src.text.length - body.length + m.index + m[0].length);
    const rest = src.text.slice(list.end);
    const target = /^\s*\):\s*\n\s*scores\["(\w+)"\] \+= (\d+)/.exec(rest);
    if (!target) throw new Error(`${file}: unexpected any() rule`);
    if (list.items.some((tok) => q.includes(tok)))
      scores[target[1]!] = (scores[target[1]!] ?? 0) + Number(target[2]);
  }
  const byCount = /\bif image_count >= (\d+):\s*\n\s*scores\["(\w+)"\] \+= (\d+)/g;
  for (const m of body.matchAll(byCount)) {
    if (imageCount >= Number(m[1])) scores[m[2]!] = (scores[m[2]!] ?? 0) + Number(m[3]);
  }
  const fallback = /if all\(score == 0[^\n]*\n\s*return "(\w+)"/.exec(body)?.[1];
  if (!fallback) throw new Error(`${file}: no default route`);
  if (Object.values(scores).every((s) => s === 0)) return fallback;
  let best = fallback;
  let bestScore = -1;
  for (const route of priority) {
    if ((scores[route] ?? 0) > bestScore) {
      best = route;
      bestScore = scores[route] ?? 0;
    }
  }
  return best;
}

/** The solver class a router's ROUTE_TO_SOLVER names for a route, as its file name. */
function routeSolverFile(t: ReleaseTexts, file: string, route: string): string {
  const src = t.source(file);
  const table = src.text.slice(src.after('ROUTE_TO_SOLVER = {'));
  const m = new RegExp(`"${route}":\\s*\\(?\\s*(\\w+)`).exec(table);
  if (!m) throw new Error(`${file}: no solver for route ${route}`);
  return `skills/${m[1]}.py`;
}

function solverCode(pack: Pack, name: string, aliases: string[]): ReleaseSkillCode {
  const file = `skills/${name}.py`;
  const lower = (n: string) => [n.toLowerCase(), n.toLowerCase().replaceAll('_', '-')];
  return {
    name,
    aliases: [...lower(name), ...aliases.flatMap((a) => [a, ...lower(a)])],
    file,
    services: ['ocr', 'caption', 'detection', 'zoom'],
    build: (inp) => buildSolver(inp, pack, file),
  };
}

/** Builds the solver in `file` with the router's system prompt. */
type SolverBuilder = (inp: ReleaseInputs, file: string, system: string) => Promise<ReleaseInstance>;

/** A keyword router: no model call; builds the chosen solver inside its own generate. */
export function routerCode(name: string, aliases: string[], build: SolverBuilder): ReleaseSkillCode {
  const file = `skills/${name}.py`;
  return {
    name,
    aliases,
    file,
    services: ['ocr', 'caption', 'detection', 'zoom'],
    async build(inp) {
      const t = inp.env.texts;
      return {
        generate: async () => {
          if (inp.imageUrls.length === 0) return null;
          const route = keywordRoute(t, file, inp.question, inp.imageUrls.length);
          const solver = await build(
            inp,
            routeSolverFile(t, file, route),
            t.constant(file, 'DEFAULT_SYSTEM_PROMPT'),
          );
          return solver.generate();
        },
      };
    },
  };
}

export const ocrbenchSolvers: ReleaseSkillCode[] = [
  'OCRBench_Text_Recognition_Skill',
  'OCRBench_Key_Information_Extraction_Skill',
  'OCRBench_Scene_Text_QA_Skill',
  'OCRBench_Document_Chart_QA_Skill',
  'OCRBench_Formula_Recognition_Skill',
].map((n) => solverCode(OCRBENCH, n, []));

export const ocrbenchRouterRelease = routerCode(
  'OCRBench_Master_Router_Skill',
  [
    'ocr_problem_solver',
    'ocr-problem-solver',
    'OCR_Problem_Solver',
    'ocrbench_master_router_skill',
    'ocrbench-master-router-skill',
  ],
  (inp, file, system) => buildSolver(inp, OCRBENCH, file, system),
);

export const vlmsareblindSolvers: ReleaseSkillCode[] = [
  ['VLMsAreBlind_Circle_Contact_Overlap_Judge_Skill', 'Circle_Contact_and_Overlap_Judge_Skill'],
  ['VLMsAreBlind_Intersection_Route_Counting_Skill', 'Intersection_and_Route_Counting_Skill'],
  ['VLMsAreBlind_Grid_Structure_Parsing_Skill', 'Grid_Structure_Parsing_Skill'],
  ['VLMsAreBlind_Highlighted_Character_Recognition_Skill', 'Highlighted_Character_Recognition_Skill'],
  ['VLMsAreBlind_Geometric_Shape_Counting_Skill', 'Geometric_Shape_Counting_Skill'],
].map(([n, alias]) => solverCode(VLMSAREBLIND, n!, [alias!]));

export const vlmsareblindRouterRelease = routerCode(
  'VLMsAreBlind_Master_Router_Skill',
  [
    'Diagram_Reasoning_Skill',
    'diagram_reasoning_skill',
    'diagram-reasoning-skill',
    'Diagram_Reasoning_Router_Skill',
    'diagram_reasoning_router_skill',
    'diagram-reasoning-router-skill',
    'vlmsareblind_master_router_skill',
    'vlmsareblind-master-router-skill',
    'vlmsareblind_problem_solver',
    'vlmsareblind-problem-solver',
  ],
  (inp, file, system) => buildSolver(inp, VLMSAREBLIND, file, system),
);
