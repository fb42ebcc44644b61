import { describe, expect, it } from 'vitest';
import { interner } from '../../src/core/intern.ts';
import { type ItemRecord, slimRecord } from '../../src/core/items.ts';

/** A string equal to `s` built at run time (not a literal V8 may already share). */
const copy = (s: string) => JSON.parse(JSON.stringify({ s })).s as string;

describe('interner', () => {
  it('returns each value and keeps one entry per distinct value', () => {
    const intern = interner();
    const values = ['Qwen2.5-VL-72B-Instruct', 'count_objects', 'Qwen2.5-VL-72B-Instruct', 'expert'];
    expect(values.map((v) => intern(copy(v)))).toEqual(values);
    expect(intern.size).toBe(3);
  });

  it('keeps no more than its limit and no long value, and still returns every value', () => {
    const intern = interner(2);
    expect(['a1', 'b2', 'c3', 'a1'].map(intern)).toEqual(['a1', 'b2', 'c3', 'a1']);
    expect(intern.size).toBe(2);
    const long = 'x'.repeat(500);
    expect(interner()(long)).toBe(long);
    const another = interner();
    another(long);
    expect(another.size).toBe(0);
  });
});

describe('slimRecord with an interner', () => {
  const record = (i: number): ItemRecord =>
    JSON.parse(
      JSON.stringify({
        v: 1,
        sweepId: 'sweep-0123456789abcdef',
        rolloutId: `sweep-0123456789abcdef.tallyqa.maestro.item-${i}.s0`,
        policy: 'maestro:release-8b',
        benchmark: 'tallyqa',
        itemId: `item-${i % 3}`,
        seed: 0,
        sample: 0,
        status: 'answered',
        rawOutput: 'long text',
        extracted: '3',
        correct: true,
        score: 1,
        scoreReason: 'integer match',
        steps: [
          {
            turn: 0,
            policyText: '<search>…</search>',
            policyLatencyMs: 3,
            policyPromptTokens: 10,
            policyCompletionTokens: 5,
            action: { type: 'search', model: 'Qwen2.5-VL-72B-Instruct', skill: 'count_objects', input: 'q' },
            expert: 'Qwen2.5-VL-72B-Instruct',
            skill: 'count_objects',
            observation: 'obs',
            calls: [
              {
                service: 'expert',
                model: 'Qwen2.5-VL-72B-Instruct',
                latencyMs: 4,
                promptTokens: 1,
                completionTokens: 1,
                ok: true,
                note: 'counted by the expert',
                output: 'out',
              },
            ],
          },
        ],
        latencyMs: 9,
        policyLatencyMs: 3,
        expertLatencyMs: 4,
        expertCalls: 1,
        promptTokens: 11,
        completionTokens: 6,
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:01.000Z',
      }),
    ) as ItemRecord;

  it('gives the same record as without one, in the same key order', () => {
    const intern = interner();
    for (let i = 0; i < 4; i++) {
      const r = record(i);
      expect(JSON.stringify(slimRecord(r, intern))).toBe(JSON.stringify(slimRecord(r)));
    }
  });

  it('takes the rollout id the caller holds when it is the record’s own', () => {
    const r = record(1);
    const mine = copy(r.rolloutId);
    expect(slimRecord(r, interner(), mine).rolloutId).toBe(r.rolloutId);
    // Another id is not taken: the record keeps its own.
    expect(slimRecord(r, interner(), 'elsewhere').rolloutId).toBe(r.rolloutId);
  });
});
