/**
 * Every skill through the real queue path: a sweep submitted to Redis, orchestrator and
 * expert-pool worker processes, the simulated experts and auxiliary services over HTTP.
 * Each item carries its own policy prompt offering exactly one (expert, skill) pair, so the
 * simulated policy calls that skill; the test then reads the durable records and checks
 * which services the skill called, in what order, and that its output reached the policy
 * as the next turn's <information>.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statedAnswer } from '../../skills/evidence.ts';
import type { Item, ItemRecord } from '../../src/core/items.ts';
import { TestCluster } from '../helpers/cluster.ts';

const OOD_SIM = resolve(import.meta.dirname, '../../registry/ood-simulated.yaml');
const OCR = 'GLM-OCR';
const ZOOM = 'DeepEyes-7B';
const DET = 'PR1-Qwen2.5-VL-3B-Detection';
const CAP = 'caption';
const EXP = 'expert';

interface Case {
  /** What the case shows. */
  title: string;
  benchmark: string;
  /** Fixture item index. */
  index: number;
  expert: string;
  skill: string;
  /** Replaces the fixture question (routes an out-of-domain item to a given solver). */
  question?: string;
  extra?: Record<string, unknown>;
  /** Services called, in order (`expert` = the chosen expert). */
  calls: string[];
  /** For routers: the solver the trace must name. */
  solver?: string;
  /** Notes the trace must carry, in order of the calls they belong to. */
  notes?: RegExp[];
}

const CASES: Case[] = [
  {
    title: 'Geometric: caption + OCR, extraction, reasoning, self-check',
    benchmark: 'geometry3k',
    index: 0,
    expert: 'GLM-4.6V-Flash',
    skill: 'Geometric_Problem_Solver',
    calls: [CAP, OCR, EXP, EXP, EXP],
    notes: [/caption/, /ocr/, /extract/, /reason/, /self-check/],
  },
  {
    title: 'Chart: OCR + chart-type classification, type-specific answer',
    benchmark: 'chartqa',
    index: 0,
    expert: 'Chart-R1',
    skill: 'Chart_Problem_Solver',
    calls: [OCR, EXP, EXP],
    notes: [/ocr/, /classify chart type/, /answer as a (bar|line) chart/],
  },
  {
    title: 'Science: zoom + caption + OCR, answer from global and local evidence',
    benchmark: 'microvqa',
    index: 0,
    expert: 'Intern-S1-mini',
    skill: 'Science_Problem_Solver',
    calls: [ZOOM, CAP, OCR, EXP],
    notes: [/zoom/, /caption/, /ocr/, /global and zoomed/],
  },
  {
    title: 'Counting: detection boxes + zoom, count, verify',
    benchmark: 'tallyqa',
    index: 0,
    expert: 'qwen3-vl-8b-instruct',
    skill: 'Counting_Problem_Solver',
    calls: [DET, ZOOM, EXP, EXP],
    notes: [/detection/, /zoom/, /^count$/, /verify/],
  },
  {
    title: 'Perception: zoom decision, crop, answer from both views',
    benchmark: 'vstar',
    index: 0,
    expert: 'GLM-4.6V-Flash',
    skill: 'Perception_Problem_Solver',
    calls: [ZOOM, EXP],
    notes: [/zoom/, /global and zoomed/],
  },
  // OCRBench router and its solvers.
  {
    title: 'OCRBench → Text_Recognition (rule)',
    benchmark: 'ocrbench',
    index: 0,
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Text_Recognition',
    calls: [OCR, EXP],
  },
  {
    title: 'OCRBench → Formula_Recognition (rule)',
    benchmark: 'ocrbench',
    index: 1,
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Formula_Recognition',
    calls: [OCR, EXP],
  },
  {
    title: 'OCRBench → Key_Information_Extraction (YAML-only generic skill)',
    benchmark: 'ocrbench',
    index: 2,
    question: 'What is the total amount printed on the receipt?',
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Key_Information_Extraction',
    calls: [OCR, EXP],
  },
  {
    title: 'OCRBench → Scene_Text_QA: zoom, OCR of the crop, answer',
    benchmark: 'ocrbench',
    index: 3,
    question: 'What does the sign on the shop say?',
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Scene_Text_QA',
    calls: [ZOOM, OCR, EXP],
    notes: [/zoom on the text/, /ocr of the zoomed region/, /answer/],
  },
  {
    title: 'OCRBench → Document_Chart_QA (YAML-only generic skill)',
    benchmark: 'ocrbench',
    index: 4,
    question: 'According to the document, what is the title?',
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Document_Chart_QA',
    calls: [OCR, EXP],
  },
  {
    title: 'OCRBench router classifies with the expert when no rule matches',
    benchmark: 'ocrbench',
    index: 5,
    question: 'What is it?',
    extra: { category: 'Regular Text Recognition' },
    expert: 'Qwen3.5-9B',
    skill: 'OCRBench_Router',
    solver: 'Text_Recognition',
    calls: [EXP, OCR, EXP],
    notes: [/route: classify/, /routed to Text_Recognition \(classified/],
  },
  // Diagram_Reasoning (VLMsAreBlind) router and its solvers.
  {
    title: 'Diagram → Circle_Contact_Overlap_Judge: zoom on the contact',
    benchmark: 'vlmsareblind',
    index: 0,
    expert: 'Step3-VL-10B',
    skill: 'Diagram_Reasoning',
    solver: 'Circle_Contact_Overlap_Judge',
    calls: [ZOOM, EXP],
  },
  {
    title: 'Diagram → Intersection_Route_Counting: trace, then count',
    benchmark: 'vlmsareblind',
    index: 1,
    expert: 'Step3-VL-10B',
    skill: 'Diagram_Reasoning',
    solver: 'Intersection_Route_Counting',
    calls: [EXP, EXP],
    notes: [/trace the lines/, /count crossings/],
  },
  {
    title: 'Diagram → Grid_Structure_Parsing',
    benchmark: 'vlmsareblind',
    index: 2,
    question: 'How many rows and columns does the grid have?',
    expert: 'Step3-VL-10B',
    skill: 'Diagram_Reasoning',
    solver: 'Grid_Structure_Parsing',
    calls: [EXP, EXP],
  },
  {
    title: 'Diagram → Highlighted_Character_Recognition: detect, crop, OCR',
    benchmark: 'vlmsareblind',
    index: 3,
    question: 'Which letter is circled in red in the word?',
    expert: 'Step3-VL-10B',
    skill: 'Diagram_Reasoning',
    solver: 'Highlighted_Character_Recognition',
    calls: [DET, OCR, EXP],
  },
  {
    title: 'Diagram → Geometric_Shape_Counting: boxes, count, check',
    benchmark: 'vlmsareblind',
    index: 4,
    question: 'How many shapes are in the image?',
    expert: 'Step3-VL-10B',
    skill: 'Diagram_Reasoning',
    solver: 'Geometric_Shape_Counting',
    calls: [DET, EXP, EXP],
  },
  // Embodied_Reasoning (ERQA) router and its solvers.
  {
    title: 'ERQA → Trajectory_Outcome: track frames, infer',
    benchmark: 'erqa',
    index: 0,
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Trajectory_Outcome',
    calls: [EXP, EXP],
  },
  {
    title: 'ERQA → Multi_View_Task: a caption per view, compare',
    benchmark: 'erqa',
    index: 1,
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Multi_View_Task',
    calls: [CAP, CAP, CAP, EXP],
    notes: [/image 1/, /image 2/, /image 3/, /compare/],
  },
  {
    title: 'ERQA → Action_Adjustment (YAML-only generic skill)',
    benchmark: 'erqa',
    index: 2,
    question: 'What should the robot do next to grasp the red ball?',
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Action_Adjustment',
    calls: [CAP, EXP],
  },
  {
    title: 'ERQA → Spatial_Mechanics (YAML-only generic skill)',
    benchmark: 'erqa',
    index: 3,
    question: 'Is the stack of blocks on the table stable?',
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Spatial_Mechanics',
    calls: [CAP, EXP],
  },
  {
    title: 'ERQA → Pointing_Localization: numbered candidates',
    benchmark: 'erqa',
    index: 4,
    question: 'Point to the red ball: which option gives its location?',
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Pointing_Localization',
    calls: [DET, EXP],
  },
  {
    title: 'ERQA → Embodied_Scene_QA (classified): caption + zoom',
    benchmark: 'erqa',
    index: 5,
    question: 'What colour is the cube on the table?',
    extra: { question_type: 'Embodied Scene QA' },
    expert: 'Step3-VL-10B',
    skill: 'Embodied_Reasoning',
    solver: 'Embodied_Scene_QA',
    calls: [EXP, CAP, ZOOM, EXP],
  },
  {
    title: 'Code: OCR, write, review; the code block reaches the policy',
    benchmark: 'humanevalv',
    index: 0,
    expert: 'Qwen3.5-9B',
    skill: 'Code_Problem_Solver',
    calls: [OCR, EXP, EXP],
    notes: [/ocr/, /write code/, /review/],
  },
];

const BENCHMARKS = [...new Set(CASES.map((c) => c.benchmark))];

/** A system prompt that offers exactly one expert and one skill. */
function onePairPrompt(c: Case): string {
  return [
    'You route a visual question to an expert model through a skill.',
    'Available models:',
    `- ${c.expert}`,
    'Available skills:',
    `- ${c.skill}`,
    'Call: <search> MODEL@@SKILL: input </search>. Answer: <answer> ... </answer>.',
  ].join('\n');
}

const services = (r: ItemRecord, step = 0) => r.steps[step]?.calls.map((c) => c.service) ?? [];

describe('every skill through the queue, with simulated experts and services', () => {
  const cluster = new TestCluster({
    items: 6,
    benchmarks: BENCHMARKS,
    extraRegistry: [OOD_SIM],
    latencyScale: 0.02,
  });
  const byCase = new Map<Case, ItemRecord>();
  const itemIds = new Map<Case, string>();
  let direct: ItemRecord[] = [];

  beforeAll(async () => {
    await cluster.start();
    // Keep one item per case, with its one-pair prompt (and question, when the case routes).
    for (const benchmark of BENCHMARKS) {
      const { items } = await cluster.store.loadDataset(benchmark);
      const kept: Item[] = [];
      for (const c of CASES.filter((x) => x.benchmark === benchmark)) {
        const item = items[c.index];
        if (!item) throw new Error(`fixture ${benchmark}[${c.index}] missing`);
        const question = c.question ?? item.question;
        itemIds.set(c, item.id);
        kept.push({
          ...item,
          question,
          extra: { ...item.extra, ...(c.extra ?? {}) },
          prompt: [
            { role: 'system', content: onePairPrompt(c) },
            { role: 'user', content: `<image>\n${question}\nPlan which model and skill to use.` },
          ],
        });
      }
      await cluster.store.writeDataset(benchmark, kept, 'test:skills');
    }
    await Promise.all([cluster.worker(['--role', 'all']), cluster.worker(['--role', 'expert'])]);
    const plan = await cluster.plan(cluster.sweepFile('skills', ['maestro', 'direct:GLM-4.6V-Flash']));
    await cluster.submit(plan);
    await cluster.wait(plan);
    const records = await cluster.store.readRecords(plan.meta.id);
    for (const [c, id] of itemIds) {
      const r = records.find((x) => x.policy === 'maestro' && x.benchmark === c.benchmark && x.itemId === id);
      if (r) byCase.set(c, r);
    }
    direct = records.filter((r) => r.policy === 'direct:GLM-4.6V-Flash');
  }, 120_000);

  afterAll(() => cluster.cleanup());

  it.each(CASES.map((c) => [c.title, c] as const))('%s', (_title, c) => {
    const r = byCase.get(c);
    expect(r, 'record').toBeDefined();
    if (!r) return;
    expect(r.status).toBe('answered');
    const first = r.steps[0];
    expect(first?.expert).toBe(c.expert);
    expect(first?.skill).toBe(c.skill);
    // Which services, in what order, all answered.
    expect(services(r)).toEqual(c.calls);
    expect(first?.calls.every((call) => call.ok)).toBe(true);
    if (c.solver) {
      const routed = first?.calls.filter((call) => call.note?.includes(`routed to ${c.solver} (`)) ?? [];
      expect(routed).toHaveLength(1);
    }
    for (const [i, re] of (c.notes ?? []).entries()) expect(first?.calls[i]?.note ?? '').toMatch(re);
    // The skill's text is the observation, and the next policy turn answers from it.
    const observation = first?.observation ?? '';
    expect(observation.length).toBeGreaterThan(0);
    if (c.solver) expect(observation).toContain(`→ ${c.solver}]`);
    const next = r.steps[1];
    expect(next?.action.type).toBe('answer');
    const answer = next?.action.type === 'answer' ? next.action.answer : '';
    if (c.benchmark === 'humanevalv') {
      expect(observation).toMatch(/```python\n[\s\S]*def solution[\s\S]*```$/);
      expect(answer).toContain('def solution');
    } else {
      const stated = statedAnswer(observation);
      expect(stated).not.toBeNull();
      expect(observation.trimEnd().endsWith(`The answer is ${stated}.`)).toBe(true);
      expect(answer).toBe(stated);
    }
  });

  it('runs the direct skill for direct baselines: one expert call', () => {
    expect(direct).toHaveLength(CASES.length);
    for (const r of direct) {
      expect(services(r)).toEqual([EXP]);
      expect(r.steps[0]?.calls[0]?.note).toBe('direct answer');
      expect(r.steps[0]?.calls[0]?.model).toBe('GLM-4.6V-Flash');
    }
  });

  it('still counts with the detection service down, and the trace says detection failed', async () => {
    cluster.sim.setFaults({ [DET]: { error500Rate: 1 } });
    try {
      // A new seed: nothing cached from the first sweep can stand in for detection.
      const plan = await cluster.plan(
        cluster.sweepFile('nodetect', ['maestro'], { benchmarks: ['tallyqa'], seeds: [7] }),
      );
      await cluster.submit(plan);
      await cluster.wait(plan);
      const [r] = await cluster.store.readRecords(plan.meta.id);
      expect(r?.status).toBe('answered');
      const calls = r?.steps[0]?.calls ?? [];
      expect(calls.map((c) => c.service)).toEqual([DET, ZOOM, EXP, EXP]);
      expect(calls[0]?.ok).toBe(false);
      expect(calls[0]?.error).toMatch(/500/);
      expect(calls[0]?.note).toMatch(/detection failed, continuing without it/);
      expect(calls.slice(1).every((c) => c.ok)).toBe(true);
      const observation = r?.steps[0]?.observation ?? '';
      expect(observation).toContain('detection failed');
      expect(observation).toContain('counted and verified without detector boxes');
      const answer = r?.steps[1]?.action;
      expect(answer?.type).toBe('answer');
      expect(answer?.type === 'answer' ? answer.answer : '').toBe(statedAnswer(observation));
    } finally {
      cluster.sim.setFaults({});
    }
  });

  it('keeps every auxiliary service within its capacity', () => {
    const stats = cluster.sim.stats();
    for (const name of [OCR, ZOOM, DET, CAP]) {
      expect(stats[name]?.requests ?? 0).toBeGreaterThan(0);
      expect(stats[name]?.peakInFlight ?? 0).toBeLessThanOrEqual(stats[name]?.capacity ?? 0);
    }
  });
});
