import {
  ANSWER_RULE,
  clip,
  compose,
  describe,
  okText,
  readText,
  statedAnswer,
  taskText,
  unavailable,
} from './evidence.ts';
import type { SkillImplementation } from './types.ts';

const EXTRACT =
  'You turn a mathematical or geometric figure into facts. List, one per line: the points, segments, ' +
  'angles, lengths, marked equalities, parallel or perpendicular lines, and any numbers or expressions ' +
  'written on the figure. Use the description and the text read from the figure as hints, but trust the ' +
  'image. Do not solve the problem yet.';

const REASON =
  'Solve the problem step by step from the figure facts and the image. Name the theorem or formula ' +
  `behind each step and keep numbers exact until the end. ${ANSWER_RULE}`;

const CHECK =
  'Check a proposed solution against the figure: re-read each fact it uses from the image, redo the ' +
  'arithmetic, and make sure the answer matches what the question asks (units, option letter). ' +
  `If it holds, keep the answer; otherwise correct it. ${ANSWER_RULE}`;

/**
 * Geometric_Problem_Solver: caption and OCR of the figure, a structured extraction of its
 * facts, step-by-step reasoning on them, then a self-check of the result.
 */
export const geometricSkill: SkillImplementation = {
  id: 'geometric',
  name: 'Geometric_Problem_Solver',
  level: 1,
  description: 'geometry and math figures; extracts the figure structure, reasons, then checks itself',
  services: [{ role: 'caption' }, { role: 'ocr' }],
  async run(ctx) {
    const [caption, ocr] = await Promise.all([describe(ctx), readText(ctx)]);
    const notes = [caption && unavailable('caption', caption), ocr && unavailable('ocr', ocr)].filter(
      (n): n is string => !!n,
    );
    const hints = [
      okText(caption) ? `Description of the figure: ${clip(okText(caption) ?? '', 600)}` : '',
      okText(ocr) ? `Text read from the figure: ${clip(okText(ocr) ?? '', 600)}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const task = taskText(ctx);

    const facts = await ctx.ask({
      system: EXTRACT,
      text: `${hints ? `${hints}\n\n` : ''}${task}`,
      note: 'extract figure structure',
    });
    const solved = await ctx.ask({
      system: REASON,
      text: `Figure facts:\n${clip(facts.text, 1500)}\n\n${task}`,
      note: 'reason',
    });
    let final = solved.text;
    if (ctx.callsLeft() > 0) {
      const checked = await ctx.ask({
        system: CHECK,
        text: `Figure facts:\n${clip(facts.text, 1200)}\n\nProposed solution:\n${clip(solved.text, 1500)}\n\n${task}`,
        note: 'self-check',
      });
      if (statedAnswer(checked.text)) final = checked.text;
    } else {
      notes.push('self-check skipped: call budget used up');
    }
    return {
      text: compose({
        header: '[Geometric_Problem_Solver] figure extracted, solved and checked.',
        notes,
        body: final,
      }),
    };
  },
};
