import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { costAnalytics, learningCurve, routingAnalytics } from '../../src/scoring/analytics.ts';
import { rec } from './helpers.ts';

const step = (
  expert: string | undefined,
  skill: string | undefined,
  extra: Partial<ItemRecord['steps'][number]> = {},
) => ({
  turn: 0,
  policyText: '',
  policyLatencyMs: 10,
  policyPromptTokens: 100,
  policyCompletionTokens: 20,
  action: { type: 'answer' as const, answer: 'x' },
  calls: expert
    ? [
        {
          service: 'expert',
          model: expert === 'gpt-5' ? 'gpt-5-sim' : expert,
          latencyMs: 5,
          promptTokens: 1000,
          completionTokens: 100,
          ok: true,
        },
      ]
    : [],
  ...(expert ? { expert } : {}),
  ...(skill ? { skill } : {}),
  ...extra,
});

describe('routing analytics', () => {
  it('counts choices, per-pair accuracy, turns and format errors per policy and benchmark', () => {
    const records = [
      rec({
        policy: 'p',
        benchmark: 'chartqa',
        itemId: '1',
        correct: true,
        steps: [step('Chart-R1', 'Chart'), step(undefined, undefined)],
      }),
      rec({
        policy: 'p',
        benchmark: 'chartqa',
        itemId: '2',
        correct: false,
        steps: [
          step(undefined, undefined, { formatError: 'unknown model' }),
          step('GLM', 'Chart'),
          step(undefined, undefined),
        ],
      }),
      rec({
        policy: 'p',
        benchmark: 'chartqa',
        itemId: '3',
        correct: true,
        steps: [step('Chart-R1', 'Chart'), step(undefined, undefined)],
      }),
      rec({
        policy: 'p',
        benchmark: 'chartqa',
        itemId: '4',
        status: 'error',
        steps: [step('Chart-R1', 'Chart')],
      }),
    ];
    const [cell] = routingAnalytics(records);
    expect(cell).toMatchObject({
      policy: 'p',
      benchmark: 'chartqa',
      items: 3,
      skillCalls: 3,
      turns: 7,
      formatErrors: 1,
    });
    expect(cell?.choices).toEqual({ 'Chart-R1@@Chart': 2, 'GLM@@Chart': 1 });
    expect(cell?.pairAccuracy).toEqual({
      'Chart-R1@@Chart': { n: 2, correct: 2 },
      'GLM@@Chart': { n: 1, correct: 0 },
    });
  });

  it('scores each pair of a fan-out with its own verdict', () => {
    const r = rec({
      policy: 'oracle',
      benchmark: 'vstar',
      itemId: '1',
      correct: true,
      steps: [step('A', 'S'), step('B', 'S')],
      candidates: [
        { expert: 'A', skill: 'S', extracted: 'B', correct: true },
        { expert: 'B', skill: 'S', extracted: 'C', correct: false },
      ],
    });
    const [cell] = routingAnalytics([r]);
    expect(cell?.pairAccuracy).toEqual({ 'A@@S': { n: 1, correct: 1 }, 'B@@S': { n: 1, correct: 0 } });
    expect(cell?.turns).toBe(1);
  });

  it('splits time and tokens between policy and experts, and prices only priced models', () => {
    const records = [
      rec({
        policy: 'p',
        benchmark: 'b',
        itemId: '1',
        policyLatencyMs: 30,
        expertLatencyMs: 100,
        expertCalls: 1,
        steps: [step('gpt-5', 'direct')],
      }),
      rec({
        policy: 'p',
        benchmark: 'b',
        itemId: '2',
        policyLatencyMs: 10,
        expertLatencyMs: 300,
        expertCalls: 1,
        steps: [step('GLM', 'direct')],
      }),
    ];
    const [row] = costAnalytics(records, { 'gpt-5-sim': { input: 1.25, output: 10 } });
    expect(row?.meanPolicyLatencyMs).toBe(20);
    expect(row?.meanExpertLatencyMs).toBe(200);
    expect(row?.meanPolicyTokens).toBe(120);
    expect(row?.meanExpertTokens).toBe(1100);
    // 1000 prompt tokens at $1.25/M + 100 completion tokens at $10/M = $0.00225
    expect(row?.costUsd).toBeCloseTo(0.00225, 10);
    expect(costAnalytics(records)[0]?.costUsd).toBeNull();
  });

  it('draws a learning curve in decision order', () => {
    const records = [4, 1, 3, 2].map((order) =>
      rec({
        policy: 'bandit',
        benchmark: 'b',
        itemId: String(order),
        correct: order > 2,
        policyMeta: { order },
      }),
    );
    expect(learningCurve(records, 'bandit', 2)).toEqual([
      { from: 1, to: 2, n: 2, accuracy: 0 },
      { from: 3, to: 4, n: 2, accuracy: 1 },
    ]);
  });
});
