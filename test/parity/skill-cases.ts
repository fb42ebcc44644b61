/**
 * Inputs and scripted replies of the skill parity cases (test/parity/skills.test.ts).
 * `@grey` / `@rgba` stand for images the test makes (greyscale, with alpha).
 */
import { expect } from 'vitest';
import type { Recorded, Reply, Script } from './recorder.ts';

/** The release's expert names and ports (its check_llm_name). */
export const EXPERTS = {
  'GLM-4.6V-Flash': { registry: 'GLM-4.6V-Flash', port: 2376 },
  'Chart-R1': { registry: 'Chart-R1', port: 2364 },
  'Intern-S1-mini': { registry: 'Intern-S1-mini', port: 2368 },
  'qwen3-VL-8B-Instruct': { registry: 'qwen3-vl-8b-instruct', port: 2362 },
  'Qwen3.5-9B': { registry: 'Qwen3.5-9B', port: 2381 },
  'Step3-VL-10B': { registry: 'Step3-VL-10B', port: 2382 },
} as const;

export interface ParityCase {
  id: string;
  skill: string;
  model: keyof typeof EXPERTS;
  input: string;
  images: string[];
  /** OPENAI_API_KEY set (the release's caption service runs only then). */
  caption?: boolean;
  /** Makes the replies of one run (each run starts its own count). */
  script: () => Script;
  /** What the case is meant to exercise, checked on the release's own stream. */
  expectStream?: (calls: Recorded[]) => void;
  /** What the case is meant to exercise, checked on the release's own observation. */
  expectText?: (text: string) => void;
}

type Images = Record<'chart1' | 'chart2' | 'slake' | 'tally' | 'vstar', string>;

function byModel(replies: {
  detection?: Reply;
  ocr?: Reply;
  caption?: Reply;
  deepeyes?: Reply;
  expert: (n: number) => Reply;
}): Script {
  let n = 0;
  return ({ model }) => {
    if (model === 'GLM-OCR') return replies.ocr ?? { content: 'OCR TEXT 12 34' };
    if (model === 'PR1-Qwen2.5-VL-3B-Detection') return replies.detection ?? { content: '[]' };
    if (model === 'gpt-5') return replies.caption ?? { content: 'A picture.' };
    if (model === 'DeepEyes-7B') return replies.deepeyes ?? { content: '<think>fine</think><answer>A' };
    return replies.expert(n++);
  };
}

const say = (text: string) => () => ({ content: text });
const models = (calls: Recorded[]) => calls.map((c) => c.model);
const imageCount = (call: Recorded | undefined) => {
  const user = (call?.messages as Array<{ role: string; content: unknown }> | undefined)?.find(
    (m) => m.role === 'user',
  );
  return Array.isArray(user?.content)
    ? (user.content as Array<{ type: string }>).filter((p) => p.type === 'image_url').length
    : 0;
};
const last = (calls: Recorded[]) => calls[calls.length - 1];
const zoomCall = (bbox: string) => ({
  content: `<think>look closer</think> <tool_call>\n{"name": "image_zoom_in", "arguments": {"bbox_2d": ${bbox}}}\n`,
});

function noneCases(img: Images): ParityCase[] {
  return [
    {
      id: 'none: one image',
      skill: 'none',
      model: 'GLM-4.6V-Flash',
      input: 'What is the highest value in the chart?',
      images: [img.chart1],
      script: () => byModel({ expert: say('The highest value is 42.') }),
      expectStream: (c) => expect(c).toHaveLength(1),
    },
    {
      id: 'none: no image, reply longer than the 1,000-character observation',
      skill: 'none',
      model: 'GLM-4.6V-Flash',
      input: 'Explain the Pythagorean theorem.',
      images: [],
      script: () => byModel({ expert: say(`${'Long explanation. '.repeat(80)}The answer is c^2.`) }),
      expectStream: (c) => expect(imageCount(c[0])).toBe(0),
    },
    {
      id: 'none: expert down (client retries, two attempts, error observation)',
      skill: 'none',
      model: 'GLM-4.6V-Flash',
      input: 'How many bars are there?',
      images: [img.chart2],
      script: () => byModel({ expert: () => ({ status: 500 }) }),
      expectStream: (c) => expect(c).toHaveLength(6),
    },
    {
      id: 'none: reply without content',
      skill: 'none',
      model: 'GLM-4.6V-Flash',
      input: 'Describe the image.',
      images: [img.tally],
      script: () => byModel({ expert: () => ({ content: null }) }),
    },
  ];
}

function geometricCases(img: Images): ParityCase[] {
  return [
    {
      id: 'Geometric: caption and OCR, think blocks between steps',
      skill: 'Geometric_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: 'Find angle ABC if AB = BC and angle BAC = 40 degrees.',
      images: [img.chart1],
      caption: true,
      script: () => byModel({ expert: (n) => ({ content: `<think>draft ${n}</think>\nStep result ${n}` }) }),
      expectStream: (c) =>
        expect(models(c)).toEqual(['gpt-5', 'GLM-OCR', ...Array(4).fill('GLM-4.6V-Flash')]),
    },
    {
      id: 'Geometric: no caption key, OCR failing',
      skill: 'Geometric_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: 'What is the area of the triangle?',
      images: [img.chart2],
      script: () => byModel({ ocr: { status: 503 }, expert: (n) => ({ content: `step ${n}: 12` }) }),
      expectStream: (c) => expect(models(c).filter((m) => m === 'GLM-OCR')).toHaveLength(3),
    },
    {
      id: 'Geometric: two images, a step without choices',
      skill: 'Geometric_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: 'Compare the two figures.',
      images: [img.chart1, img.chart2],
      caption: true,
      script: () => byModel({ expert: (n) => (n === 1 ? { noChoices: true } : { content: `reply ${n}` }) }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(2),
    },
    {
      id: 'Geometric: step 5 fails, the orchestrator runs the skill again',
      skill: 'Geometric_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: 'Find x.',
      images: [img.tally],
      script: () => byModel({ expert: (n) => (n >= 2 && n <= 4 ? { status: 500 } : { content: `r${n}` }) }),
      expectStream: (c) => expect(c.length).toBe(1 + 2 + 3 + 4),
    },
  ];
}

function chartCases(img: Images): ParityCase[] {
  const chart = (type: string) =>
    byModel({ expert: (n) => ({ content: n === 0 ? type : 'The answer is 7.' }) });
  return [
    {
      id: 'Chart: line chart',
      skill: 'Chart_Problem_Solver',
      model: 'Chart-R1',
      input: 'In which year was the value highest?',
      images: [img.chart1],
      script: () => chart('This is a line chart.'),
      expectStream: (c) => expect(models(c)).toEqual(['GLM-OCR', 'Chart-R1', 'Chart-R1']),
    },
    {
      id: 'Chart: the think block is removed before the type is read',
      skill: 'Chart_Problem_Solver',
      model: 'Chart-R1',
      input: 'What is the sum of the two largest bars?',
      images: [img.chart2],
      script: () => chart('<think>could be a pie or a line</think>\nBar chart'),
    },
    {
      id: 'Chart: pie chart, OCR returns nothing',
      skill: 'Chart_Problem_Solver',
      model: 'Chart-R1',
      input: 'What share does the largest slice have?',
      images: [img.chart1],
      script: () =>
        byModel({
          ocr: { content: '' },
          expert: (n) => ({ content: n === 0 ? 'PIE' : '<think>x</think>45%' }),
        }),
    },
    {
      id: 'Chart: no image (no OCR, text-only calls)',
      skill: 'Chart_Problem_Solver',
      model: 'Chart-R1',
      input: 'Which chart type suits monthly sales?',
      images: [],
      script: () => chart('unknown'),
      expectStream: (c) => expect(models(c)).toEqual(['Chart-R1', 'Chart-R1']),
    },
  ];
}

function scienceCases(img: Images): ParityCase[] {
  const final = (n: number) => ({ content: `<think>reasoning ${n}</think>\nThe answer is B.` });
  return [
    {
      id: 'Science: zoom inside the image, caption on',
      skill: 'Science_Problem_Solver',
      model: 'Intern-S1-mini',
      input: 'Which organ is abnormal in this scan?',
      images: [img.slake],
      caption: true,
      script: () => byModel({ deepeyes: zoomCall('[40, 60, 200, 220]'), expert: final }),
      expectStream: (c) => {
        expect(models(c)).toEqual(['gpt-5', 'GLM-OCR', 'DeepEyes-7B', 'Intern-S1-mini']);
        expect(imageCount(last(c))).toBe(2);
      },
    },
    {
      id: 'Science: no zoom, no caption key',
      skill: 'Science_Problem_Solver',
      model: 'Intern-S1-mini',
      input: 'What kind of image is this?',
      images: [img.slake],
      script: () => byModel({ expert: final }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(1),
    },
    {
      id: 'Science: box past the border with .5 coordinates (rounding, zero fill), single quotes',
      skill: 'Science_Problem_Solver',
      model: 'Intern-S1-mini',
      input: 'What is at the lower right?',
      images: [img.slake],
      script: () =>
        byModel({
          deepeyes: {
            content:
              "<tool_call>{'name': 'image_zoom_in', 'arguments': {'bbox_2d': [300.5, 301.5, 420.5, 450]}}",
          },
          expert: final,
        }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(2),
    },
    {
      id: 'Science: inverted box (crop fails, the skill goes on without it)',
      skill: 'Science_Problem_Solver',
      model: 'Intern-S1-mini',
      input: 'Is the structure symmetric?',
      images: [img.slake],
      script: () => byModel({ deepeyes: zoomCall('[200, 10, 100, 50]'), expert: final }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(1),
    },
    {
      id: 'Science: greyscale image, crop stays greyscale',
      skill: 'Science_Problem_Solver',
      model: 'Intern-S1-mini',
      input: 'How many cells are visible?',
      images: ['@grey'],
      script: () => byModel({ deepeyes: zoomCall('[0, 0, 100.4, 99.6]'), expert: final }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(2),
    },
  ];
}

function perceptionCases(img: Images, skill: string): ParityCase[] {
  const answer = () => ({ content: '<think>look</think>The cup is red.' });
  const tag = skill === 'zoom' ? 'zoom' : 'Perception';
  return [
    {
      id: `${tag}: zoom with a tuple box (read as a Python literal)`,
      skill,
      model: 'GLM-4.6V-Flash',
      input: 'What colour is the cup on the table?',
      images: [img.vstar],
      script: () =>
        byModel({
          deepeyes: {
            content: "<tool_call>{'name': 'image_zoom_in', 'arguments': {'bbox_2d': (800, 500, 1100, 760)}}",
          },
          expert: answer,
        }),
      expectStream: (c) => {
        expect(models(c)).toEqual(['DeepEyes-7B', 'GLM-4.6V-Flash']);
        expect(imageCount(last(c))).toBe(2);
      },
    },
    {
      id: `${tag}: no zoom`,
      skill,
      model: 'GLM-4.6V-Flash',
      input: 'Is the dog left of the bench?',
      images: [img.vstar],
      script: () => byModel({ expert: answer }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(1),
    },
    {
      id: `${tag}: broken tool call (prompt for two views, one image)`,
      skill,
      model: 'GLM-4.6V-Flash',
      input: 'What is written on the sign?',
      images: [img.tally],
      script: () =>
        byModel({
          deepeyes: { content: '<tool_call>{"name": "image_zoom_in", "arguments": {bbox' },
          expert: answer,
        }),
    },
    {
      id: `${tag}: image with alpha (crop fails), DeepEyes ok`,
      skill,
      model: 'GLM-4.6V-Flash',
      input: 'How many people are there?',
      images: ['@rgba'],
      script: () => byModel({ deepeyes: zoomCall('[10, 10, 200, 200]'), expert: answer }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(1),
    },
    {
      id: `${tag}: DeepEyes down, then the expert fails once`,
      skill,
      model: 'GLM-4.6V-Flash',
      input: 'Which side is the lamp on?',
      images: [img.tally],
      script: () =>
        byModel({
          deepeyes: { status: 500 },
          expert: (n) => (n < 3 ? { status: 502 } : { content: 'Left.' }),
        }),
    },
  ];
}

function countingCases(img: Images): ParityCase[] {
  const answer = (n: number) => ({
    content: n === 0 ? '<think>list</think>1. cat at left' : '<think>c</think>There are 2.',
  });
  const boxes = JSON.stringify([
    { bbox_2d: [20, 30, 200, 180], label: 'cat' },
    { bbox_2d: [-15, 100, 520, 400.7], label: 'dining table' },
    { bbox_2d: [300, 5, 380, 60] },
  ]);
  return [
    {
      id: 'Counting: boxes with labels (one clipped, one unlabelled), zoom on the first image',
      skill: 'Counting_Problem_Solver',
      model: 'qwen3-VL-8B-Instruct',
      input: 'How many cats are there?',
      images: [img.tally],
      script: () =>
        byModel({
          detection: { content: `\`\`\`json\n${boxes}\n\`\`\`` },
          deepeyes: zoomCall('[10, 20, 250, 200]'),
          expert: answer,
        }),
      expectStream: (c) => {
        expect(models(c)).toEqual([
          'PR1-Qwen2.5-VL-3B-Detection',
          'DeepEyes-7B',
          'qwen3-VL-8B-Instruct',
          'qwen3-VL-8B-Instruct',
        ]);
        expect(imageCount(last(c))).toBe(3);
      },
    },
    {
      id: 'Counting: two images, objects list with single quotes, a non-text label stops the drawing',
      skill: 'Counting_Problem_Solver',
      model: 'qwen3-VL-8B-Instruct',
      input: 'How many people are in both photos?',
      images: [img.chart1, img.vstar],
      script: () =>
        byModel({
          detection: {
            content:
              "{'objects': [{'bbox_2d': [50, 60, 300, 400], 'label': 'person'}, {'bbox_2d': [10, 10, 40, 40], 'label': 7}, {'bbox_2d': [90, 90, 140, 140], 'label': 'cup'}]}",
          },
          expert: answer,
        }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(4),
    },
    {
      id: 'Counting: detection down (fallback text, plain re-encoded box image)',
      skill: 'Counting_Problem_Solver',
      model: 'qwen3-VL-8B-Instruct',
      input: 'How many birds?',
      images: [img.slake],
      script: () => byModel({ detection: { status: 500 }, deepeyes: { content: 'no zoom' }, expert: answer }),
      expectStream: (c) => expect(c.filter((x) => x.model === 'PR1-Qwen2.5-VL-3B-Detection')).toHaveLength(3),
    },
    {
      id: 'Counting: label with non-ASCII text and punctuation',
      skill: 'Counting_Problem_Solver',
      model: 'qwen3-VL-8B-Instruct',
      input: 'Count the mugs.',
      images: [img.vstar],
      script: () =>
        byModel({
          detection: {
            content: JSON.stringify([
              { bbox_2d: [400, 300, 900, 800], label: 'tasse à café (#2)!' },
              { bbox_2d: [0, 0, 1599, 1199], label: 'Wide-Box_XYZ' },
            ]),
          },
          expert: answer,
        }),
    },
  ];
}

function codeCases(img: Images): ParityCase[] {
  const add = 'def add(a, b):\n    """Return the sum shown in the image."""';
  const block = (code: string) => ({
    content: `<think>plan</think>Here you go:\n\`\`\`python\n${code}\n\`\`\``,
  });
  const seq = (replies: Reply[]) => () =>
    byModel({ expert: (n) => replies[Math.min(n, replies.length - 1)]! });
  return [
    {
      id: 'Code: test extracted, code passes at once',
      skill: 'Code_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: add,
      images: [img.chart1],
      script: seq([{ content: '`assert add(2, 3) == 5`' }, block('def add(a, b):\n    return a + b')]),
      expectStream: (c) => expect(c).toHaveLength(2),
    },
    {
      id: 'Code: second extraction works, code fails the test (traceback fed back), repaired',
      skill: 'Code_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: add,
      images: [img.chart2],
      script: seq([
        { content: 'I cannot see a test.' },
        { content: '<think>x</think>The example:\nassert add(1, 1) == 2 and True' },
        block('def add(a, b):\n    return a - b'),
        block('def add(a, b):\n    return a + b'),
      ]),
      expectStream: (c) => {
        expect(c).toHaveLength(4);
        // The repair prompt carries the traceback of the failed run.
        expect(JSON.stringify(c[3]!.messages)).toMatch(/<temporary file>.*AssertionError/);
      },
    },
    {
      id: 'Code: no test found, first valid block is the answer; default signature',
      skill: 'Code_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: 'Write a function for the pattern in the picture.',
      images: [img.tally],
      script: seq([
        { content: 'no idea' },
        { content: 'assert (' },
        block('def solution(*args, **kwargs):\n    return 0'),
      ]),
      expectStream: (c) => expect(c).toHaveLength(3),
    },
    {
      id: 'Code: invalid block (regeneration prompt), then failing code to the last round',
      skill: 'Code_Problem_Solver',
      model: 'GLM-4.6V-Flash',
      input: add,
      images: [],
      script: seq([
        { content: 'assert add(0, 0) == 0\nassert add(1, 2) == 3' },
        block('def add(a, b)\n    return a + b'),
        { content: 'stray </think> then ```python\ndef add(a, b):\n    raise ValueError("no")\n```' },
        block('def add(a, b):\n    return 1'),
      ]),
      expectStream: (c) => expect(c).toHaveLength(4),
    },
  ];
}

function ocrbenchCases(img: Images): ParityCase[] {
  const det = JSON.stringify([{ bbox_2d: [30, 40, 220, 160], label: 'book' }]);
  const answer = () => ({ content: '<think>read it</think>\nHELLO 42' });
  const router = (id: string, input: string): ParityCase => ({
    id: `OCRBench router: ${id}`,
    skill: 'OCRBench_Master_Router_Skill',
    model: 'Qwen3.5-9B',
    input,
    images: [img.chart1],
    caption: true,
    script: () =>
      byModel({ detection: { content: det }, deepeyes: zoomCall('[100, 80, 400, 300]'), expert: answer }),
    expectStream: (c) => {
      expect(c[0]!.model).toBe('GLM-OCR');
      expect((c[c.length - 1]!.messages as Array<{ role: string }>)[0]!.role).toBe('system');
    },
  });
  const solverCases = (name: string): ParityCase[] => [
    {
      id: `${name}: caption, boxes, zoom`,
      skill: name,
      model: 'Qwen3.5-9B',
      input: 'What is the title printed at the top?',
      images: [img.chart2],
      caption: true,
      script: () =>
        byModel({ detection: { content: det }, deepeyes: zoomCall('[0, 0, 400, 120.5]'), expert: answer }),
      expectStream: (c) =>
        expect(models(c).slice(0, 3)).toEqual(['GLM-OCR', 'gpt-5', 'PR1-Qwen2.5-VL-3B-Detection']),
    },
    {
      id: `${name}: no caption key, OCR down, no zoom`,
      skill: name,
      model: 'Qwen3.5-9B',
      input: 'Read the number.',
      images: [img.tally],
      script: () =>
        byModel({ ocr: { status: 500 }, deepeyes: { content: 'nothing to zoom' }, expert: answer }),
    },
    {
      id: `${name}: two images, detection down, the crop only on the first`,
      skill: name,
      model: 'Qwen3.5-9B',
      input: 'What year is shown?',
      images: [img.chart1, img.vstar],
      caption: true,
      script: () =>
        byModel({ detection: { status: 503 }, deepeyes: zoomCall('[10, 10, 300, 200]'), expert: answer }),
      expectStream: (c) => expect(c.filter((x) => x.model === 'DeepEyes-7B')).toHaveLength(1),
    },
  ];
  return [
    router('transcription', 'What is written in the image?'),
    router('receipt total', 'What is the total amount on this receipt?'),
    router('formula', 'Write the expression of the formula in the image in LaTeX format.'),
    router('store sign', 'What does the sign on the store say?'),
    ...[
      'OCRBench_Text_Recognition_Skill',
      'OCRBench_Key_Information_Extraction_Skill',
      'OCRBench_Scene_Text_QA_Skill',
      'OCRBench_Document_Chart_QA_Skill',
      'OCRBench_Formula_Recognition_Skill',
    ].flatMap(solverCases),
  ];
}

function vlmsareblindCases(img: Images): ParityCase[] {
  const answer = () => ({ content: '<think>count</think>\n{3}' });
  const router = (id: string, input: string): ParityCase => ({
    id: `VLMsAreBlind router: ${id}`,
    skill: 'VLMsAreBlind_Master_Router_Skill',
    model: 'Step3-VL-10B',
    input,
    images: [img.tally],
    caption: true,
    script: () => byModel({ deepeyes: zoomCall('[50, 40, 300, 260]'), expert: answer }),
    expectStream: (c) => expect(c[c.length - 1]!.model).toBe('Step3-VL-10B'),
  });
  const solverCases = (name: string): ParityCase[] => [
    {
      id: `${name}: zoom on the focus region`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'How many circles are there?',
      images: [img.chart2],
      caption: true,
      script: () => byModel({ deepeyes: zoomCall('[100.5, 100.5, 300.5, 250]'), expert: answer }),
      expectStream: (c) => expect(imageCount(last(c))).toBe(2),
    },
    {
      id: `${name}: no zoom, OCR down`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'Which letter is being circled?',
      images: [img.slake],
      script: () => byModel({ ocr: { status: 500 }, deepeyes: { content: 'no need' }, expert: answer }),
    },
    {
      id: `${name}: two images, crop on the first only`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'Count the rows and columns.',
      images: [img.vstar, img.tally],
      script: () => byModel({ deepeyes: zoomCall('[0, 0, 800, 600]'), expert: answer }),
      expectStream: (c) => expect(c.filter((x) => x.model === 'DeepEyes-7B')).toHaveLength(1),
    },
  ];
  return [
    router('highlighted letter', 'Which letter is being circled in red?'),
    router('grid', 'Count the number of rows and columns in the table.'),
    router('circles', 'Are the two circles overlapping? Answer with Yes or No.'),
    router('routes', 'How many single-color paths go from A to C?'),
    router('no keyword', 'Answer this.'),
    ...[
      'VLMsAreBlind_Circle_Contact_Overlap_Judge_Skill',
      'VLMsAreBlind_Intersection_Route_Counting_Skill',
      'VLMsAreBlind_Grid_Structure_Parsing_Skill',
      'VLMsAreBlind_Highlighted_Character_Recognition_Skill',
      'VLMsAreBlind_Geometric_Shape_Counting_Skill',
    ].flatMap(solverCases),
  ];
}

function erqaCases(img: Images): ParityCase[] {
  const det = JSON.stringify([{ bbox_2d: [60, 50, 260, 240], label: 'cup' }]);
  const answer = () => ({ content: '<think>look</think>\nB' });
  const router = (id: string, input: string, images: string[]): ParityCase => ({
    id: `ERQA router: ${id}`,
    skill: 'ERQA_Embodied_Scene_QA_Skill',
    model: 'Step3-VL-10B',
    input,
    images,
    caption: true,
    script: () =>
      byModel({ detection: { content: det }, deepeyes: zoomCall('[20, 20, 240, 200]'), expert: answer }),
    expectStream: (c) =>
      expect((c[c.length - 1]!.messages as Array<{ role: string }>)[0]!.role).toBe('system'),
  });
  const solverCases = (name: string): ParityCase[] => [
    {
      id: `${name}: caption, detection, zoom`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'Where will the cup end up if the gripper follows the arrow? A. left B. right',
      images: [img.vstar],
      caption: true,
      script: () =>
        byModel({
          detection: { content: det },
          deepeyes: zoomCall('[300, 200, 900.5, 700]'),
          expert: answer,
        }),
    },
    {
      id: `${name}: no caption key, services down`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'Which point marks the handle? A. 1 B. 2',
      images: [img.tally],
      script: () =>
        byModel({
          ocr: { status: 500 },
          detection: { status: 500 },
          deepeyes: { status: 500 },
          expert: answer,
        }),
    },
    {
      id: `${name}: two views`,
      skill: name,
      model: 'Step3-VL-10B',
      input: 'Which image shows the task closest to completion? A. first B. second',
      images: [img.chart1, img.slake],
      caption: true,
      script: () =>
        byModel({ detection: { content: det }, deepeyes: zoomCall('[0, 0, 200, 200]'), expert: answer }),
    },
  ];
  return [
    router('trajectory', 'If the robot follows the colored trajectory, where does the object land?', [
      img.vstar,
    ]),
    router('action', 'What is the next action: move left or rotate clockwise?', [img.tally]),
    router('pointing', 'Which labeled point is on the same part of the drawer?', [img.tally]),
    router('two images', 'Do these match?', [img.chart1, img.chart2]),
    router('no keyword', 'Hmm?', [img.slake]),
    ...[
      'ERQA_Trajectory_Outcome_Solver',
      'ERQA_Action_Adjustment_Solver',
      'ERQA_Spatial_Mechanics_Solver',
      'ERQA_Pointing_Localization_Solver',
      'ERQA_Multi_View_Task_Solver',
    ].flatMap(solverCases),
  ];
}

/**
 * Failures that reach the release's orchestrator as exceptions: the observation is
 * "Skill execution error: " and the Python client's message (status with the parsed body,
 * raw error text, no body, a reply that is not JSON).
 */
function failureCases(img: Images): ParityCase[] {
  const fails = (id: string, skill: string, expert: Reply, sent: number): ParityCase => ({
    id: `failure observation: ${id}`,
    skill,
    model: 'Step3-VL-10B',
    input: 'What does the sign say? A. stop B. go',
    images: [img.tally],
    script: () =>
      byModel({ detection: { content: '[]' }, deepeyes: { content: 'no zoom' }, expert: () => expert }),
    expectStream: (c) => expect(c.filter((x) => x.model === 'Step3-VL-10B')).toHaveLength(sent),
    expectText: (text) => expect(text).toMatch(/^Skill execution error: \S/),
  });
  const vllm400 = JSON.stringify({
    object: 'error',
    message: "This model's maximum context length is 16384 tokens. However, you requested 17000 tokens.",
    type: 'BadRequestError',
    param: null,
    code: 400,
    ratio: 0.5,
  });
  return [
    fails('500 with an error body, retried', 'ERQA_Trajectory_Outcome_Solver', { status: 500 }, 3),
    fails('400 from vLLM (not retried)', 'OCRBench_Text_Recognition_Skill', { raw: vllm400, status: 400 }, 1),
    fails(
      '502 with plain text',
      'VLMsAreBlind_Grid_Structure_Parsing_Skill',
      { raw: ' Bad gateway\n', status: 502 },
      3,
    ),
    fails('404 without a body', 'ERQA_Multi_View_Task_Solver', { raw: '', status: 404 }, 1),
    fails(
      'truncated JSON reply',
      'ERQA_Spatial_Mechanics_Solver',
      { raw: '{"id": "x", "choices": [{"ind' },
      1,
    ),
    fails('empty reply', 'OCRBench_Scene_Text_QA_Skill', { raw: '' }, 1),
    fails('HTML reply', 'Code_Problem_Solver', { raw: '<html>busy</html>' }, 1),
    fails(
      'connection closed without a reply, retried',
      'ERQA_Pointing_Localization_Solver',
      { drop: true },
      3,
    ),
  ];
}

export function skillCases(img: Images): ParityCase[] {
  return [
    ...failureCases(img),
    ...noneCases(img),
    ...geometricCases(img),
    ...chartCases(img),
    ...countingCases(img),
    ...codeCases(img),
    ...ocrbenchCases(img),
    ...vlmsareblindCases(img),
    ...erqaCases(img),
    ...scienceCases(img),
    ...perceptionCases(img, 'Perception_Problem_Solver'),
    ...perceptionCases(img, 'zoom'),
  ];
}
