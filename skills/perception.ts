import { ANSWER_RULE, compose, taskText, zoomIn } from './evidence.ts';
import type { SkillImplementation } from './types.ts';

const SYSTEM =
  'You answer questions about fine details of large images: colours, attributes, small objects, text ' +
  'on signs, relative positions. The first image is the whole scene; when a second image is given it is ' +
  'an enlarged view of the region that matters. Use the zoomed view for the detail and the whole image ' +
  `for context and positions. ${ANSWER_RULE}`;

/** Perception_Problem_Solver: a zoom decision, a crop of that region, then an answer from both views. */
export const perceptionSkill: SkillImplementation = {
  id: 'perception',
  name: 'Perception_Problem_Solver',
  level: 1,
  description: 'fine details in large images (colour, attributes, small objects); zooms on the region',
  services: [{ role: 'zoom' }],
  async run(ctx) {
    const zoomed = await zoomIn(ctx);
    const images = await ctx.expertImages();
    if (zoomed.view) images.push(zoomed.view.url);
    const answer = await ctx.ask({
      system: SYSTEM,
      text: taskText(ctx),
      images,
      note: zoomed.view ? 'answer from global and zoomed view' : 'answer from the global view',
    });
    const [x1, y1, x2, y2] = zoomed.view?.box.map((v) => Math.round(v)) ?? [];
    return {
      text: compose({
        header: zoomed.view
          ? `[Perception_Problem_Solver] zoomed on [${x1}, ${y1}, ${x2}, ${y2}].`
          : '[Perception_Problem_Solver] answered from the whole image.',
        notes: zoomed.view ? [] : [zoomed.reason],
        body: answer.text,
      }),
    };
  },
};
