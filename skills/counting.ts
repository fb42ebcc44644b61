import { drawBoxes } from '../src/data/image-tools.ts';
import {
  ANSWER_RULE,
  clip,
  compose,
  countTarget,
  detect,
  statedAnswer,
  taskText,
  unavailable,
  zoomIn,
} from './evidence.ts';
import type { SkillImplementation } from './types.ts';

const COUNT =
  'You count objects in images. When an image with numbered red boxes is given, the boxes are a ' +
  "detector's proposals: check each one (a box may be wrong, doubled, or miss an object) and count the " +
  `objects the question asks about, not the boxes. ${ANSWER_RULE} X is a whole number.`;

const VERIFY =
  "Verify an object count. Go over the image region by region, compare with the detector's boxes and " +
  'the first count, and settle on the number of objects the question asks about. ' +
  `${ANSWER_RULE} X is a whole number.`;

/**
 * Counting_Problem_Solver: detection boxes drawn (numbered) on the image and a zoomed
 * crop, a count by the expert from those views, then a verification of the count. Without
 * detection it counts from the plain image and says so.
 */
export const countingSkill: SkillImplementation = {
  id: 'counting',
  name: 'Counting_Problem_Solver',
  level: 1,
  description: 'how many objects; detects and boxes them, counts, verifies the count',
  services: [{ role: 'detection' }, { role: 'zoom' }],
  async run(ctx) {
    const target = countTarget(ctx.item.question);
    const [detected, zoomed] = await Promise.all([detect(ctx, target), zoomIn(ctx)]);
    const notes: string[] = [];
    const images = await ctx.expertImages();
    let detectorLine = '';
    const ref = ctx.images[0];
    if (detected.boxes && ref) {
      const bytes = await ctx.tools.store.readImage(ref);
      const drawn = await drawBoxes(
        bytes,
        detected.boxes.map((box, i) => ({ box, label: i + 1 })),
        { space: 'pixel' },
      );
      images.push(await ctx.expertImage(drawn.bytes));
      detectorLine = `A detector proposed ${detected.boxes.length} box(es) for "${target}", numbered on the second image.`;
    } else if (detected.result && !detected.result.ok) {
      notes.push(`detection failed (${clip(detected.result.error, 80)}); counted without boxes`);
    }
    if (zoomed.view) images.push(zoomed.view.url);
    else if (zoomed.reason && zoomed.result && !zoomed.result.ok)
      notes.push(unavailable('zoom', zoomed.result));

    const views = [
      detectorLine,
      zoomed.view ? 'The last image is an enlarged view of the densest region.' : '',
    ]
      .filter(Boolean)
      .join('\n');
    const task = taskText(ctx);
    const first = await ctx.ask({
      system: COUNT,
      text: `${views ? `${views}\n\n` : ''}${task}`,
      images,
      note: 'count',
    });
    let final = first.text;
    if (ctx.callsLeft() > 0) {
      const verified = await ctx.ask({
        system: VERIFY,
        text:
          `${views ? `${views}\n` : ''}First count: ${statedAnswer(first.text) ?? 'unclear'}.` +
          `${detected.boxes ? ` Detector boxes: ${detected.boxes.length}.` : ''}\n\n${task}`,
        images,
        note: 'verify count',
      });
      if (statedAnswer(verified.text)) final = verified.text;
    } else {
      notes.push('verification skipped: call budget used up');
    }
    const header = detected.boxes
      ? `[Counting_Problem_Solver] detector boxes: ${detected.boxes.length}; counted and verified.`
      : '[Counting_Problem_Solver] counted and verified without detector boxes.';
    return { text: compose({ header, notes, body: final }) };
  },
};
