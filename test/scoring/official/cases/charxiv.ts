import type { OfficialCase } from '../helpers.ts';

// The judge's rule is in src/constants.py REASONING_GRADING_INST; these cases check the
// exact-match proxy that stands in for it (charxiv.ts) and mark where the judge would differ.
const J = 'src/constants.py REASONING_GRADING_INST (judge); proxy: exact match';
const c = (name: string, answer: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite: J,
  answers: [answer],
  reply,
  correct,
});

export const charxivCases: OfficialCase[] = [
  c('same term', 'P56962', 'P56962', true),
  c('a different term (judge: 0 too)', 'P56962', 'P55762', false),
  c('case ignored', 'ACC', 'acc', true),
  c('ACC+ is not ACC (judge: 0 too)', 'ACC+', 'ACC', false),
  c('P-101 is not P=101 (judge: 0 too)', 'P-101', 'P=101', false),
  c('trailing full stop dropped', 'linear', 'Linear.', true),
  c('whitespace collapsed', 'Model A', '  model   a\n', true),
  c('subplot letter without brackets (judge: 1, proxy: 0)', '(b)', 'b', false),
  c('alpha spelled out (judge: 1, proxy: 0)', 'α', 'alpha', false),
  c('answer inside a sentence (judge: 1, proxy: 0)', '3', 'The answer is 3.', false),
  c('number as text', '0.25', '0.25', true),
  c('trailing zero differs (judge: 0 by the decimal-places rule)', '0.25', '0.250', false),
  c('integer', '12', '12', true),
  c('comma list in the same order', 'red, blue', 'Red, Blue', true),
  c('comma list in another order (judge: 1, proxy: 0)', 'red, blue', 'blue, red', false),
  c('empty reply', 'x', '', false),
  c('LaTeX form differs (judge: 1, proxy: 0)', 'R^2_{t,h}', 'R^2_t,h', false),
  c('unicode minus is not a hyphen', '-5', '−5', false),
  c('only one trailing stop is dropped', 'n.a', 'n.a..', false),
  c('Not Applicable kept as words', 'Not Applicable', 'not applicable', true),
  c('yes/no answers', 'Yes', 'yes', true),
];
