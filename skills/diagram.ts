import { crop, drawBoxes } from '../src/data/image-tools.ts';
import {
  ANSWER_RULE,
  clip,
  compose,
  detect,
  okText,
  statedAnswer,
  taskText,
  unavailable,
  zoomIn,
} from './evidence.ts';
import { defineRouter } from './router.ts';
import type { SkillImplementation } from './types.ts';

/** VLMsAreBlind pack (Diagram_Reasoning): low-level vision on simple drawn diagrams. */
export const diagramRouter = defineRouter({
  id: 'diagram-router',
  name: 'Diagram_Reasoning',
  description:
    'simple drawn diagrams: touching or overlapping circles, crossing lines, grids, circled letters, counting shapes',
  solvers: [
    'Circle_Contact_Overlap_Judge',
    'Intersection_Route_Counting',
    'Grid_Structure_Parsing',
    'Highlighted_Character_Recognition',
    'Geometric_Shape_Counting',
  ],
  fallback: 'Geometric_Shape_Counting',
  rules: [
    {
      solver: 'Circle_Contact_Overlap_Judge',
      pattern:
        /\b(circles?)\b.*\b(overlap\w*|touch\w*|intersect\w*|contact)\b|\b(overlap\w*|touch\w*)\b.*\bcircles?\b/i,
      why: 'asks whether circles touch or overlap',
    },
    {
      solver: 'Intersection_Route_Counting',
      pattern:
        /\b(intersect\w*|cross\w*|paths?|routes?|lines?)\b.*\b(how many|count|number)\b|\b(how many|count|number)\b.*\b(intersect\w*|cross\w*|paths?|routes?)\b/i,
      why: 'counts crossings or paths',
    },
    {
      solver: 'Grid_Structure_Parsing',
      pattern: /\b(grid|rows?|columns?|table)\b/i,
      why: 'asks about a grid',
    },
    {
      solver: 'Highlighted_Character_Recognition',
      pattern:
        /\b(highlighted|circled|marked|red oval|underlined)\b.*\b(letter|character|word)\b|\b(letter|character)\b.*\b(highlighted|circled|marked)\b/i,
      why: 'asks for a marked character',
    },
    {
      solver: 'Geometric_Shape_Counting',
      pattern:
        /\b(how many|count|number of)\b.*\b(shapes?|circles?|squares?|triangles?|pentagons?|stars?|rectangles?)\b/i,
      why: 'counts shapes',
    },
  ],
});

/** Circle_Contact_Overlap_Judge: zoom on where the circles meet, then judge from both views. */
export const circleContact: SkillImplementation = {
  id: 'circle-contact',
  name: 'Circle_Contact_Overlap_Judge',
  level: 2,
  description: 'whether two circles touch, overlap or are apart',
  services: [{ role: 'zoom' }],
  async run(ctx) {
    const zoomed = await zoomIn(ctx, 0, 'zoom on the closest point of the circles');
    const images = await ctx.expertImages();
    if (zoomed.view) images.push(zoomed.view.url);
    const answer = await ctx.ask({
      system:
        'Judge whether two drawn circles overlap, touch, or are separate. Look at the gap between the ' +
        'outlines where they come closest (the last image may be an enlarged view of that spot): any ' +
        `shared area means overlapping; a single shared point means touching. ${ANSWER_RULE}`,
      text: taskText(ctx),
      images,
      note: 'judge contact',
    });
    return {
      text: compose({
        header: '[Circle_Contact_Overlap_Judge] inspected the closest point.',
        notes: zoomed.view ? [] : [zoomed.reason],
        body: answer.text,
      }),
    };
  },
};

/** Intersection_Route_Counting: trace each line's path, then count crossings from the traces. */
export const intersectionCounting: SkillImplementation = {
  id: 'intersection-counting',
  name: 'Intersection_Route_Counting',
  level: 2,
  description: 'counting where lines or paths cross, or how many routes connect points',
  services: [],
  async run(ctx) {
    const trace = await ctx.ask({
      system:
        'Describe each line or path in the diagram separately by its colour: list the points it passes ' +
        'through from left to right as approximate (x, y) positions. Do not count anything yet.',
      text: taskText(ctx),
      note: 'trace the lines',
    });
    const answer = await ctx.ask({
      system:
        'Count crossings between paths: two straight segments over the same x range cross once when their ' +
        `vertical order swaps between the ends. Go segment by segment, then add up. ${ANSWER_RULE}`,
      text: `Paths traced from the image:\n${clip(trace.text, 1200)}\n\n${taskText(ctx)}`,
      note: 'count crossings',
    });
    return {
      text: compose({
        header: '[Intersection_Route_Counting] traced the paths, then counted.',
        body: answer.text,
      }),
    };
  },
};

/** Grid_Structure_Parsing: read the grid's rows and columns first, then answer about it. */
export const gridParsing: SkillImplementation = {
  id: 'grid-parsing',
  name: 'Grid_Structure_Parsing',
  level: 2,
  description: 'counting rows and columns of grids and tables, reading cells',
  services: [],
  async run(ctx) {
    const structure = await ctx.ask({
      system:
        'Parse the grid in the image: count the horizontal lines and the vertical lines, derive the ' +
        'number of rows and columns, and list the content of non-empty cells by (row, column).',
      text: taskText(ctx),
      note: 'parse grid structure',
    });
    const answer = await ctx.ask({
      system: `Answer a question about a grid from its parsed structure and the image. ${ANSWER_RULE}`,
      text: `Grid structure:\n${clip(structure.text, 1200)}\n\n${taskText(ctx)}`,
      note: 'answer about the grid',
    });
    return {
      text: compose({ header: '[Grid_Structure_Parsing] parsed rows and columns.', body: answer.text }),
    };
  },
};

/** Highlighted_Character_Recognition: find the highlight, crop it, OCR the crop, then answer. */
export const highlightedCharacter: SkillImplementation = {
  id: 'highlighted-character',
  name: 'Highlighted_Character_Recognition',
  level: 2,
  description: 'which letter or character is circled or highlighted in a word',
  services: [{ role: 'detection' }, { role: 'ocr' }],
  async run(ctx) {
    const found = await detect(ctx, 'highlighted or circled character', 0, 'detect the highlight');
    const notes: string[] = [];
    const images = await ctx.expertImages();
    let read: string | null = null;
    const first = found.boxes?.[0];
    const ref = ctx.images[0];
    if (first && ref) {
      const bytes = await ctx.tools.store.readImage(ref);
      const region = await crop(bytes, first, 'pixel');
      images.push(await ctx.expertImage(region.bytes));
      const ocr = await ctx.aux('ocr', {
        image: { bytes: region.bytes, label: 'highlighted region' },
        prompt: 'Which character is in this image? Reply with the character only.',
        note: 'ocr of the highlighted region',
      });
      read = okText(ocr);
      if (!ocr.ok) notes.push(unavailable('ocr', ocr));
    } else if (found.result && !found.result.ok) {
      notes.push(`detection failed (${clip(found.result.error, 80)}); looked at the whole image`);
    }
    const answer = await ctx.ask({
      system:
        'Name the character that is highlighted (circled, coloured or marked) in the word. The last image ' +
        `may be a crop of the marked region, with an OCR reading. ${ANSWER_RULE}`,
      text: `${read ? `OCR of the marked region: ${clip(read, 40)}\n\n` : ''}${taskText(ctx)}`,
      images,
      note: 'name the highlighted character',
    });
    return {
      text: compose({
        header: '[Highlighted_Character_Recognition] located the mark.',
        notes,
        body: answer.text,
      }),
    };
  },
};

/** Geometric_Shape_Counting: detection boxes drawn on the image, a count, then a check. */
export const shapeCounting: SkillImplementation = {
  id: 'shape-counting',
  name: 'Geometric_Shape_Counting',
  level: 2,
  description: 'counting drawn shapes, including nested or overlapping ones',
  services: [{ role: 'detection' }],
  async run(ctx) {
    const found = await detect(ctx, 'shape', 0, 'detect shapes');
    const notes: string[] = [];
    const images = await ctx.expertImages();
    const ref = ctx.images[0];
    if (found.boxes && ref) {
      const drawn = await drawBoxes(
        await ctx.tools.store.readImage(ref),
        found.boxes.map((box, i) => ({ box, label: i + 1 })),
        { space: 'pixel' },
      );
      images.push(await ctx.expertImage(drawn.bytes));
    } else if (found.result && !found.result.ok) {
      notes.push(`detection failed (${clip(found.result.error, 80)}); counted without boxes`);
    }
    const boxes = found.boxes
      ? `A detector numbered ${found.boxes.length} candidate shape(s) on the second image.\n\n`
      : '';
    const counted = await ctx.ask({
      system:
        'Count the shapes the question asks about. Nested shapes count separately; a box may cover two ' +
        `shapes or none. ${ANSWER_RULE} X is a whole number.`,
      text: `${boxes}${taskText(ctx)}`,
      images,
      note: 'count shapes',
    });
    let final = counted.text;
    if (ctx.callsLeft() > 0) {
      const checked = await ctx.ask({
        system: `Check a shape count by going over the image again, outline by outline. ${ANSWER_RULE} X is a whole number.`,
        text: `${boxes}First count: ${statedAnswer(counted.text) ?? 'unclear'}.\n\n${taskText(ctx)}`,
        images,
        note: 'check the count',
      });
      if (statedAnswer(checked.text)) final = checked.text;
    }
    return {
      text: compose({ header: '[Geometric_Shape_Counting] boxed, counted and checked.', notes, body: final }),
    };
  },
};
