import type { Item, ScoreResult } from '../../core/items.ts';
import type { JudgeContext } from '../../core/judge.ts';
import { charxivPrompt } from '../judge/charxiv-prompt.ts';
import { readGradingVerdict } from '../judge/verdict.ts';
import { show } from '../types.ts';
import { pySplit } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * CharXiv grades with a judge model (princeton-nlp/CharXiv src/evaluate.py with the grading
 * rules of src/constants.py: the judge extracts the final answer and scores 1 when it refers
 * to the same term as the ground truth, allowing other notation, forms and orders as each
 * rule says). With the sweep's judge, the judge grades (src/scoring/judge/charxiv-prompt.ts);
 * its reply and what was read from it are kept with the verdict.
 *
 * Without a judge this is an exact-match PROXY, a lower bound of the judge's score: the reply
 * and the answer, with whitespace collapsed, case ignored and one trailing full stop dropped,
 * must be equal. Its verdicts say "proxy", and tables say so.
 */

function proxyForm(text: string): string {
  const t = pySplit(text).join(' ').toLowerCase();
  return t.endsWith('.') ? t.slice(0, -1).trimEnd() : t;
}

function proxyScore(item: Item, prediction: string): ScoreResult {
  const pred = proxyForm(prediction);
  const hit = item.answers.find((g) => proxyForm(g) === pred && pred !== '');
  const why = hit !== undefined ? `equals ${show(hit)}` : `${show(pred)} ≠ ${show(item.answers[0] ?? '')}`;
  return officialVerdict(
    hit !== undefined,
    pred || null,
    `proxy for the CharXiv judge (exact match): ${why}`,
  );
}

async function judgedScore(item: Item, prediction: string, judge: JudgeContext): Promise<ScoreResult> {
  const { prompt, task, instructions } = charxivPrompt(item, prediction, judge.charxiv);
  const { value, trace } = await judge.ask(
    { purpose: 'charxiv-grade', prompt, instructions },
    readGradingVerdict,
  );
  const rule = task.kind === 'reasoning' ? `reasoning rule ${task.category}` : `${task.rubric} rubric`;
  const verdict = officialVerdict(
    value.score === 1,
    value.extracted || null,
    `judge ${trace.model} (${rule}${instructions === 'upstream' ? ', CharXiv instruction texts' : ''}): score ${value.score}, read ${show(value.extracted)} against ${show(item.answers[0] ?? '')}${trace.cached ? ' (cached)' : ''}`,
  );
  return { ...verdict, judge: { ...trace, verdict: String(value.score) } };
}

export const charxivOfficial: OfficialScorer = {
  name: 'charxiv',
  source: 'princeton-nlp/CharXiv src/evaluate.py',
  proxy: true,
  usesJudge: true,
  score(item, prediction, judge) {
    return judge ? judgedScore(item, prediction, judge) : proxyScore(item, prediction);
  },
};
