import {
  ANSWER_RULE,
  clip,
  compose,
  describe,
  okText,
  readText,
  taskText,
  unavailable,
  zoomIn,
} from './evidence.ts';
import type { SkillImplementation } from './types.ts';

const SYSTEM =
  'You are a scientist answering a question about a scientific image (biology, microscopy, earth ' +
  'science, physics, chemistry, medicine). You see the whole image first and, when given, a zoomed view ' +
  'of the region that matters. Combine the global context (description, labels, legend) with the local ' +
  `detail, reason from domain knowledge, and compare the options. ${ANSWER_RULE}`;

/**
 * Science_Problem_Solver: a zoom decision and crop, a caption and OCR (in parallel), then
 * one answer from the global and the local evidence.
 */
export const scienceSkill: SkillImplementation = {
  id: 'science',
  name: 'Science_Problem_Solver',
  level: 1,
  description:
    'science images (biology, earth science, physics, chemistry, microscopy, medical); zooms on evidence',
  services: [{ role: 'zoom' }, { role: 'caption' }, { role: 'ocr' }],
  async run(ctx) {
    const [zoomed, caption, ocr] = await Promise.all([zoomIn(ctx), describe(ctx), readText(ctx)]);
    const notes: string[] = [];
    if (!zoomed.view && zoomed.reason) notes.push(zoomed.reason);
    if (caption && !caption.ok) notes.push(unavailable('caption', caption));
    if (ocr && !ocr.ok) notes.push(unavailable('ocr', ocr));
    const images = await ctx.expertImages();
    if (zoomed.view) images.push(zoomed.view.url);
    const evidence = [
      okText(caption) ? `Description: ${clip(okText(caption) ?? '', 600)}` : '',
      okText(ocr) ? `Text in the image: ${clip(okText(ocr) ?? '', 600)}` : '',
      zoomed.view ? 'The last image is a zoomed view of the region that matters.' : '',
    ]
      .filter(Boolean)
      .join('\n');
    const answer = await ctx.ask({
      system: SYSTEM,
      text: `${evidence ? `${evidence}\n\n` : ''}${taskText(ctx)}`,
      images,
      note: 'answer from global and zoomed evidence',
    });
    return {
      text: compose({
        header: `[Science_Problem_Solver] ${zoomed.view ? 'zoomed on a region; ' : ''}caption and text read.`,
        notes,
        body: answer.text,
      }),
    };
  },
};
