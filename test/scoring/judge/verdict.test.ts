import { describe, expect, it } from 'vitest';
import { readExtraction } from '../../../src/scoring/judge/mathvista-prompt.ts';
import { readGradingVerdict, UnreadableJudgeReply } from '../../../src/scoring/judge/verdict.ts';

describe('reading a grading verdict', () => {
  it('reads the JSON object the prompt asks for', () => {
    expect(readGradingVerdict('{"extracted_answer": "P55762", "score": 0}')).toEqual({
      extracted: 'P55762',
      score: 0,
    });
    expect(readGradingVerdict('{"extracted_answer": "b", "score": 1}')).toEqual({ extracted: 'b', score: 1 });
  });

  it('reads the one-pair batch keys of the descriptive format', () => {
    expect(readGradingVerdict('{"extract_answer_T1": "2 by 3", "score_T1": 1}')).toEqual({
      extracted: '2 by 3',
      score: 1,
    });
  });

  it('reads JSON inside a code fence or after a sentence', () => {
    expect(readGradingVerdict('```json\n{"extracted_answer": "7", "score": 1}\n```')).toEqual({
      extracted: '7',
      score: 1,
    });
    expect(readGradingVerdict('Here is my grading: {"extracted_answer": "x", "score": "0"}')).toEqual({
      extracted: 'x',
      score: 0,
    });
  });

  it('turns a numeric extracted answer into its text', () => {
    expect(readGradingVerdict('{"extracted_answer": 1.5, "score": 1}')).toEqual({
      extracted: '1.5',
      score: 1,
    });
  });

  it('reads almost-JSON (a trailing comma) by its fields', () => {
    expect(readGradingVerdict('{"extracted_answer": "No", "score": 1,}')).toEqual({
      extracted: 'No',
      score: 1,
    });
  });

  it('refuses a reply without a score, with a score other than 0 or 1, or without JSON', () => {
    expect(() => readGradingVerdict('{"extracted_answer": "x"}')).toThrow(UnreadableJudgeReply);
    expect(() => readGradingVerdict('{"extracted_answer": "x", "score": 0.5}')).toThrow(/not 0 or 1/);
    expect(() => readGradingVerdict('{"extracted_answer": "x", "score": -1}')).toThrow(/not 0 or 1/);
    expect(() => readGradingVerdict('The answer is correct.')).toThrow(/no JSON verdict/);
    expect(() => readGradingVerdict('')).toThrow(UnreadableJudgeReply);
  });
});

describe('reading an extraction', () => {
  it('takes the first non-empty line without a label or quotes', () => {
    expect(readExtraction('  42 \n')).toBe('42');
    expect(readExtraction('\nExtracted answer: "3.5"')).toBe('3.5');
    expect(readExtraction('Answer: [1, 2, 3]\nbecause …')).toBe('[1, 2, 3]');
  });

  it('keeps an empty extraction (scored wrong downstream) but refuses an essay', () => {
    expect(readExtraction('')).toBe('');
    expect(() => readExtraction('x'.repeat(501))).toThrow(UnreadableJudgeReply);
  });
});
