/**
 * The release's in-domain Level-1 skills and its `none` and `zoom` skills, call for call.
 * Every prompt text is read from the release checkout (the files named in `file`).
 */
import { MaestroError, PermanentError } from '../../src/core/errors.ts';
import { deepeyesDecision, toolCallBox } from './deepeyes.ts';
import { pilCropDataUrl } from './images.ts';
import { pyStr, removeThink } from './pytext.ts';
import type { ReleaseInputs, ReleaseInstance, ReleaseSkillCode } from './run.ts';
import { callExpert, userMessage } from './run.ts';
import { captionResults, ocrResults, type ServiceRun } from './services.ts';
import type { Completion } from './wire.ts';

function serviceRun(inp: ReleaseInputs): ServiceRun {
  const { texts, wire, caches } = inp.env;
  return { texts, wire, caches, imagesBase64: inp.imagesBase64 };
}

function needOcr(inp: ReleaseInputs) {
  const ep = inp.env.services.ocr;
  if (!ep) throw new PermanentError('release skills: the registry has no service with role ocr');
  return ep;
}

/** `_extract_content`: the content, or "" without choices. */
const contentOf = (c: Completion): string | null => (c.hasChoices ? c.content : '');

/** The text a step hands the next prompt (think removed; None shows as "None"). */
const stepText = (c: Completion): string => pyStr(removeThink(contentOf(c)));

/** A `generate` that turns a thrown error into "no completion", as the release's try/except does. */
function guarded(body: () => Promise<Completion | null>): ReleaseInstance {
  return {
    generate: async () => {
      try {
        return await body();
      } catch (err) {
        if (err instanceof MaestroError) throw err; // configuration, not the skill's failure
        return null;
      }
    },
  };
}

/** The "no result" fallbacks of a prompt builder. */
function fallbacks(inp: ReleaseInputs, file: string, builder: string) {
  const t = inp.env.texts;
  const cond = (v: string) => [builder, `${v}_text = self.${v}_results_text if self.${v}_results_text else`];
  return {
    caption: () => t.literal(file, cond('caption')),
    ocr: () => t.literal(file, cond('ocr')),
  };
}

const GEO = 'skills/Geometric_Problem_Solver.py';

export const geometricRelease: ReleaseSkillCode = {
  name: 'Geometric_Problem_Solver',
  aliases: ['geometric_problem_solver', 'geometric-problem-solver'],
  file: GEO,
  services: ['caption', 'ocr'],
  async build(inp) {
    const t = inp.env.texts;
    const caption = await captionResults(serviceRun(inp), inp.env.services.caption);
    const ocr = await ocrResults(serviceRun(inp), needOcr(inp));
    const fb = fallbacks(inp, GEO, 'def _build_step4_prompt');
    const values: Record<string, string> = {
      'self.question': inp.question,
      caption_text: caption || fb.caption(),
      ocr_text: ocr || fb.ocr(),
    };
    for (const c of ['EXTRACTION_PROMPT', 'STEP4_PROMPT', 'STEP5_PROMPT', 'STEP6_PROMPT']) {
      values[c] = t.constant(GEO, c);
    }
    const prompt = (step: number) =>
      t.template(GEO, [`def _build_step${step}_prompt`, 'return']).render(values);
    const ask = (text: string) => callExpert(inp.env, [userMessage(inp.imageUrls, text)]);
    return guarded(async () => {
      values.step1_response = stepText(await ask(prompt(1)));
      values.step4_response = stepText(await ask(prompt(4)));
      values.step5_response = stepText(await ask(prompt(5)));
      return ask(prompt(6));
    });
  },
};

const CHART = 'skills/Chart_Problem_Solver.py';

/** `_normalize_chart_type`. */
function chartType(response: string): string {
  const s = response.toLowerCase();
  if (s.includes('pie')) return 'pie chart';
  if (s.includes('line')) return 'line chart';
  return 'bar chart';
}

export const chartRelease: ReleaseSkillCode = {
  name: 'Chart_Problem_Solver',
  aliases: ['chart_problem_solver', 'chart-problem-solver'],
  file: CHART,
  services: ['ocr'],
  async build(inp) {
    const t = inp.env.texts;
    const ocr = await ocrResults(serviceRun(inp), needOcr(inp));
    const values: Record<string, string> = {
      'self.question': inp.question,
      ocr_text: ocr || fallbacks(inp, CHART, 'def _build_step2_prompt').ocr(),
      GENERAL_CHART_INSTRUCTIONS: t.constant(CHART, 'GENERAL_CHART_INSTRUCTIONS'),
    };
    const specific: Record<string, string> = {
      'line chart': 'LINE_CHART_INSTRUCTIONS',
      'pie chart': 'PIE_CHART_INSTRUCTIONS',
      'bar chart': 'BAR_CHART_INSTRUCTIONS',
    };
    const prompt = (step: number) =>
      t.template(CHART, [`def _build_step${step}_prompt`, 'return']).render(values);
    const ask = (text: string) => callExpert(inp.env, [userMessage(inp.imageUrls, text)]);
    return guarded(async () => {
      const response = removeThink(contentOf(await ask(prompt(2))));
      if (response === null) return null; // the release's .lower() on None raises
      values.chart_type = chartType(response);
      values.chart_specific_instructions = t.constant(CHART, specific[values.chart_type]!);
      return ask(prompt(3));
    });
  },
};

/** DeepEyes, then the crop of the first image where it asked for one (null otherwise). */
async function zoomCrop(
  inp: ReleaseInputs,
  system: string,
  userText: string,
): Promise<{ decision: string; crop: string | null }> {
  const ep = inp.env.services.zoom;
  if (!ep) throw new PermanentError('release skills: the registry has no service with role zoom (DeepEyes)');
  const main = inp.imageUrls[0]!;
  const { text } = await deepeyesDecision(inp.env.wire, ep, system, [
    { type: 'image_url', image_url: { url: main } },
    { type: 'text', text: userText },
  ]);
  if (!text.includes('<tool_call>')) return { decision: text, crop: null };
  const box = toolCallBox(text);
  const crop = box ? await pilCropDataUrl(inp.images[0]!, box) : null;
  return { decision: text, crop };
}

const SCI = 'skills/Science_Problem_Solver.py';

export const scienceRelease: ReleaseSkillCode = {
  name: 'Science_Problem_Solver',
  aliases: ['science_problem_solver', 'science-problem-solver'],
  file: SCI,
  services: ['caption', 'ocr', 'zoom'],
  async build(inp) {
    const t = inp.env.texts;
    const caption = await captionResults(serviceRun(inp), inp.env.services.caption);
    const ocr = await ocrResults(serviceRun(inp), needOcr(inp));
    const fb = fallbacks(inp, SCI, 'def _build_final_prompt');
    return guarded(async () => {
      if (inp.imageUrls.length === 0) return null;
      const userText = t.template(SCI, ['def _get_deepeyes_decision', 'user_prompt =']);
      const { crop } = await zoomCrop(
        inp,
        t.constant(SCI, 'DEEPEYES_SYSTEM_PROMPT'),
        userText.render({ 'self.question': inp.question }),
      );
      const [withCrop, withoutCrop] = t.literals(SCI, ['def _build_final_prompt', 'crop_text = ('], 2);
      const text = t.template(SCI, ['def _build_final_prompt', 'return']).render({
        FINAL_SCIENCE_PROMPT: t.constant(SCI, 'FINAL_SCIENCE_PROMPT'),
        'self.question': inp.question,
        caption_text: caption || fb.caption(),
        ocr_text: ocr || fb.ocr(),
        crop_text: (crop ? withCrop! : withoutCrop!).render({}),
      });
      const images = crop ? [...inp.imageUrls, crop] : inp.imageUrls;
      const out = await callExpert(inp.env, [userMessage(images, text)]);
      // `_clean_output_content`: the final answer loses its think block.
      return out.hasChoices ? { ...out, content: removeThink(out.content) } : out;
    });
  },
};

/** Perception and zoom: DeepEyes, then the expert with the release's observation system prompt. */
function perceptionLike(file: string, deepeyesUser: string): ReleaseSkillCode['build'] {
  return async (inp) => {
    const t = inp.env.texts;
    return {
      generate: async () => {
        if (inp.imageUrls.length === 0) return null;
        const system = t.literal(file, ['def _get_deepeyes_decision', 'instruction_prompt_system =']);
        const user = t.template(file, ['def _get_deepeyes_decision', deepeyesUser]);
        const { decision, crop } = await zoomCrop(
          inp,
          system,
          user.render({ 'self.question': inp.question }),
        );
        const main = inp.imageUrls[0]!;
        let images = [main];
        let text = inp.question;
        if (decision.includes('<tool_call>')) {
          images = crop ? [main, crop] : [main];
          text = t
            .template(file, ['def generate', 'prompt_text ='])
            .render({ 'self.question': inp.question });
        }
        const systemContent = t.literal(file, ['def generate', 'system_content =']);
        try {
          return await inp.env.wire.create(
            inp.env.expert,
            [{ role: 'system', content: systemContent }, userMessage(images, text)],
            { temperature: 0.2, top_p: 1.0 },
            900_000,
          );
        } catch (err) {
          if (err instanceof MaestroError) throw err; // the run's budget, not the skill's failure
          return null; // the release returns an error string, which has no choices
        }
      },
    };
  };
}

export const perceptionRelease: ReleaseSkillCode = {
  name: 'Perception_Problem_Solver',
  aliases: ['perception_problem_solver', 'perception-problem-solver'],
  file: 'skills/Perception_Problem_Solver.py',
  services: ['zoom'],
  build: perceptionLike('skills/Perception_Problem_Solver.py', 'user_prompt ='),
};

export const zoomRelease: ReleaseSkillCode = {
  name: 'zoom',
  aliases: [],
  file: 'skills/zoom.py',
  services: ['zoom'],
  build: perceptionLike('skills/zoom.py', 'user_prompt_v2 ='),
};

export const noneRelease: ReleaseSkillCode = {
  name: 'none',
  aliases: [],
  file: 'skills/none.py',
  services: [],
  async build(inp) {
    return guarded(() => callExpert(inp.env, [userMessage(inp.imageUrls, inp.question)]));
  },
};
