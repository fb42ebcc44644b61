import { describe, expect, it } from 'vitest';
import {
  RELEASE_BENCHMARKS,
  ReleaseRewardInputError,
  releaseFormatReward,
  releaseModelName,
  releaseReward,
  releaseSkillName,
  scoreMath,
  scoreTagged,
  sympifyToFloat,
} from '../../src/scoring/release-reward/index.ts';
import { pyFloat, pyRound2, pyRstrip, pyStrip } from '../../src/scoring/release-reward/py.ts';

/**
 * Hand-picked cases for release-reward, each with the release rule it pins down. The
 * differential test (test/parity/release-reward.test.ts) proves agreement with the release's
 * Python on generated trajectories; these name the behaviours one by one.
 */

describe('Python semantics the port relies on', () => {
  it('round(x, 2) rounds the exact binary value half to even', () => {
    expect(pyRound2(0.125)).toBe(0.12); // exactly 1/8: a tie, goes to the even digit
    expect(pyRound2(0.375)).toBe(0.38); // exactly 3/8: a tie, goes to the even digit
    expect(pyRound2(2.675)).toBe(2.67); // stored as 2.67499999…, so it rounds down
    expect(pyRound2(-0.125)).toBe(-0.12);
    // Whole numbers are their own rounding, however large; the sign of zero is kept.
    for (const x of [3, -7, 2 ** 60, 1e300]) expect(pyRound2(x)).toBe(x);
    expect(Object.is(pyRound2(-0), -0)).toBe(true);
    expect(pyRound2(12.005)).toBe(12.01); // 12.0050000000000007815…: above the tie
  });

  it('float() accepts underscores, Unicode digits and inf, and rejects what Python rejects', () => {
    expect(pyFloat('1_000')).toBe(1000);
    expect(pyFloat('١٢')).toBe(12); // Arabic-Indic digits
    expect(pyFloat(' inf ')).toBe(Number.POSITIVE_INFINITY);
    expect(pyFloat('1__0')).toBeNull();
    expect(pyFloat('1,234')).toBeNull();
    expect(pyFloat('12%')).toBeNull();
  });

  it('strip() uses Python whitespace (U+001C counts, U+FEFF does not)', () => {
    expect(pyStrip('\u001c 7 \u3000')).toBe('7');
    expect(pyStrip('\ufeff7')).toBe('\ufeff7');
  });

  it('strip(chars) and rstrip(chars) work on code points, astral characters included', () => {
    // A set with an astral character is matched whole, never by one of its halves.
    expect(pyStrip('😀a😀', '😀')).toBe('a');
    expect(pyStrip('\ud83da\ud83d', '😀')).toBe('\ud83da\ud83d');
    expect(pyRstrip('a😀😀', '😀')).toBe('a');
    expect(pyRstrip('a\ude00', '😀')).toBe('a\ude00');
    // A set of single units leaves an astral character at an end alone, and the result is
    // the code-point one on mixed strings.
    expect(pyStrip(' 😀 x 😀 ')).toBe('😀 x 😀');
    expect(pyRstrip('x😀ab', 'ab')).toBe('x😀');
    expect(pyStrip('abc', 'abc')).toBe('');
  });
});

describe('tagged-answer family (chartqa, msearthmcq, slake, vstar, zwz)', () => {
  it('chartqa compares numeric targets after round(x, 2)', () => {
    expect(scoreTagged('compute_score_chartqa', '<answer>12.50</answer>', ['12.5']).score).toBe(1);
    // 0.125 rounds to 0.12 in Python, so 0.13 is wrong although a naive rounding says 0.13.
    expect(scoreTagged('compute_score_chartqa', '<answer>0.13</answer>', ['0.125']).score).toBe(0);
  });

  it('scores 0 without both answer tags, whatever was extracted', () => {
    const v = scoreTagged('compute_score_chartqa', 'Answer: 12.5', ['12.5']);
    expect(v).toEqual({ score: 0, extracted: '12.5' });
  });

  it('reads the first one-line <answer> anywhere, an expert’s inside <information> included', () => {
    const response = 'user<information><answer>7</answer></information>\n<answer>12</answer>';
    expect(scoreTagged('compute_score_chartqa', response, ['12'])).toEqual({ score: 0, extracted: '7' });
  });

  it('does not match an <answer> spanning lines; falls back to the last line, cleaned', () => {
    const v = scoreTagged('compute_score_chartqa', '<answer>\n12\n</answer>', ['12']);
    expect(v).toEqual({ score: 0, extracted: 'answer' });
  });

  it('chartqa text targets match as a case-insensitive substring either way', () => {
    expect(scoreTagged('compute_score_chartqa', '<answer>The Red bar</answer>', ['red']).score).toBe(1);
  });

  it('msearthmcq: one character is the letter, longer text must overlap the option text', () => {
    const truth = ['B', 'sandstone'];
    expect(scoreTagged('compute_score_msearthmcq', '<answer>(B)</answer>', truth).score).toBe(1);
    expect(scoreTagged('compute_score_msearthmcq', '<answer>B. Sandstone</answer>', truth).score).toBe(1);
    expect(scoreTagged('compute_score_msearthmcq', '<answer>Option B</answer>', truth).score).toBe(0);
    expect(scoreTagged('compute_score_msearthmcq', '<answer>B</answer>', ['B']).score).toBe(0); // needs 2 items
  });

  it('slake: a yes/no target only has to occur in the answer', () => {
    expect(scoreTagged('compute_score_slake', '<answer>Unknown</answer>', ['no']).score).toBe(1); // "no" in "unknown"
  });

  it('vstar: a yes/no target must equal the whole stripped answer', () => {
    expect(scoreTagged('compute_score_vstar', '<answer>Yes, it is</answer>', ['yes']).score).toBe(0);
    expect(scoreTagged('compute_score_vstar', '<answer> YES </answer>', ['yes']).score).toBe(1);
  });

  it('zwz with an empty ground truth takes the release’s error path', () => {
    expect(scoreTagged('compute_score_zwz', '<answer>A</answer>', [])).toEqual({
      score: 0,
      extracted: '<answer>A</answer>',
    });
  });
});

describe('math (geometry3k, tallyqa)', () => {
  const score = (response: string, truth: string) => {
    const v = scoreMath(response, [truth]);
    return v.kind === 'scored' ? v.score : v.kind;
  };

  it('normalises with strip_string: 0.5 becomes \\frac{1}{2}', () => {
    expect(score('<answer>\\boxed{\\frac{1}{2}}</answer>', '0.5')).toBe(1);
  });

  it('does not require answer tags (the flag is computed, then overwritten)', () => {
    expect(score('The answer is 3.', '3')).toBe(1);
  });

  it('reads the last answer tag', () => {
    expect(score('<answer>2</answer> then <answer>3</answer>', '3')).toBe(1);
  });

  it('evaluates numbers as SymPy does: sqrt(16) is 4, "3apples" is no number', () => {
    expect(score('<answer>\\sqrt{16}</answer>', '4')).toBe(1);
    expect(score('<answer>3 apples</answer>', '3')).toBe(0);
  });

  it('scores \\fbox and non-integer a/b 0 (the release’s assertion and int() errors)', () => {
    expect(score('<answer>\\fbox{4}</answer>', '4')).toBe(0);
    expect(score('<answer>1/x</answer>', '1/x')).toBe(0);
  });

  it('leaves undecided what only SymPy can tell', () => {
    expect(score('<answer>x-x</answer>', '0')).toBe('undecided');
  });
});

describe('sympifyToFloat', () => {
  it.each([
    ['2**-1', 0.5],
    ['(1)/(3)', 1 / 3],
    ['pi', Math.PI],
    ['7%3', 1],
    ['0/0', Number.NaN],
  ])('%s is the number %d', (s, value) => {
    expect(sympifyToFloat(s)).toEqual({ kind: 'value', value });
  });

  it.each([
    ['03', 'Python rejects leading zeros: 0 then 3'],
    ['1/0', 'zoo is not a float'],
    ['x', 'a plain Symbol'],
    ['3,4', 'a tuple'],
    ['{3}', 'a set'],
    ['is-7', '"is" cannot start an expression'],
    ['<think>', 'syntax error'],
  ])('%s is no number (%s)', (s) => {
    expect(sympifyToFloat(s)).toEqual({ kind: 'none' });
  });

  it.each(['x-x', 'sin(1)', '3!', 'oo+1'])('%s is undecided', (s) => {
    expect(sympifyToFloat(s).kind).toBe('undecided');
  });
});

describe('format reward and name matching', () => {
  const good =
    '<search>Chart-R1@@Chart_Problem_Solver: read</search><information>x</information><answer>5</answer>';

  it('is 0 for a well-formed trajectory and -1 for each broken rule', () => {
    expect(releaseFormatReward(good)).toBe(0);
    expect(releaseFormatReward('<answer>5</answer>')).toBe(-1); // no search
    expect(releaseFormatReward(`${good}<answer>6</answer>`)).toBe(-1); // two answers
    expect(releaseFormatReward(good.replace('Chart-R1', 'GPT-4o'))).toBe(-1); // unknown model
    expect(releaseFormatReward(good.replace('read', 'your-input'))).toBe(-1); // template words
    expect(releaseFormatReward('<search>Chart-R1: read</search><answer>5</answer>')).toBe(0); // old form
    expect(releaseFormatReward('<search>chart: chart values</search><answer>5</answer>')).toBe(-1);
  });

  it('resolves names with the release’s aliases and keyword fallbacks', () => {
    expect(releaseModelName(' qwen35-9b ')).toBe('Qwen3.5-9B');
    expect(releaseSkillName('Perception solver eval')).toBe('Perception_Problem_Solver_Eval');
    expect(releaseSkillName('vlmsareblind-master-router-skill')).toBe('Diagram_Reasoning_Skill');
    expect(releaseSkillName('task')).toBe('ERQA_Multi_View_Task_Solver');
    expect(releaseSkillName('unknown')).toBe('');
  });
});

describe('releaseReward', () => {
  it('maps every catalog benchmark, 7 with a release function and 7 without', () => {
    const supported = Object.entries(RELEASE_BENCHMARKS).filter(([, m]) => m.supported);
    expect(Object.keys(RELEASE_BENCHMARKS)).toHaveLength(14);
    expect(supported.map(([id]) => id).sort()).toEqual(
      ['chartqa', 'geometry3k', 'microvqa', 'msearth', 'slake', 'tallyqa', 'vstar'].sort(),
    );
  });

  it('reports a benchmark without a release function as unsupported, not 0', () => {
    const r = releaseReward('mathvista', '<answer>5</answer>', ['5']);
    expect(r.kind).toBe('unsupported');
    if (r.kind === 'unsupported') expect(r.reason).toMatch(/math_verify/);
    expect(releaseReward('nope', 'x', ['x']).kind).toBe('unsupported');
  });

  it('scores a supported benchmark with the function, format reward and training reward', () => {
    const r = releaseReward(
      'msearth',
      '<search>Intern-S1-mini@@Science_Problem_Solver: q</search><answer>B</answer>',
      ['B', 'sandstone'],
    );
    expect(r).toMatchObject({
      kind: 'scored',
      score: 1,
      correct: true,
      extracted: 'B',
      fn: 'compute_score_msearthmcq',
      dataSource: 'msearthmcq',
      formatReward: 0,
      trainingReward: 1,
    });
    const noSearch = releaseReward('chartqa', '<answer>12</answer>', '12');
    expect(noSearch).toMatchObject({ kind: 'scored', score: 1, formatReward: -1, trainingReward: 0 });
  });

  it('rejects ground truth that is not text with a typed error', () => {
    expect(() => releaseReward('chartqa', '<answer>1</answer>', [1] as unknown as string[])).toThrow(
      ReleaseRewardInputError,
    );
  });

  it('takes a data_source override (the release’s zwz key)', () => {
    const r = releaseReward('hrbench4k', '<answer>b</answer>', ['B'], { dataSource: 'zwz' });
    expect(r).toMatchObject({ kind: 'scored', fn: 'compute_score_zwz', score: 1 });
  });

  it('returns unsupported, with the reason, where the math answer needs SymPy', () => {
    const r = releaseReward('tallyqa', '<answer>x-x</answer>', ['0']);
    expect(r.kind).toBe('unsupported');
    if (r.kind === 'unsupported') expect(r.reason).toMatch(/SymPy/);
  });
});
