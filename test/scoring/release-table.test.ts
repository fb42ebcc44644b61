import { describe, expect, it } from 'vitest';
import type { Item, ItemRecord, Step } from '../../src/core/items.ts';
import { releaseRewardOf } from '../../src/scoring/record.ts';
import { meanAtK, samplesMarkdown } from '../../src/scoring/release-table.ts';
import { releaseGroundTruth, releaseTrajectory } from '../../src/scoring/release-trajectory.ts';

const step = (over: Partial<Step>): Step => ({
  turn: 0,
  policyText: '',
  policyLatencyMs: 0,
  policyPromptTokens: 0,
  policyCompletionTokens: 0,
  action: { type: 'answer', answer: 'x' },
  calls: [],
  ...over,
});

describe('release trajectory', () => {
  it('is the decoded response: kept turns and observations, no special tokens, no thrown-away turns', () => {
    const steps = [
      step({ policyText: '<think>x', resampled: true }),
      step({ policyText: '<search> A@@B: q </search><|im_end|>', observation: 'It is 4.' }),
      step({ policyText: '<answer> 4 </answer><|im_end|>' }),
    ];
    expect(releaseTrajectory(steps)).toBe(
      '<search> A@@B: q </search>user<information>It is 4.</information><answer> 4 </answer>',
    );
  });

  it('gives a multiple-choice item the letter and the option text as ground truth', () => {
    const item = {
      answers: ['B', 'cat'],
      options: [
        { label: 'A', text: 'dog' },
        { label: 'B', text: 'cat' },
      ],
    } as unknown as Item;
    expect(releaseGroundTruth(item)).toEqual(['B', 'cat']);
    expect(releaseGroundTruth({ answers: ['42'] } as unknown as Item)).toEqual(['42']);
  });
});

describe('release reward on a record', () => {
  const outcome = (steps: Step[]) => ({ status: 'answered' as const, rawOutput: '', steps, startedAt: '' });
  const answer = [step({ policyText: '<answer>47</answer><|im_end|>' })];

  it("scores with the benchmark's release function", () => {
    const item = { benchmark: 'chartqa', answers: ['47'] } as unknown as Item;
    expect(releaseRewardOf(item, outcome(answer))).toMatchObject({ kind: 'scored', correct: true });
    const wrong = [step({ policyText: '<answer>12</answer>' })];
    expect(releaseRewardOf(item, outcome(wrong))).toMatchObject({ kind: 'scored', correct: false, score: 0 });
  });

  it('marks benchmarks without a release function, failed items and fan-outs as unsupported', () => {
    const mathvista = { benchmark: 'mathvista', answers: ['47'] } as unknown as Item;
    expect(releaseRewardOf(mathvista, outcome(answer)).kind).toBe('unsupported');
    const chart = { benchmark: 'chartqa', answers: ['47'] } as unknown as Item;
    expect(releaseRewardOf(chart, { ...outcome(answer), status: 'error' })).toEqual({
      kind: 'unsupported',
      reason: 'the item failed to run',
    });
    const fan = { ...outcome(answer), candidates: [{ expert: 'e', skill: 's', rawOutput: '47' }] };
    expect(releaseRewardOf(chart, fan).kind).toBe('unsupported');
  });
});

describe('mean@k', () => {
  it('averages samples per item, then items; standard error over items', () => {
    const m = meanAtK(
      new Map([
        ['a', [1, 1, 0, 0]],
        ['b', [1, 1, 1, 1]],
      ]),
    );
    // Item means 0.5 and 1.0: mean 0.75, sample sd 0.3536, se 0.25.
    expect(m?.mean).toBeCloseTo(75);
    expect(m?.se).toBeCloseTo(25);
    expect(m?.k).toBe(4);
    expect(meanAtK(new Map())).toBeUndefined();
  });

  it('takes a paper-scale table: 300,000 items, the largest sample count', () => {
    // A spread of this many values into Math.max overflowed the call stack.
    const values = new Map<string, number[]>();
    for (let i = 0; i < 300_000; i++) values.set(`item-${i}`, i === 7 ? [1, 0, 1] : [i % 2]);
    const m = meanAtK(values);
    expect(m?.items).toBe(300_000);
    expect(m?.k).toBe(3);
    expect(m?.mean).toBeCloseTo(((150_000 - 1 + 2 / 3) / 300_000) * 100, 6);
  });

  it('writes both tables and marks, not zeroes, the cells without a release function', () => {
    const rec = (benchmark: string, itemId: string, correct: boolean, rr: ItemRecord['releaseReward']) =>
      ({
        policy: 'maestro',
        benchmark,
        itemId,
        seed: 0,
        status: 'answered',
        correct,
        releaseReward: rr,
      }) as ItemRecord;
    const md = samplesMarkdown(
      [
        rec('chartqa', 'a', true, { kind: 'scored', score: 1, correct: true, fn: 'chartqa' }),
        rec('chartqa', 'a', false, { kind: 'scored', score: 0, correct: false, fn: 'chartqa' }),
        rec('mathvista', 'b', true, { kind: 'unsupported', reason: 'mathvista: no function' }),
      ],
      ['chartqa', 'mathvista'],
      (id) => id,
    );
    expect(md).toContain('| maestro | 50.0 ± 0.0 | 100.0 ± 0.0 |');
    expect(md).toContain('| maestro | 50.0 ± 0.0 | n/a |');
    expect(md).toContain('- n/a: mathvista: no function');
  });
});

describe('mean@k with failed samples', () => {
  it('counts a failed sample as wrong (0) for both tables, as results.md does', () => {
    const scored = (correct: boolean): ItemRecord['releaseReward'] => ({
      kind: 'scored',
      score: correct ? 1 : 0,
      correct,
      fn: 'chartqa',
    });
    const r = (itemId: string, sample: number, over: Partial<ItemRecord>) =>
      ({ policy: 'maestro', benchmark: 'chartqa', itemId, seed: 0, sample, ...over }) as ItemRecord;
    const md = samplesMarkdown(
      [
        // Item a: 2 samples right, item b: 1 right and 1 failed (error) → item means 1 and 0.5.
        r('a', 0, { status: 'answered', correct: true, releaseReward: scored(true) }),
        r('a', 1, { status: 'answered', correct: true, releaseReward: scored(true) }),
        r('b', 0, { status: 'answered', correct: true, releaseReward: scored(true) }),
        r('b', 1, {
          status: 'error',
          correct: false,
          releaseReward: { kind: 'unsupported', reason: 'the item failed to run' },
        }),
      ],
      ['chartqa'],
      (id) => id,
    );
    // Mean 0.75; sd of (1, 0.5) = 0.3536, se 0.25. Left out, the failure would read 100.0 ± 0.0.
    expect(md).toContain('| maestro | 75.0 ± 25.0 |\n');
    expect(md.match(/\| maestro \| 75\.0 ± 25\.0 \|/g)).toHaveLength(2);
    expect(md).toContain('(1 failed sample here)');
    expect(md).not.toContain('n/a');
  });
});

describe('prompt sources', () => {
  it('says where each release-profile policy took its prompt from', async () => {
    const { promptSources } = await import('../../src/scoring/release-table.ts');
    const rec = (policy: string, prompt?: string) =>
      ({ policy, policyMeta: prompt ? { prompt } : undefined }) as ItemRecord;
    expect(promptSources([rec('rules'), rec('m', 'project'), rec('m', 'project')])).toBe(
      "Policy prompt of m: the project's own texts (no release data given: not the training prompt).",
    );
    expect(promptSources([rec('m', 'data/val.parquet')])).toContain('the release data in data/val.parquet');
    expect(promptSources([rec('rules')])).toBe('');
  });

  it('names the release commit of the prompt data and of the skills checkout', async () => {
    const { promptSources } = await import('../../src/scoring/release-table.ts');
    const meta = {
      prompt: 'data/val.parquet',
      promptCommit: '5b8257c94a060fb0134acaf5f5853480ff0695ce',
      skillTexts: '/src/Maestro @ 5b8257c94a060fb0134acaf5f5853480ff0695ce',
    };
    const note = promptSources([{ policy: 'm', policyMeta: meta } as unknown as ItemRecord]);
    expect(note).toBe(
      [
        'Policy prompt of m: the release data in data/val.parquet (release commit 5b8257c).',
        'Skill prompt texts of m: the release checkout /src/Maestro (commit 5b8257c).',
      ].join('\n'),
    );
    const unknown = promptSources([
      { policy: 'm', policyMeta: { prompt: 'x.parquet', skillTexts: '/co' } } as unknown as ItemRecord,
    ]);
    expect(unknown).toContain('x.parquet (release commit unknown)');
    expect(unknown).toContain('/co (commit unknown)');
  });
});

describe('scoring note', () => {
  it('says which mode scored the table, and flags mixed runs and the CharXiv proxy', async () => {
    const { scoringNote } = await import('../../src/scoring/modes.ts');
    const r = (
      scoreMode: 'official' | 'lenient' | undefined,
      benchmark = 'chartqa',
      status = 'answered',
    ) => ({
      status,
      scoreMode,
      benchmark,
    });
    expect(scoringNote([r('official')])).toMatch(/^Scoring: official \(/);
    expect(scoringNote([r(undefined)])).toMatch(/^Scoring: lenient/);
    expect(scoringNote([r('official'), r('lenient')])).toMatch(/mixed \(lenient, official\)/);
    expect(scoringNote([r('official', 'charxiv')])).toContain('CharXiv: an exact-match proxy');
    expect(scoringNote([r(undefined, 'chartqa', 'error')])).toBe('');
  });
});
