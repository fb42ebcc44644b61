import { describe, expect, it } from 'vitest';
import { answerTagContent, extractAnswer, MAX_EXTRACT_INPUT } from '../../src/scoring/extract.ts';

describe('extractAnswer', () => {
  it('takes the last of several <answer> tags', () => {
    expect(extractAnswer('<answer>A</answer> wait <answer>C</answer>')).toEqual({
      extracted: 'C',
      method: 'tag:content',
    });
  });

  it('reads "The answer is" inside the tag and stops at the sentence end, keeping decimals', () => {
    expect(extractAnswer('<think>…</think><answer>The answer is 3.5. Because of the axis.</answer>')).toEqual(
      {
        extracted: '3.5',
        method: 'tag:answer-is',
      },
    );
  });

  it('prefers "The answer is" over "Answer:" and \\boxed (pattern order)', () => {
    const r = extractAnswer('<answer>Answer: 7. \\boxed{9}. So the answer is 8.</answer>');
    expect(r.extracted).toBe('8');
    expect(r.method).toBe('tag:answer-is');
  });

  it('prefers "Answer:" over \\boxed', () => {
    expect(extractAnswer('<answer>\\boxed{9}\nAnswer: 7</answer>').extracted).toBe('7');
  });

  it('reads "Answer:" whose value is on the next line and strips markdown bold', () => {
    expect(extractAnswer('Reasoning…\n**Answer:**\n\n  **42**').extracted).toBe('42');
  });

  it('does not take "answer isn\'t" for "answer is"', () => {
    expect(extractAnswer("The answer isn't obvious. Answer: 7")).toEqual({
      extracted: '7',
      method: 'raw:answer-colon',
    });
  });

  it('reads "Final answer:" and unwraps $\\boxed{…}$ around the value', () => {
    expect(extractAnswer('<answer>Final answer: $\\boxed{2\\sqrt{3}}$</answer>').extracted).toBe(
      '2\\sqrt{3}',
    );
  });

  it('reads \\boxed with nested braces', () => {
    expect(extractAnswer('so we get \\boxed{\\frac{1}{\\sqrt{2}}} and stop')).toEqual({
      extracted: '\\frac{1}{\\sqrt{2}}',
      method: 'raw:boxed',
    });
  });

  it('takes the last balanced \\boxed when the final one is unbalanced', () => {
    expect(extractAnswer('\\boxed{4} then \\boxed{5').extracted).toBe('4');
  });

  it('reads a $…$ span but does not pair up prices', () => {
    expect(extractAnswer('<answer>so $x=5$</answer>')).toEqual({ extracted: 'x=5', method: 'tag:dollar' });
    // Prices: "$5 and $" has a space before the closing "$", so no math span; the line is short.
    expect(extractAnswer('<answer>costs $5 and $10 total</answer>')).toEqual({
      extracted: 'costs $5 and $10 total',
      method: 'tag:content',
    });
  });

  it('uses the whole tag content when no pattern matches, cleaned of punctuation and quotes', () => {
    expect(extractAnswer('<answer>  "Paris."  </answer>')).toEqual({
      extracted: 'Paris',
      method: 'tag:content',
    });
  });

  it('treats an empty tag as no answer', () => {
    expect(extractAnswer('<answer>  .  </answer>')).toEqual({ extracted: null, method: 'tag:empty' });
  });

  it('without a tag, uses a short last non-empty line', () => {
    expect(extractAnswer('I counted the objects.\n\n 17 \n\n')).toEqual({
      extracted: '17',
      method: 'raw:last-line',
    });
  });

  it('without a tag or pattern, gives up on a long last line', () => {
    const long = 'This is a long explanation of the chart that never commits to an answer at all.';
    expect(extractAnswer(long)).toEqual({ extracted: null, method: 'none' });
  });

  it('treats an unclosed final <answer> as running to the end', () => {
    expect(answerTagContent('<answer>B</answer> then <answer> C')).toBe(' C');
    expect(extractAnswer('<answer>B</answer> then <answer> C').extracted).toBe('C');
  });

  it('reads the raw text up to a stray closing tag', () => {
    expect(extractAnswer('Counting again.\n12</answer>')).toEqual({
      extracted: '12',
      method: 'raw:last-line',
    });
  });

  it('is case-insensitive about the tag and the phrases', () => {
    expect(extractAnswer('<ANSWER>THE ANSWER IS (D)</ANSWER>').extracted).toBe('(D)');
  });

  // No wall-clock assertion (speed belongs to the benchmark command); the test timeout
  // is the guard: a catastrophic regex would not finish these inputs in minutes.
  it('handles huge and hostile input', { timeout: 30_000 }, () => {
    const hostile = [
      `${'$'.repeat(300_000)}x`,
      `${'\\boxed{'.repeat(50_000)}`,
      `<answer>${'answer is '.repeat(40_000)}</answer>`,
      `${'.'.repeat(200_000)}x${'.'.repeat(200_000)}`,
      `<answer>${'{'.repeat(100_000)}</answer>`,
      `${'<answer>'.repeat(30_000)}`,
    ];
    const results = hostile.map((h) => extractAnswer(h));
    expect(results[1]?.extracted).toBe(null); // unbalanced \boxed, last line too long
    expect(results[3]?.extracted).toBe(null); // last line far longer than 40 characters
    expect(results[5]).toEqual({ extracted: null, method: 'tag:empty' });
  });

  it('only reads the tail of a very long output', () => {
    const text = `<answer>EARLY</answer>${' '.repeat(MAX_EXTRACT_INPUT + 10)}The answer is 4`;
    expect(extractAnswer(text)).toEqual({ extracted: '4', method: 'raw:answer-is' });
  });
});
