import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.ts';
import { charxivPrompt } from '../../src/scoring/judge/charxiv-prompt.ts';
import { mathvistaExtractionPrompt } from '../../src/scoring/judge/mathvista-prompt.ts';
import { readGradingVerdict } from '../../src/scoring/judge/verdict.ts';
import { finalAnswer, gradingFields, judgeReply, simGrade } from '../../src/sim/judge.ts';

const ctx = (prompt: string) => ({
  endpoint: 'sim-judge',
  seed: 0,
  skill: 'direct',
  ref: null,
  item: null,
  domain: '',
  requestKey: '',
  messages: [{ role: 'user', text: prompt, images: 0 }],
});

const item = (answer: string): Item => ({
  id: 'charxiv-1',
  benchmark: 'charxiv',
  question: 'Which?',
  images: [],
  answers: [answer],
  answerType: 'text',
  extra: {},
});

describe('the simulated judge', () => {
  it("grades the project's CharXiv prompt in the JSON format it asks for", () => {
    const right = judgeReply(
      ctx(charxivPrompt(item('Swin'), 'Looking at the bars, the answer is Swin.').prompt),
    );
    expect(readGradingVerdict(right)).toEqual({ extracted: 'Swin', score: 1 });
    const wrong = judgeReply(ctx(charxivPrompt(item('Swin'), 'ViT').prompt));
    expect(readGradingVerdict(wrong)).toEqual({ extracted: 'ViT', score: 0 });
  });

  it('is deterministic', () => {
    const p = charxivPrompt(item('3'), 'maybe 3').prompt;
    expect(judgeReply(ctx(p))).toBe(judgeReply(ctx(p)));
  });

  it("reads the labelled fields of the benchmark's own formats", () => {
    expect(
      gradingFields('rules\n    * Question: q\n    * Ground Truth: (b)\n    * Response: it is b\n'),
    ).toEqual({
      reference: '(b)',
      response: 'it is b',
    });
    const pair = 'T1:\nResponse 1: 2 by 3\nGround Truth 1: 2 by 3\n\n keys score_T1';
    expect(gradingFields(pair)).toEqual({ reference: '2 by 3', response: '2 by 3' });
    expect(JSON.parse(judgeReply(ctx(pair)))).toEqual({ extract_answer_T1: '2 by 3', score_T1: 1 });
  });

  it('grades like a lenient reader: same number, brackets, whole words', () => {
    expect(simGrade('1500', '1500.0').score).toBe(1);
    expect(simGrade('(b)', 'b').score).toBe(1);
    expect(simGrade('3', 'There are 3 lines.').score).toBe(1);
    expect(simGrade('3', 'There are 13 lines.').score).toBe(0);
    expect(simGrade('x', '').score).toBe(0);
  });

  it('answers an extraction prompt with the bare answer', () => {
    const mv: Item = { ...item('7'), benchmark: 'mathvista', extra: { answer_type: 'integer' } };
    expect(judgeReply(ctx(mathvistaExtractionPrompt(mv, 'Counting: the answer is 7.')))).toBe('7');
    expect(finalAnswer('first\nsecond line.')).toBe('second line');
  });

  it('answers a prompt it cannot read with a sentence no scorer reads as a verdict', () => {
    expect(() => readGradingVerdict(judgeReply(ctx('hello')))).toThrow();
  });
});

describe('the simulated judge matching options', () => {
  it('names the option a reply means, or Z', async () => {
    const { mcqMatchingPrompt } = await import('../../src/scoring/judge/mcq-prompt.ts');
    const choices: Array<[string, string]> = [
      ['A', 'red car'],
      ['B', 'blue bus'],
    ];
    const ask = (reply: string) => judgeReply(ctx(mcqMatchingPrompt('Which vehicle?', choices, reply)));
    expect(ask('Looking closely, I believe it is the blue bus near the corner.')).toBe('B');
    expect(ask('My final choice.\nThe answer is A')).toBe('A');
    expect(ask('I cannot tell what this is.')).toBe('Z');
  });
});
