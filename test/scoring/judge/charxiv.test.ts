import { describe, expect, it } from 'vitest';
import type { Item } from '../../../src/core/items.ts';
import type { CharxivInstructions, JudgeAsk, JudgeContext, JudgeRequest } from '../../../src/core/judge.ts';
import { judgeInputHash } from '../../../src/core/judge.ts';
import { charxivPrompt, charxivTask, rubricOf } from '../../../src/scoring/judge/charxiv-prompt.ts';
import { scoringNote } from '../../../src/scoring/modes.ts';
import { charxivOfficial } from '../../../src/scoring/official/charxiv.ts';
import { mathvistaOfficial } from '../../../src/scoring/official/mathvista.ts';
import { judgeReply } from '../../../src/sim/judge.ts';

const item = (
  answer: string,
  extra: Record<string, unknown> = {},
  question = 'Which model is best?',
): Item => ({
  id: 'charxiv-0001',
  benchmark: 'charxiv',
  question,
  images: [],
  answers: [answer],
  answerType: 'text',
  extra,
});

/** A judge that answers with the simulated judge's logic and records what it was asked. */
function simJudge(): JudgeContext & { asked: JudgeRequest[] } {
  const asked: JudgeRequest[] = [];
  const ask: JudgeAsk = async (req, read) => {
    asked.push(req);
    const output = judgeReply({
      endpoint: 'sim-judge',
      seed: 0,
      skill: 'direct',
      ref: null,
      item: null,
      domain: '',
      requestKey: '',
      messages: [{ role: 'user', text: req.prompt, images: 0 }],
    });
    const inputHash = judgeInputHash(req.prompt, { temperature: 0, maxTokens: 512 });
    return {
      value: read(output),
      trace: {
        judge: 'sim-judge',
        model: 'judge-sim',
        inputHash,
        purpose: req.purpose,
        instructions: req.instructions ?? 'project',
        output,
        verdict: '',
        cached: false,
      },
    };
  };
  return { ask, asked };
}

describe('CharXiv grading rules', () => {
  it('maps descriptive templates to their rubrics (src/descriptive_utils.py get_rubric)', () => {
    expect([1, 2, 7, 8, 11, 13, 16, 18, 19].map(rubricOf)).toEqual([
      'title',
      'ocr',
      'ocr',
      'quant',
      'bool',
      'enum',
      'trend',
      'layout',
      'quant',
    ]);
    expect(rubricOf(20)).toBeUndefined();
  });

  it('picks the reasoning category from inst_category, else from the answer', () => {
    expect(charxivTask(item('Swin', { inst_category: 2 }))).toEqual({ kind: 'reasoning', category: 2 });
    expect(charxivTask(item('Swin', { inst_category: '4' }))).toEqual({ kind: 'reasoning', category: 4 });
    expect(charxivTask(item('0.25'))).toEqual({ kind: 'reasoning', category: 3 });
    expect(charxivTask(item('Swin', { question_kind: 'reasoning' }))).toEqual({
      kind: 'reasoning',
      category: 1,
    });
    expect(charxivTask(item('2 by 3', { question_kind: 'descriptive', qid: 18 }))).toEqual({
      kind: 'descriptive',
      template: 18,
      rubric: 'layout',
    });
  });

  it("builds the project's prompt with the rule of the category, the answer and the response", () => {
    const { prompt, instructions } = charxivPrompt(item('0.01', { inst_category: 3 }), 'It is 1e-2.');
    expect(instructions).toBe('project');
    expect(prompt).toContain('same number');
    expect(prompt).toContain(
      '[reference answer]\n0.01\n[model response]\nIt is 1e-2.\n[end of model response]',
    );
    expect(prompt).toContain('"score"');
    const text = charxivPrompt(item('Swin', { inst_category: 1 }), 'Swin').prompt;
    expect(text).toContain('order does not matter');
    expect(text).not.toContain('same number');
  });

  it("builds the benchmark's own prompt from instruction texts when given", () => {
    const texts: CharxivInstructions = {
      source: 'constants.py',
      reasoningPrefix: 'PREFIX|',
      reasoning: { 1: 'Q=<|question|> G=<|ground_truth|> R=<|response|>', 2: 'two', 3: 'three', 4: 'four' },
      descriptivePrefix: 'N=<|NUM_TRIPLETS|> Q=<|OVERARCHING_QUESTION|> K=<|JSON_KEYS|>|',
      descriptiveQuestions: { 18: 'Layout?' },
      rubrics: { layout: 'RUBRIC|' },
    };
    const r = charxivPrompt(item('Swin', { inst_category: 1 }, 'Best?'), 'ViT', texts);
    expect(r.instructions).toBe('upstream');
    expect(r.prompt).toBe('PREFIX|Q=Best? G=Swin R=ViT');
    const d = charxivPrompt(item('2 by 3', { question_kind: 'descriptive', qid: 18 }), '2 by 3', texts);
    expect(d.prompt).toBe(
      "N=1 Q=Layout? K=['extract_answer_T1', 'score_T1']|RUBRIC|T1:\nResponse 1: 2 by 3\nGround Truth 1: 2 by 3\n\n",
    );
  });
});

describe('CharXiv official scorer with a judge', () => {
  it('scores by the judge verdict and keeps the judge call with the verdict', async () => {
    const judge = simJudge();
    const right = await charxivOfficial.score(item('3'), 'The answer is 3.', judge);
    expect(right.correct).toBe(true);
    expect(right.extracted).toBe('3');
    expect(right.reason).toMatch(/^judge judge-sim \(reasoning rule 3\): score 1/);
    expect(right.judge).toMatchObject({
      model: 'judge-sim',
      verdict: '1',
      purpose: 'charxiv-grade',
      cached: false,
    });
    expect(right.judge?.output).toBe('{"extracted_answer":"3","score":1}');
    expect(right.judge?.inputHash).toMatch(/^[0-9a-f]{64}$/);
    const wrong = await charxivOfficial.score(item('P56962'), 'It is P55762.', judge);
    expect(wrong.correct).toBe(false);
    expect(wrong.judge?.verdict).toBe('0');
    expect(judge.asked).toHaveLength(2);
  });

  it('is the exact-match proxy without a judge (no trace)', async () => {
    const r = await charxivOfficial.score(item('3'), 'The answer is 3.');
    expect(r.correct).toBe(false);
    expect(r.judge).toBeUndefined();
    expect(r.reason).toMatch(/^proxy/);
  });

  it('makes the item fail, not score wrong, when the judge fails', async () => {
    const failing: JudgeContext = {
      ask: async () => {
        throw new Error(
          'judge sim-judge (judge-sim) gave no readable charxiv-grade verdict after 4 attempt(s)',
        );
      },
    };
    await expect(charxivOfficial.score(item('3'), '3', failing)).rejects.toThrow(/no readable/);
  });

  it('says in the tables whether CharXiv was graded by a judge or the proxy', () => {
    const rec = (judge?: { model: string }) => ({
      status: 'answered',
      scoreMode: 'official' as const,
      benchmark: 'charxiv',
      ...(judge ? { judge } : {}),
    });
    expect(scoringNote([rec({ model: 'judge-sim' })])).toContain(
      'CharXiv: graded by the judge model judge-sim.',
    );
    expect(scoringNote([rec()])).toContain('exact-match proxy');
    expect(scoringNote([rec({ model: 'judge-sim' }), rec()])).toContain('1 of 2 items graded by the judge');
    expect(scoringNote([rec({ model: 'judge-sim', instructions: 'upstream' } as never)])).toContain(
      "graded by the judge model judge-sim with CharXiv's own instruction texts.",
    );
    // A fan-out record's pairs were judged: it counts as graded by the judge.
    const fanOut = { ...rec(), candidates: [{ judge: { model: 'judge-sim' } }, {}] };
    expect(scoringNote([rec({ model: 'judge-sim' }), fanOut])).toContain(
      'CharXiv: graded by the judge model judge-sim.',
    );
  });
});

describe('MathVista extraction with a judge', () => {
  const mv = (answer: string, answerType: string): Item => ({
    id: 'mathvista-1',
    benchmark: 'mathvista',
    question: 'How many?',
    images: [],
    answers: [answer],
    answerType: 'integer',
    extra: { question_type: 'free_form', answer_type: answerType },
  });

  it('asks the judge only when the rule-based steps find nothing', async () => {
    const judge = simJudge();
    const ruled = await mathvistaOfficial.score(mv('7', 'integer'), '7', judge);
    expect(ruled.correct).toBe(true);
    expect(judge.asked).toHaveLength(0);
    const judged = await mathvistaOfficial.score(
      mv('7', 'integer'),
      'Counting them, the answer is 7.',
      judge,
    );
    expect(judge.asked.map((r) => r.purpose)).toEqual(['mathvista-extract']);
    expect(judged.correct).toBe(true);
    expect(judged.judge?.verdict).toBe('7');
    expect(judged.reason).toContain('judge judge-sim extracted "7"');
  });

  it('falls back to the reply itself without a judge (the rule-based path)', async () => {
    const r = await mathvistaOfficial.score(mv('7', 'integer'), 'Counting them, the answer is 7.');
    expect(r.correct).toBe(false);
    expect(r.reason).toMatch(/no judge model/);
    expect(r.judge).toBeUndefined();
  });
});

describe('HR-Bench and MSEarth with a judge (VLMEvalKit answer matching)', () => {
  const mcq: Item = {
    id: 'hrbench4k-1',
    benchmark: 'hrbench4k',
    question: 'What colour is the car?',
    images: [],
    answers: ['B'],
    answerType: 'choice',
    extra: {},
    options: [
      { label: 'A', text: 'red' },
      { label: 'B', text: 'blue' },
      { label: 'C', text: 'green' },
      { label: 'D', text: 'white' },
    ],
  };

  it('asks the judge only for replies can_infer cannot read, and reads its letter', async () => {
    const { hrbenchOfficial, msearthOfficial } = await import('../../../src/scoring/official/vlmeval-mcq.ts');
    const judge = simJudge();
    expect((await hrbenchOfficial.score(mcq, 'B', judge)).correct).toBe(true);
    expect(judge.asked).toHaveLength(0);
    const reply =
      'The car in the lower corner looks blue to me, though the light is dim and it could be white or blue.';
    const without = await hrbenchOfficial.score(mcq, reply);
    expect(without.correct).toBe(false);
    expect(without.reason).toMatch(/no judge/);
    const judged = await hrbenchOfficial.score(mcq, 'Looking closely, it is the blue one.', judge);
    expect(judge.asked.map((r) => r.purpose)).toEqual(['mcq-match']);
    expect(judged).toMatchObject({ correct: true, extracted: 'B' });
    expect(judged.judge?.verdict).toBe('B');
    const none = await msearthOfficial.score(mcq, 'It is impossible to say from this picture.', judge);
    expect(none).toMatchObject({ correct: false, extracted: 'Z' });
  });
});

describe('fan-out pairs keep their judge calls', () => {
  it('records each pair verdict with its judge trace', async () => {
    const { scoreOutcome } = await import('../../../src/scoring/record.ts');
    const judge = simJudge();
    const outcome = {
      status: 'answered' as const,
      rawOutput: '',
      steps: [],
      startedAt: new Date(0).toISOString(),
      candidates: [
        { expert: 'A', skill: 's', rawOutput: 'Swin' },
        { expert: 'B', skill: 's', rawOutput: 'ViT' },
      ],
    };
    const benchmark = { id: 'charxiv' } as never;
    const v = await scoreOutcome(
      outcome as never,
      item('Swin'),
      benchmark,
      async (i, _b, raw) => charxivOfficial.score(i, raw, judge),
      (c) => ({ correct: c.some((x) => x.correct), score: 1, extracted: null, reason: 'any' }),
    );
    expect(v.candidates?.map((c) => [c.correct, c.judge?.verdict])).toEqual([
      [true, '1'],
      [false, '0'],
    ]);
  });
});

describe('a fan-out whose judge fails', () => {
  it('is an item error naming the pair and the cause, not a wrong answer', async () => {
    const { scoreOutcome } = await import('../../../src/scoring/record.ts');
    const outcome = {
      status: 'answered' as const,
      rawOutput: '',
      steps: [],
      startedAt: new Date(0).toISOString(),
      candidates: [{ expert: 'A', skill: 's', rawOutput: 'Swin' }],
    };
    const failing: JudgeContext = {
      ask: async () => {
        throw new Error(
          'judge sim-judge (judge-sim) gave no readable charxiv-grade verdict after 4 attempt(s)',
        );
      },
    };
    const v = await scoreOutcome(
      outcome as never,
      item('Swin'),
      { id: 'charxiv' } as never,
      async (i, _b, raw) => charxivOfficial.score(i, raw, failing),
      () => ({ correct: true, score: 1, extracted: null, reason: 'any' }),
    );
    expect(v.status).toBe('error');
    expect(v.score.correct).toBe(false);
    expect(v.error).toMatch(/^scoring A @ s failed: .*no readable charxiv-grade verdict/);
  });
});
