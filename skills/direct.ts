import type { SkillImplementation } from './types.ts';
import { questionWithOptions } from './types.ts';

/** The reserved skill name used by `direct:` baselines: the expert answers the item alone. */
export const DIRECT_SKILL = 'direct';

/** Asks the expert the item's own question (with options) at its direct temperature. */
export const directSkill: SkillImplementation = {
  id: DIRECT_SKILL,
  name: DIRECT_SKILL,
  level: 1,
  description: 'the expert answers the question directly, no tools',
  services: [],
  async run(ctx) {
    const res = await ctx.ask({
      system:
        'Answer the question about the image(s). Think briefly, then end with "The answer is X." where X is short (a letter, a number or a few words).',
      text: questionWithOptions(ctx.item),
      temperature: ctx.expert.directTemperature,
      note: 'direct answer',
    });
    return { text: res.text };
  },
};
