import type { OfficialCase } from '../helpers.ts';

const X = 'lmms_eval/tasks/_task_utils/mcq_extract.py extract_mcq_answer';
const EQ = 'lmms_eval/tasks/erqa/utils.py erqa_process_results: pred_letter == answer';
const OPTS = [
  { label: 'A', text: 'left' },
  { label: 'B', text: 'right' },
  { label: 'C', text: 'up' },
  { label: 'D', text: 'down' },
];
const c = (name: string, cite: string, answer: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite,
  options: OPTS,
  answers: [answer],
  reply,
  correct,
});

export const erqaCases: OfficialCase[] = [
  c('bare letter', `${X}: start`, 'B', 'B', true),
  c('letter with a full stop', `${X}: edge punctuation stripped, start`, 'B', 'B.', true),
  c('(B)', `${X}: start (B is not preceded by a letter)`, 'B', '(B)', true),
  c('"The answer is (B)."', `${X}: end beats phrase and parentheses`, 'B', 'The answer is (B).', true),
  c(
    'upstream test: considered A, the answer is B',
    `${X}: end`,
    'B',
    'I considered A, but the answer is B.',
    true,
  ),
  c('lower-case letter is not a choice', `${X}: choices are capitals`, 'B', 'b', false),
  c('option text is not matched', EQ, 'B', 'right', false),
  c('option text with its label', `${X}: start`, 'C', 'C. up', true),
  c('starts with A as a word', `${X}: start beats everything`, 'C', 'A robot should move up, so C', false),
  c(
    '"A" inside a word at the start does not count',
    `${X}: start needs a non-letter next`,
    'D',
    'Actually D',
    true,
  ),
  c('ends with the letter after a space', `${X}: end`, 'D', 'I pick D', true),
  c(
    'phrase reads a capital inside a later word',
    `${X}: phrase, text.find(ch, after)`,
    'B',
    'the answer is Bob, clearly',
    true,
  ),
  c(
    'period format, last occurrence',
    `${X}: period`,
    'C',
    'Options B. and C. were close; going with C.',
    true,
  ),
  c('colon format', `${X}: colon`, 'A', 'Final: A: left', true),
  c('letter E is not among A–D', `${X}: choices A–D`, 'D', 'E', false),
  c('empty reply', `${X}: empty → ""`, 'A', '   ', false),
  c('fallback: a capital inside a word', `${X}: fallback, last occurrence`, 'B', 'xBx', true),
  c('fallback picks the letter occurring last', `${X}: fallback sorted by position`, 'A', 'xAxBx', false),
  c('Chinese answer phrase', `${X}: 答案是 phrase`, 'C', '答案是C。', true),
  c('markdown bold letter', `${X}: no format matches, fallback`, 'B', '**B**', true),
  c('quoted letter', `${X}: quotes stripped`, 'A', '"A"', true),
  c('"Option (C) is right" ends with a word', `${X}: parentheses`, 'C', 'Option (C) is right', true),
  c('right paren format', `${X}: right_paren`, 'D', 'go with D) down', true),
  c('wrong letter', EQ, 'A', 'D', false),
];
