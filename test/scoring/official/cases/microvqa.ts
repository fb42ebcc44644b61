import type { OfficialCase } from '../helpers.ts';

const RX = 'eval/eval.py REGEX_PATTERN answer is \\*?\\*?\\(?([0-9])\\)?\\*?\\*?';
const EQ = 'eval/eval.py eval_qa: int(digit) - 1 == correct_index';
const OPTS = [
  { label: 'A', text: 'mitochondria' },
  { label: 'B', text: 'nucleus' },
  { label: 'C', text: 'ribosome' },
  { label: 'D', text: 'golgi apparatus' },
  { label: 'E', text: 'lysosome' },
];
const c = (name: string, cite: string, answer: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite,
  options: OPTS,
  answers: [answer],
  reply,
  correct,
});

export const microvqaCases: OfficialCase[] = [
  c('The answer is (2)', RX, 'B', 'The answer is (2)', true),
  c('The answer is 2 without brackets', RX, 'B', 'The answer is 2', true),
  c('bold answer', RX, 'C', 'So the answer is **(3)**', true),
  c('reasoning then the answer', RX, 'E', 'Lysosomes digest material... Therefore the answer is (5).', true),
  c('base-1 numbering: (1) is the first option', EQ, 'A', 'the answer is (1)', true),
  c('letter instead of a number', RX, 'B', 'The answer is (B)', false),
  c('capital Answer does not match', RX, 'B', 'Answer is (2)', false),
  c('colon after "is" does not match', RX, 'B', 'The answer is: (2)', false),
  c('bare number', RX, 'B', '2', false),
  c('option text', RX, 'B', 'nucleus', false),
  c('first "answer is" wins', `${RX} (re.search)`, 'B', 'the answer is (1)? No, the answer is (2)', false),
  c('one digit only: 10 reads 1', RX, 'A', 'the answer is 10', true),
  c('zero is option -1, never right', EQ, 'A', 'the answer is (0)', false),
  c('wrong option', EQ, 'B', 'The answer is (3)', false),
  c('two spaces after "is"', RX, 'B', 'The answer is  (2)', false),
  c('"final answer is" contains "answer is"', RX, 'D', 'My final answer is (4)', true),
  c('one star only', RX, 'D', 'The answer is *4*', true),
  c('three stars', RX, 'D', 'The answer is ***4***', false),
  c('empty reply', RX, 'A', '', false),
  c('answer phrase inside a word', RX, 'C', 'Theanswer is (3)', true),
  c('number beyond the options', EQ, 'E', 'The answer is (6)', false),
  c('closing bracket optional', RX, 'C', 'the answer is (3', true),
];
