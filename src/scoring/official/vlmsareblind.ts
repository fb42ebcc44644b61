import { show } from '../types.ts';
import { pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * VLMs Are Blind, as lmms-eval scores it (lmms_eval/tasks/vlmsareblind/utils.py
 * parse_response and vlmsareblind_process_results): the reply, stripped and lower-cased, is
 * parsed by its task's format, and the parse must equal the stripped, lower-cased ground truth.
 * - touching circles: the whole reply is "yes" or "no";
 * - line plot intersections, subway connections, olympic counting, nested squares: the first
 *   run of digits, with or without braces;
 * - circled letter: the first letter a–z anywhere (so "The letter is {b}" reads "t");
 * - counting grid: "{r}{c}", then "(r, c)", then "rows={r} columns={c}", giving "r,c".
 * Anything else has no answer. The headline is the task mean (vlmsareblindTaskMean).
 */

const PY_S =
  '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const D = '\\p{Nd}'; // Python's \d in a str pattern: any Unicode decimal digit
const COUNT_TASKS = new Set([
  'line plot intersections',
  'subway connections',
  'olympic counting - circles',
  'olympic counting - pentagons',
  'nested squares',
]);
const NUMBER = new RegExp(`\\{?(${D}+)\\}?`, 'u');
const LETTER = /\{?([a-z])\}?/;
const GRID = [
  new RegExp(`\\{(${D}+)\\}${PY_S}*\\{(${D}+)\\}`, 'u'),
  new RegExp(`\\((${D}+)${PY_S}*,${PY_S}*(${D}+)\\)`, 'u'),
  new RegExp(`rows=\\{(${D}+)\\}${PY_S}columns=\\{(${D}+)\\}`, 'u'),
];

/** parse_response: the task's answer read from the reply, or null when it does not follow the format. */
export function blindParse(response: string, task: string): string | null {
  const r = pyStrip(response).toLowerCase();
  const t = task.toLowerCase();
  if (t === 'touching circles' && (r === 'yes' || r === 'no')) return r;
  if (COUNT_TASKS.has(t)) {
    const m = NUMBER.exec(r);
    if (m) return m[1] as string;
  }
  if (t === 'circled letter') {
    const m = LETTER.exec(r);
    if (m) return m[1] as string;
  }
  if (t.startsWith('counting grid')) {
    for (const re of GRID) {
      const m = re.exec(r);
      if (m) return `${m[1]},${m[2]}`;
    }
  }
  return null;
}

export const vlmsareblindOfficial: OfficialScorer = {
  name: 'vlmsareblind',
  source: 'EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/vlmsareblind/utils.py',
  score(item, prediction) {
    const task = typeof item.extra.task === 'string' ? item.extra.task : '';
    const parsed = blindParse(prediction, task);
    if (parsed === null)
      return officialVerdict(false, null, `reply does not follow the ${show(task)} answer format`);
    const p = pyStrip(parsed).toLowerCase();
    const hit = item.answers.find((g) => pyStrip(g).toLowerCase() === p);
    return officialVerdict(
      hit !== undefined,
      p,
      hit !== undefined
        ? `parsed ${show(p)} = ground truth`
        : `parsed ${show(p)} ≠ ${show(item.answers[0] ?? '')}`,
    );
  },
};

/** lmms-eval's task grouping: both counting-grid tasks are one task, as in the paper's Table 1. */
export function blindTaskGroup(task: string): string {
  const t = task.toLowerCase();
  return t === 'counting grid - blank grids' || t === 'counting grid - word grids' ? 'counting grid' : t;
}

export interface BlindTaskMean {
  /** Accuracy per task group, for every group with items. */
  perTask: Record<string, number>;
  /**
   * lmms-eval's `task_mean`: the mean over the task groups with at least one right answer
   * (vlmsareblind_aggregate_by_task only keeps groups it counted a right answer for).
   */
  taskMean: number;
  /** The mean over every task group with items, a group with no right answer counting 0. */
  taskMeanAllTasks: number;
}

/** vlmsareblind_aggregate_by_task over per-item verdicts. */
export function vlmsareblindTaskMean(results: Array<{ task: string; correct: boolean }>): BlindTaskMean {
  const total = new Map<string, number>();
  const right = new Map<string, number>();
  for (const r of results) {
    const g = blindTaskGroup(r.task);
    total.set(g, (total.get(g) ?? 0) + 1);
    if (r.correct) right.set(g, (right.get(g) ?? 0) + 1);
  }
  const perTask: Record<string, number> = {};
  for (const [g, n] of total) perTask[g] = (right.get(g) ?? 0) / n;
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    perTask,
    taskMean: mean([...right.keys()].map((g) => perTask[g] as number)),
    taskMeanAllTasks: mean(Object.values(perTask)),
  };
}
