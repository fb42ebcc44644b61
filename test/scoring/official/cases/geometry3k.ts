import type { OfficialCase } from '../helpers.ts';

const G = 'mathruler/grader.py grade_answer';
const MD = 'mathruler/math_normalize.py normalize_answer';
const N = 'mathruler/grader.py _normalize';
const S = 'mathruler/grader.py are_equal_under_sympy';
const B = 'mathruler/grader.py extract_boxed_content';
const c = (name: string, cite: string, answer: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite,
  answers: [answer],
  reply,
  correct,
  answerType: 'expression',
});

export const geometry3kCases: OfficialCase[] = [
  c('same integer', G, '12', '\\boxed{12}', true),
  c('12.004 is not 12', `${G}: _str_is_int differs, no sympy`, '12', '\\boxed{12.004}', false),
  c('12.0 is 12', `${N}: integral float → int`, '12', '\\boxed{12.0}', true),
  c('5.196 is not 3√3', `${S}: difference not 0`, '3\\sqrt{3}', '\\boxed{5.196}', false),
  c('sqrt(27) is 3√3', S, '3\\sqrt{3}', '\\boxed{\\sqrt{27}}', true),
  c('\\sqrt3 written without braces', `${MD}: _fix_sqrt`, '2\\sqrt{3}', '\\boxed{2\\sqrt3}', true),
  c('dfrac is frac', `${MD}: dfrac → frac`, '\\frac{40}{3}', '\\boxed{\\dfrac{40}{3}}', true),
  c('a/b of integers is a fraction', `${MD}: _fix_a_slash_b`, '\\frac{40}{3}', '\\boxed{40/3}', true),
  c(
    'unreduced fraction is wrong',
    `${G}: _is_frac both → string equality`,
    '\\frac{1}{2}',
    '\\boxed{2/4}',
    false,
  ),
  c('0.5 is one half', `${MD}: "0.5" → \\frac{1}{2}`, '\\frac{1}{2}', '\\boxed{0.5}', true),
  c('decimal 13.33 is not 40/3', S, '\\frac{40}{3}', '\\boxed{13.33}', false),
  c('degree sign', `${MD}: ^\\circ removed`, '60', '\\boxed{60^\\circ}', true),
  c('degrees as a word', `${N}: unit "degree"`, '60', '\\boxed{60 degrees}', true),
  c('unit cm', `${N}: unit "cm"`, '8.5', '\\boxed{8.5 cm}', true),
  c('k = prefix', `${MD}: short "x=" prefix dropped`, '7', '\\boxed{x=7}', true),
  c('pi times a number', S, '4\\pi', '\\boxed{\\pi \\cdot 4}', true),
  c('half of pi', S, '\\frac{\\pi}{2}', '\\boxed{\\frac{1}{2}\\pi}', true),
  c('negative number', MD, '-3', '\\boxed{-3}', true),
  c('last box wins', B, '5', '\\boxed{4} then \\boxed{5}', true),
  c('nested braces in the box', B, '\\frac{3}{4}', 'so \\boxed{\\frac{3}{4}}.', true),
  c(
    'no box: the reply is graded whole',
    'mathruler/grader.py grade_answer on the whole reply (our adaptation when there is no box)',
    '9',
    '9',
    true,
  ),
  c('unclosed box gives "None"', `${B}: returns "None"`, '9', '\\boxed{9', false),
  c('percent sign dropped', `${MD}: % removed`, '25', '\\boxed{25\\%}', true),
  c('thousands separator', `${N}: _strip_properly_formatted_commas`, '1200', '\\boxed{1,200}', true),
  c('radical over a number', S, '\\frac{\\sqrt{3}}{2}', '\\boxed{\\frac{\\sqrt{3}}{2}}', true),
  c('wrong value', G, '8', '\\boxed{6}', false),
  c('tuple with the same brackets', `${G}: split_tuple`, '(1,2)', '\\boxed{(1, 2)}', true),
  c('tuple with other brackets', `${G}: bracket check`, '(1,2)', '\\boxed{[1,2]}', false),
];
