import { describe, expect, it } from 'vitest';
import * as scoring from '../../src/scoring/index.ts';
import { scoreItem } from '../../src/scoring/index.ts';
import { ABCD, bench, makeItem } from './helpers.ts';

describe('scoreItem', () => {
  const choiceItem = makeItem({ options: ABCD, answers: ['B'], answerType: 'choice' });

  it('extracts from the last answer tag, then applies the benchmark metric', async () => {
    const r = await scoreItem(
      choiceItem,
      bench('vstar', 'choice'),
      '<think>A or B?</think><answer>The answer is (B).</answer>',
    );
    expect(r).toMatchObject({ correct: true, score: 1, extracted: '(B)' });
  });

  it('scores a wrong choice as wrong with a reason naming both labels', async () => {
    const r = await scoreItem(choiceItem, bench('vstar', 'choice'), '<answer>C. red fox</answer>');
    expect(r.correct).toBe(false);
    expect(r.reason).toBe('chose C (label with text); gold B');
  });

  it('reports an extraction failure as a wrong answer with a fixed reason', async () => {
    const r = await scoreItem(choiceItem, bench('vstar', 'choice'), '<answer>   </answer>');
    expect(r).toEqual({ correct: false, score: 0, extracted: null, reason: 'no answer could be extracted' });
  });

  it('uses the relaxed metric for a ChartQA-style benchmark', async () => {
    const item = makeItem({ answers: ['200'], answerType: 'number' });
    expect((await scoreItem(item, bench('chartqa', 'relaxed'), 'Final answer: 195')).correct).toBe(true);
    expect((await scoreItem(item, bench('chartqa', 'relaxed'), 'Final answer: 189')).correct).toBe(false);
  });

  it('throws for a benchmark whose metric does not exist', async () => {
    await expect(scoreItem(choiceItem, bench('x', 'nope'), 'B')).rejects.toThrow(/unknown metric "nope"/);
  });

  it('re-exports the public API', () => {
    for (const name of [
      'extractAnswer',
      'getMetric',
      'metrics',
      'aggregate',
      'writeReport',
      'pairedDifference',
    ]) {
      expect(scoring).toHaveProperty(name);
    }
  });
});
