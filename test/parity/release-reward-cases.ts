import { mulberry32 } from '../../src/core/hash.ts';
import type { ReleaseFunctionName } from '../../src/scoring/release-reward/index.ts';

/**
 * Seeded trajectories for the release-reward differential test: whole responses as the
 * release's reward manager sees them (policy turns plus `<information>` observations), built
 * from answer fragments chosen to hit the rules' edges: missing, repeated, multi-line and
 * differently cased answer tags, \boxed{}, "Answer:" / "The answer is" phrases, `$…$`, units,
 * %, commas, Unicode digits and letters, Python-only whitespace, letters vs option text,
 * yes/no, lists, empty answers, and search blocks for the format reward.
 */

export interface ParityCase {
  id: string;
  fn: ReleaseFunctionName;
  response: string;
  groundTruth: string[];
}

type Rand = () => number;

function pick<T>(rand: Rand, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

const NUMBERS = [
  '12',
  '12.5',
  '12.50',
  '0.125',
  '0.375',
  '2.675',
  '1,234',
  '1234',
  '45%',
  '45',
  '3.14159',
  '-7',
  '0.5',
  '.5',
  '12.',
  '1/2',
  '1e3',
  '1000',
  'inf',
  'nan',
  '1_000',
  '+5',
  '5',
  '٣',
  '３',
  '7 cm',
  '$12$',
  '12 million',
  '0',
  '007',
  '1.005',
  '2.345',
  '-0.004',
  '99.995',
  '0.13',
  '0.12',
  '0.38',
  '0.37',
  '1.625',
  '1.63',
  '1.62',
  '-0.125',
  '-0.13',
  '2.5',
  '1 234',
  '12,5',
];
const TEXTS = [
  'Yes',
  'no',
  'YES.',
  'No, it is not',
  'Red',
  'the red bar',
  'New York',
  'Ünïcödé',
  'İstanbul',
  'straße',
  'ſun',
  'KELVIN',
  'red, blue',
  '1, 2, 3',
  'Left lung',
  'liver',
  'CT',
  'MRI scan',
  '😀',
  'a',
  'b',
  '',
  '  spaced\tout  ',
  'yes\u00a0',
  'Not sure',
];
const LETTERS = ['A', 'b', '(C)', 'D.', 'E)', 'option B', 'B. The hills', 'C', 'd', 'Ａ'];
const LATEX = [
  '\\frac{1}{2}',
  '\\dfrac{3}{4}',
  '\\tfrac12',
  '2\\sqrt{3}',
  '\\sqrt{2}',
  '\\sqrt 3',
  '\\sqrt{16}',
  '60^\\circ',
  '60^{\\circ}',
  '5\\text{ cm}',
  '\\pi',
  'x = 5',
  'k=3',
  '10\\%',
  '\\frac{40}{3}',
  '13.33',
  '4\\sqrt{2}',
  '\\frac {1} {4}',
  '0.25',
  '2^3',
  '8',
  '\\left(3\\right)',
  '3/4',
  '6/8',
  '\\frac{\\sqrt{3}}{2}',
  '0.87',
  '1.5',
  '3/2',
  '\\sqrt{8}',
  '2.83',
  '(1)/(3)',
  '-2',
  '- 2',
  '2**-1',
  '\\frac{1}{0}',
  'sqrt(4)',
  '2(3)',
  '3apples',
  '12\\text{ units}',
  '\\frac',
  'a/b',
  '',
  '\\$5',
  '{3}',
  '1.0',
  '1.00',
  '3.999',
  '4',
];
const WRAP_FREE = [
  ' ',
  '\t',
  '\u00a0',
  '\u3000',
  '\u2003',
  '\n',
  '',
  '\r',
  '\r\n',
  '\u2028',
  '\u0085',
  '\u001c',
  '\ufeff',
];
const SEARCHES = [
  'Chart-R1@@Chart_Problem_Solver: what is the highest bar?',
  'qwen3-VL-8B-Instruct@@Counting_Problem_Solver: count the dogs',
  'GLM-4.6V-Flash@@geometric solver: find x',
  'model-name@@skill-name: your-input',
  'GPT-5@@Chart_Problem_Solver: read the chart',
  'Chart-R1@@Unknown_Skill: read',
  'Chart-R1: read the chart',
  'chart: chart values',
  'no colon here',
  'Intern-S1-mini@@Science_Problem_Solver:',
  'a:b:c',
  'medgemma-1.5-4b-it@@Perception_Problem_Solver_Eval: look',
];

function casing(rand: Rand, s: string): string {
  const r = rand();
  if (r < 0.15) return s.toUpperCase();
  if (r < 0.3) return s.toLowerCase();
  return s;
}

function space(rand: Rand): string {
  return rand() < 0.5 ? '' : pick(rand, WRAP_FREE);
}

/** The answer the policy wrote: usually a variant of the truth, sometimes anything. */
function answerFor(rand: Rand, truth: string, pool: readonly string[]): string {
  if (rand() < 0.3) return pick(rand, pool);
  const r = rand();
  const variants = [
    truth,
    casing(rand, truth),
    `${truth}.`,
    `${truth} units`,
    `${truth}%`,
    `(${truth})`,
    `${space(rand)}${truth}${space(rand)}`,
    `It is ${truth}`,
    `${truth}0`,
    ` ${truth}\r`,
  ];
  return r < 0.5 ? truth : pick(rand, variants);
}

const INNER_FORMS = [
  (a: string) => a,
  (a: string) => `The answer is ${a}.`,
  (a: string) => `\\boxed{${a}}`,
  (a: string) => `Answer: ${a}`,
  (a: string) => `$${a}$`,
  (a: string) => `Final Answer: ${a}`,
  (a: string) => `the answer is: ${a}`,
];

/** The final turn(s), with the edge cases of answer tags. */
function finalTurn(rand: Rand, answer: string, decoy: string): string {
  const inner = pick(rand, INNER_FORMS)(answer);
  const forms = [
    () => `<answer>${inner}</answer>`,
    () => `<answer>${inner}</answer>`,
    () => `<ANSWER>${inner}</Answer>`,
    () => `<answer>\n${inner}\n</answer>`,
    () => `<answer>${decoy}</answer>\n<answer>${inner}</answer>`,
    () => `<answer>${inner}`,
    () => `${inner}</answer>`,
    () => `Answer: ${answer}`,
    () => `So ${answer}`,
    () => `Therefore: ${answer}.`,
    () => `$$${answer}$$`,
    () => `\\boxed{${answer}}`,
    () => `Question: what?\n${answer}`,
    () => `the final answer is ${answer}. done`,
    () => `<answer></answer>`,
    () => '',
  ];
  return rand() < 0.35 ? `<answer>${inner}</answer>` : pick(rand, forms)();
}

function observation(rand: Rand, decoy: string): string {
  const bodies = [
    `The chart shows ${decoy}.`,
    `<think>reading</think><answer>${decoy}</answer>`,
    `The answer is ${decoy}`,
    `Answer: ${decoy}\nmore text`,
    `values: $${decoy}$`,
    '',
  ];
  return `user<information>${pick(rand, bodies)}</information>`;
}

/** A whole response: optional reasoning, 0-3 search/observation rounds, then the final turn. */
function trajectory(rand: Rand, answer: string, decoy: string): string {
  const parts: string[] = [];
  if (rand() < 0.5) parts.push(`<think>Let me look at the image.${space(rand)}</think>`);
  const rounds = Math.floor(rand() * 4);
  for (let i = 0; i < rounds; i++) {
    parts.push(`<search>${pick(rand, SEARCHES)}</search>`);
    if (rand() < 0.85) parts.push(observation(rand, decoy));
  }
  parts.push(finalTurn(rand, answer, decoy));
  const glue = pick(rand, ['\n', '', ' ', '\n\n', '\r\n', '\u2029']);
  return `${space(rand)}${parts.join(glue)}${space(rand)}`;
}

type TruthMaker = (rand: Rand) => { truth: string[]; pool: readonly string[] };

const OPTION_TEXTS = ['The hills', 'sandstone', 'A glacier', 'Mitochondria', 'nucleus', 'cell wall'];

const TRUTHS: Record<ReleaseFunctionName, TruthMaker> = {
  compute_score_chartqa: (rand) => {
    const truth = pick(rand, [...NUMBERS, ...TEXTS.slice(0, 14), '12\n', '1.234,5']);
    return { truth: rand() < 0.03 ? [] : [truth], pool: [...NUMBERS, ...TEXTS] };
  },
  compute_score_msearthmcq: (rand) => {
    const letter = pick(rand, ['A', 'B', 'C', 'D', 'b']);
    const text = pick(rand, OPTION_TEXTS);
    const truth = rand() < 0.1 ? [letter] : [letter, text];
    const pool = [...LETTERS, ...OPTION_TEXTS, letter, `${letter}. ${text}`, text.toLowerCase()];
    return { truth, pool };
  },
  compute_score_slake: (rand) => {
    const truth = pick(rand, ['Yes', 'no', ' No ', 'Liver', 'left lung', 'CT', 'MRI', 'Brain', '2']);
    return { truth: [truth], pool: [...TEXTS, 'yes', 'No', 'not', 'the liver', 'Right lung'] };
  },
  compute_score_vstar: (rand) => {
    const truth = pick(rand, ['A', 'B', 'yes', 'No', 'red', 'The dog', 'left', 'Yes ']);
    return { truth: [truth], pool: [...LETTERS, ...TEXTS, 'yes', ' yes', 'no.'] };
  },
  compute_score_zwz: (rand) => {
    const truth = pick(rand, ['A', 'b', 'C', 'red car', 'Left', '']);
    return { truth: rand() < 0.05 ? [] : [truth], pool: [...LETTERS, ...TEXTS] };
  },
  math_compute_score: (rand) => {
    const truth = pick(rand, [...LATEX, ...NUMBERS.slice(0, 20)]);
    return { truth: [truth], pool: [...LATEX, ...NUMBERS] };
  },
};

/** Hand-picked [answer, ground truth] pairs at rule boundaries, run through both sides too. */
const EDGES: Record<ReleaseFunctionName, Array<[string, string[]]>> = {
  compute_score_chartqa: [
    ['0.13', ['0.125']],
    ['0.12', ['0.125']],
    ['0.38', ['0.375']],
    ['0.37', ['0.375']],
    ['2.68', ['2.675']],
    ['1.01', ['1.005']],
    ['-0.12', ['-0.125']],
    ['12', ['12\n']],
    ['1234', ['1,234']],
    ['45', ['45%']],
    ['١٢', ['12']],
    ['1_2', ['12']],
    ['inf', ['1/0']],
    ['12.0', ['12.']],
    ['Red\r', ['red']],
  ],
  compute_score_msearthmcq: [
    ['Ａ', ['A', 'x']],
    ['😀', ['😀', 'x']],
    ['İ', ['i̇', 'x']],
    ['', ['A', 'B']],
  ],
  compute_score_slake: [
    ['nope', ['no']],
    ['yes', [' Yes ']],
    ['NO.', ['no']],
  ],
  compute_score_vstar: [
    ['yes ', ['Yes']],
    ['yes.', ['yes']],
    ['a', ['A']],
  ],
  compute_score_zwz: [
    ['b', ['B']],
    ['😀', ['😀']],
    ['x', []],
  ],
  math_compute_score: [
    ['\\frac{1}{8}', ['0.125']],
    ['0.13', ['0.125']],
    ['0.12', ['1/8']],
    ['sqrt(2)**2', ['2']],
    ['0/0', ['0/0']],
    ['1/0', ['1/0']],
    ['\\text{ a}\\text{ b}', ['x']],
    ['3,4', ['3']],
  ],
};

function edgeResponses(answer: string): string[] {
  return [
    `<answer>${answer}</answer>`,
    `<search>Chart-R1: q</search><answer>The answer is ${answer}</answer>`,
  ];
}

/** `count` deterministic cases for one release function. */
export function generateCases(fn: ReleaseFunctionName, count: number, seed: number): ParityCase[] {
  const rand = mulberry32(seed);
  const cases: ParityCase[] = [];
  for (const [answer, truth] of EDGES[fn]) {
    for (const response of edgeResponses(answer)) {
      cases.push({ id: `${fn}-edge-${cases.length}`, fn, response, groundTruth: truth });
    }
  }
  for (let i = cases.length; i < count; i++) {
    const { truth, pool } = TRUTHS[fn](rand);
    const answer = answerFor(rand, truth[rand() < 0.8 ? 0 : truth.length - 1] ?? '', pool);
    const decoy = pick(rand, pool);
    cases.push({ id: `${fn}-${i}`, fn, response: trajectory(rand, answer, decoy), groundTruth: truth });
  }
  return cases;
}

/** Expression strings for latex_to_float parity (the math reward's number evaluation). */
export function generateLatex(count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const atoms = [
    '1',
    '2',
    '3',
    '0',
    '12',
    '0.5',
    '.25',
    '2.5',
    '1e2',
    '7',
    '10',
    '16',
    '\\sqrt{2}',
    '\\sqrt{9}',
  ];
  const ops = ['+', '-', '*', '/', '^', '', ' ', '**', '('];
  const out = [...LATEX, ...NUMBERS];
  while (out.length < count) {
    const n = 1 + Math.floor(rand() * 4);
    let s = pick(rand, atoms);
    for (let i = 1; i < n; i++) s += pick(rand, ops) + pick(rand, atoms);
    if (rand() < 0.3) s = `\\frac{${s}}{${pick(rand, atoms)}}`;
    if (rand() < 0.2) s = `-${s}`;
    if (rand() < 0.15) s = `(${s})`;
    if (rand() < 0.1) s += pick(rand, ['x', ' cm', '%', '°', ')', '(', '!', '$']);
    out.push(s);
  }
  return out;
}
