import { drawBoxes } from '../src/data/image-tools.ts';
import {
  ANSWER_RULE,
  clip,
  compose,
  describe,
  detect,
  okText,
  taskText,
  unavailable,
  zoomIn,
} from './evidence.ts';
import { defineRouter } from './router.ts';
import type { SkillContext, SkillImplementation } from './types.ts';

/** "Image 1 … Image n" labels for multi-image items (images are sent in order). */
function framesLine(ctx: SkillContext): string {
  return ctx.images.length > 1
    ? `There are ${ctx.images.length} images, in order: ${ctx.images.map((_, i) => `Image ${i + 1}`).join(', ')}.\n`
    : '';
}

/** ERQA pack (embodied reasoning): a router over six solvers for robot and scene questions. */
export const erqaRouter = defineRouter({
  id: 'erqa-router',
  name: 'Embodied_Reasoning',
  description:
    'robot and embodied scenes: motion across frames, what action to take, physics, pointing, several views',
  solvers: [
    'Trajectory_Outcome',
    'Action_Adjustment',
    'Spatial_Mechanics',
    'Pointing_Localization',
    'Multi_View_Task',
    'Embodied_Scene_QA',
  ],
  fallback: 'Embodied_Scene_QA',
  rules: [
    {
      solver: 'Trajectory_Outcome',
      pattern:
        /\b(moving|trajectory|direction|frames?|will (?:it|the \w+) (?:land|end|go|fall)|where will)\b/i,
      why: 'asks how something moves',
    },
    {
      solver: 'Action_Adjustment',
      pattern:
        /\b(should the (?:robot|gripper|arm)|adjust|next action|to grasp|to pick|move the (?:gripper|arm|hand))\b/i,
      why: 'asks what the robot should do',
    },
    {
      solver: 'Spatial_Mechanics',
      pattern: /\b(stable|fall over|tip|balance|support|force|push|heavier|weight|friction)\b/i,
      why: 'asks about physics',
    },
    {
      solver: 'Pointing_Localization',
      pattern: /\b(point to|which point|locat\w+|coordinates?|where is the|mark(?:ed)? point)\b/i,
      why: 'asks to locate a point or object',
    },
    {
      solver: 'Multi_View_Task',
      pattern: /\b(which (?:of the )?(?:\w+ )?images?|views?|cameras?|image \d)\b/i,
      minImages: 2,
      why: 'compares several views',
    },
  ],
});

/** Trajectory_Outcome: where the moving object is in each frame, then what follows. */
export const trajectoryOutcome: SkillImplementation = {
  id: 'trajectory-outcome',
  name: 'Trajectory_Outcome',
  level: 2,
  description: 'how an object moves across frames and where it ends up',
  services: [],
  async run(ctx) {
    const track = await ctx.ask({
      system:
        'Track the moving object across the frames: for each image in order give its approximate position ' +
        '(x from the left, y from the top) and what changed. Do not answer the question yet.',
      text: `${framesLine(ctx)}${taskText(ctx)}`,
      note: 'track across frames',
    });
    const answer = await ctx.ask({
      system: `Infer the motion from the tracked positions (direction, speed, where it goes next). ${ANSWER_RULE}`,
      text: `${framesLine(ctx)}Tracked positions:\n${clip(track.text, 1200)}\n\n${taskText(ctx)}`,
      note: 'infer the outcome',
    });
    return {
      text: compose({ header: '[Trajectory_Outcome] tracked the object frame by frame.', body: answer.text }),
    };
  },
};

/** Pointing_Localization: detection proposals drawn as numbered boxes, then the expert picks. */
export const pointingLocalization: SkillImplementation = {
  id: 'pointing-localization',
  name: 'Pointing_Localization',
  level: 2,
  description: 'locating objects or points in a scene',
  services: [{ role: 'detection' }],
  async run(ctx) {
    const found = await detect(ctx, 'object the question refers to', 0, 'detect candidates');
    const notes: string[] = [];
    const images = await ctx.expertImages();
    const ref = ctx.images[0];
    if (found.boxes?.length && ref) {
      const drawn = await drawBoxes(
        await ctx.tools.store.readImage(ref),
        found.boxes.map((box, i) => ({ box, label: i + 1 })),
        { space: 'pixel' },
      );
      images.push(await ctx.expertImage(drawn.bytes));
    } else if (found.result && !found.result.ok) {
      notes.push(unavailable('detection', found.result));
    }
    const proposals = found.boxes?.length
      ? `Candidate objects are numbered 1–${found.boxes.length} on the last image.\n`
      : '';
    const answer = await ctx.ask({
      system: `Locate what the question asks for in the scene, using the numbered candidates when given. ${ANSWER_RULE}`,
      text: `${framesLine(ctx)}${proposals}${taskText(ctx)}`,
      images,
      note: 'locate',
    });
    return {
      text: compose({
        header: '[Pointing_Localization] matched candidates to the question.',
        notes,
        body: answer.text,
      }),
    };
  },
};

/** Multi_View_Task: a caption per view (as the budget allows), then a comparison across views. */
export const multiView: SkillImplementation = {
  id: 'multi-view',
  name: 'Multi_View_Task',
  level: 2,
  description: 'questions that compare several images or camera views',
  services: [{ role: 'caption' }],
  async run(ctx) {
    // Keep one call for the answer; describe at most four views.
    const n = Math.min(ctx.images.length, 4, Math.max(0, ctx.callsLeft() - 1));
    const captions = await Promise.all(
      Array.from({ length: n }, (_, i) => describe(ctx, i, `caption of image ${i + 1}`)),
    );
    const notes: string[] = [];
    const lines = captions.map((c, i) => {
      if (c && !c.ok) notes.push(`caption of image ${i + 1}: ${unavailable('caption', c)}`);
      return okText(c) ? `Image ${i + 1}: ${clip(okText(c) ?? '', 300)}` : '';
    });
    const answer = await ctx.ask({
      system: `Compare the images view by view to answer; refer to them as Image 1, Image 2, … ${ANSWER_RULE}`,
      text: `${framesLine(ctx)}${lines.filter(Boolean).join('\n')}\n\n${taskText(ctx)}`,
      note: 'compare views',
    });
    return {
      text: compose({
        header: `[Multi_View_Task] described ${n} view(s), then compared.`,
        notes,
        body: answer.text,
      }),
    };
  },
};

/** Embodied_Scene_QA: a caption and a zoomed view of the relevant region, then an answer. */
export const embodiedSceneQa: SkillImplementation = {
  id: 'embodied-scene-qa',
  name: 'Embodied_Scene_QA',
  level: 2,
  description: 'general questions about a robot scene',
  services: [{ role: 'caption' }, { role: 'zoom' }],
  async run(ctx) {
    const [caption, zoomed] = await Promise.all([describe(ctx), zoomIn(ctx)]);
    const notes: string[] = [];
    if (caption && !caption.ok) notes.push(unavailable('caption', caption));
    if (!zoomed.view && zoomed.reason) notes.push(zoomed.reason);
    const images = await ctx.expertImages();
    if (zoomed.view) images.push(zoomed.view.url);
    const answer = await ctx.ask({
      system:
        'Answer a question about a robot or household scene: objects, their states and spatial relations. ' +
        `The last image may be an enlarged view of the relevant region. ${ANSWER_RULE}`,
      text: `${okText(caption) ? `Scene description: ${clip(okText(caption) ?? '', 500)}\n` : ''}${framesLine(ctx)}${taskText(ctx)}`,
      images,
      note: 'answer about the scene',
    });
    return {
      text: compose({ header: '[Embodied_Scene_QA] described and zoomed.', notes, body: answer.text }),
    };
  },
};
