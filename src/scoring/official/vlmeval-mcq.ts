import { PermanentError } from '../../core/errors.ts';
import type { Item, ScoreResult } from '../../core/items.ts';
import type { JudgeContext } from '../../core/judge.ts';
import { mcqMatchingPrompt, readOptionLetter } from '../judge/mcq-prompt.ts';
import { show } from '../types.ts';
import { type Choices, canInfer } from './can-infer.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * VLMEvalKit multiple choice under its `exact_matching` policy (vlmeval/dataset/utils/
 * multiple_choice.py eval_vanilla): the letter can_infer reads from the reply must equal the
 * answer letter; nothing read is "Z", a wrong answer. Upstream, a judge model reads the
 * replies can_infer cannot: here the sweep's judge when it has one
 * (src/scoring/judge/mcq-prompt.ts; its letter is read with can_infer, and its reply is kept
 * with the verdict); without a judge, VLMEvalKit's own `exact_matching` behaviour.
 */

/** The judge maps a reply the rules cannot read to an option letter (or Z). */
async function judgedOption(
  item: Item,
  prediction: string,
  choices: Choices,
  judge: JudgeContext,
): Promise<ScoreResult> {
  const gold = item.answers[0] ?? '';
  const { value, trace } = await judge.ask(
    { purpose: 'mcq-match', prompt: mcqMatchingPrompt(item.question, choices, prediction) },
    readOptionLetter(choices),
  );
  const how = `judge ${trace.model} matched the reply to ${value}${trace.cached ? ' (cached)' : ''}`;
  const v =
    value === 'Z'
      ? officialVerdict(false, 'Z', `${how}: no option`)
      : officialVerdict(value === gold, value, `${how}; answer ${gold}`);
  return { ...v, judge: { ...trace, verdict: value } };
}

export function vlmevalMcqScorer(name: string, source: string): OfficialScorer {
  return {
    name,
    source,
    usesJudge: true,
    score(item: Item, prediction: string, judge?: JudgeContext) {
      const options = item.options ?? [];
      if (options.length === 0)
        throw new PermanentError(`${name} item ${item.id} has no options to match against`);
      const choices: Choices = options.map((o) => [o.label, o.text]);
      const gold = item.answers[0] ?? '';
      const opt = canInfer(prediction, choices);
      if (opt === null && judge) return judgedOption(item, prediction, choices, judge);
      if (opt === null)
        return officialVerdict(false, null, `can_infer read no option from ${show(prediction)} (no judge)`);
      if (opt === 'Z') return officialVerdict(false, 'Z', 'the reply refuses or answers Z');
      return officialVerdict(opt === gold, opt, `can_infer read ${opt}; answer ${gold}`);
    },
  };
}

export const hrbenchOfficial = vlmevalMcqScorer(
  'hrbench',
  'open-compass/VLMEvalKit vlmeval/dataset/image_mcq.py HRBenchDataset.evaluate',
);

export const msearthOfficial = vlmevalMcqScorer(
  'msearth',
  'open-compass/VLMEvalKit vlmeval/dataset/image_mcq.py MSEarthMCQ',
);

export interface HrbenchAverage {
  /** Per cycle_category: accuracy over all its items and per category (single / cross). */
  perCycle: Record<string, Record<string, number>>;
  /** The published figures: each of `all` and the categories averaged over the cycles. */
  average: Record<string, number>;
}

/**
 * vlmeval/dataset/utils/hrbench.py report_acc_hrbench: accuracy per cycle_category (overall
 * and per category), then the plain mean of each over the cycles.
 */
export function hrbenchAverage(
  results: Array<{ cycle: string; category: string; correct: boolean }>,
): HrbenchAverage {
  const byCycle = new Map<string, Map<string, number[]>>();
  for (const r of results) {
    const cyc = byCycle.get(r.cycle) ?? new Map<string, number[]>();
    byCycle.set(r.cycle, cyc);
    for (const key of ['all', r.category]) {
      const list = cyc.get(key) ?? [];
      list.push(r.correct ? 1 : 0);
      cyc.set(key, list);
    }
  }
  const perCycle: Record<string, Record<string, number>> = {};
  const sums: Record<string, number> = {};
  for (const [cycle, groups] of byCycle) {
    perCycle[cycle] = {};
    for (const [key, hits] of groups) {
      const acc = hits.reduce((a, b) => a + b, 0) / hits.length;
      (perCycle[cycle] as Record<string, number>)[key] = acc;
      sums[key] = (sums[key] ?? 0) + acc;
    }
  }
  const average: Record<string, number> = {};
  for (const [key, sum] of Object.entries(sums)) average[key] = sum / byCycle.size;
  return { perCycle, average };
}
