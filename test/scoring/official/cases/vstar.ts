import type { OfficialCase } from '../helpers.ts';

const X = 'lmms_eval/tasks/vstar_bench/utils.py extract_answer_letter';
const EQ = 'lmms_eval/tasks/vstar_bench/utils.py vstar_process_results: pred_letter == label.strip().upper()';
const OPTS = [
  { label: 'A', text: 'red' },
  { label: 'B', text: 'white' },
  { label: 'C', text: 'black' },
  { label: 'D', text: 'blue' },
];
const c = (name: string, cite: string, answer: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite,
  options: OPTS,
  answers: [answer],
  reply,
  correct,
});

export const vstarCases: OfficialCase[] = [
  c('bare letter', `${X}: ^([A-D])`, 'A', 'A', true),
  c('lower-case letter', `${X}: upper()`, 'B', 'b', true),
  c('letter with a full stop', `${X}: ^([A-D])\\s*[.)\\]]*`, 'C', 'C.', true),
  c('(B)', `${X}: \\(([A-D])\\)`, 'B', '(B)', true),
  c(
    'The answer is (B).',
    `${X}: ANSWER IS then [\\s:]+ needs a letter right after`,
    'B',
    'The answer is (B).',
    true,
  ),
  c('"Answer: D" reads A (it starts with A)', `${X}: ^([A-D]) is tried first`, 'D', 'Answer: D', false),
  c(
    'reply starting with "Because" reads B',
    `${X}: ^([A-D]) after upper()`,
    'C',
    'Because the cup is black, C',
    false,
  ),
  c('reply starting with "Dog" reads D', `${X}: ^([A-D])`, 'D', 'Dog is on the left', true),
  c(
    'option text alone: "blue" has no letter rule, only letter B',
    `${X}: single letter [A-D] found`,
    'D',
    'blue',
    false,
  ),
  c('option text "red" ends with D', `${X}: single letter [A-D] found (D)`, 'A', 'red', false),
  c('sentence ending in "...red." reads D', `${X}: ([A-D])\\s*(\\.|\\)|])`, 'A', 'The color is red.', false),
  c('"The option is C"', `${X}: OPTION IS C`, 'C', 'The option is C', true),
  c('"Choice: B" reads C (it starts with C)', `${X}: ^([A-D]) is tried first`, 'B', 'Choice: B', false),
  c('letter in brackets at the end', `${X}: \\(([A-D])\\)`, 'A', 'I think it is (A)', true),
  c(
    'standalone letter in a sentence',
    `${X}: standalone letter (?:^|\\s)([A-D])(?:\\s|$)`,
    'B',
    'I pick B here',
    true,
  ),
  c('empty reply', `${X}: returns None`, 'A', '', false),
  c('letter E is none', `${X}: A–D only`, 'A', 'E', false),
  c('"E." has no letter', `${X}: returns None`, 'A', 'E.', false),
  c('label in lower case in the data', `${EQ}`, 'c', 'C', true),
  c('leading whitespace stripped', `${X}: strip()`, 'D', '\n  D', true),
  c(
    'bracketed letter after an explanation',
    `${X}: \\(([A-D])\\) before A. rules`,
    'B',
    'It is white (B)',
    true,
  ),
  c('"Answer: C, not A." reads A', `${X}: ^([A-D]) is tried first`, 'A', 'Answer: C, not A.', true),
];
