import type { OfficialCase } from '../helpers.ts';

const OPT = 'vlmeval/utils/matching_util.py can_infer_option';
const TXT = 'vlmeval/utils/matching_util.py can_infer_text';
const EV = 'vlmeval/dataset/utils/multiple_choice.py eval_vanilla: opt == GT, else Z under exact_matching';
const OPTS = [
  { label: 'A', text: 'Aquifer 1' },
  { label: 'B', text: 'Aquifer 2' },
  { label: 'C', text: 'Aquifer 3' },
  { label: 'D', text: 'None of the above' },
];
const COLOURS = [
  { label: 'A', text: 'red' },
  { label: 'B', text: 'blue' },
  { label: 'C', text: 'green' },
  { label: 'D', text: 'yellow' },
];
const c = (
  name: string,
  cite: string,
  answer: string,
  reply: string,
  correct: boolean,
  options = OPTS,
): OfficialCase => ({
  name,
  cite,
  options,
  answers: [answer],
  reply,
  correct,
});

/** Cases of VLMEvalKit's rule-based multiple-choice matching, shared by HR-Bench and MSEarth. */
export const vlmevalMcqCases: OfficialCase[] = [
  c('bare letter', `${OPT}: one letter among the words`, 'B', 'B', true),
  c('letter with a full stop', `${OPT}: "." becomes a space`, 'B', 'B.', true),
  c('letter in brackets', `${OPT}: "()" become spaces`, 'C', '(C)', true),
  c('bold letter', `${OPT}: "*" becomes a space`, 'C', '**C**', true),
  c('label and option text', `${OPT}`, 'A', 'A. Aquifer 1', true),
  c('lower-case letter is not a label', `${OPT} then ${TXT}`, 'B', 'b', false),
  c('"The answer is B"', `${OPT}: B among the last four words`, 'B', 'The answer is B', true),
  c(
    'letter too early in a long reply',
    `${OPT}: index > len(splits) - 5 fails`,
    'B',
    'B is my pick because the region is the widest one',
    false,
  ),
  c(
    'two letters: the verbose pattern decides',
    `${OPT}: _VERBOSE_ANSWER_RE`,
    'C',
    'Not A. The correct answer is C',
    true,
  ),
  c('two letters and no answer phrase', `${OPT}: count 2, ${TXT} too long`, 'A', 'A or B', false, COLOURS),
  c(
    '"answer is" followed by a word starting with b',
    `${OPT}: _VERBOSE_ANSWER_RE is case-insensitive`,
    'B',
    'the answer is because of the rain',
    true,
    COLOURS,
  ),
  c('article "A" counts as the letter A', `${OPT}: "A" is a word`, 'B', 'A blue one', false, COLOURS),
  c('option text alone', `${TXT}: exactly one option text in the reply`, 'C', 'green', true, COLOURS),
  c('option text in a short sentence', `${TXT}`, 'D', 'it is yellow', true, COLOURS),
  c('option text among similar option texts', `${TXT}: one candidate`, 'A', 'Aquifer 1', true),
  c('text of two options is no answer', `${TXT}: two candidates`, 'A', 'red and blue', false, COLOURS),
  c(
    'reply longer than twice the option texts',
    `${TXT}: length limit`,
    'C',
    'After a careful look at the picture, green.',
    false,
    COLOURS,
  ),
  c('option text matched ignoring case', `${TXT}: lower()`, 'D', 'NONE OF THE ABOVE', true),
  c('refusal is Z', `${OPT}: reject_to_answer → Z`, 'A', 'Cannot determine the answer', false),
  c('lone Z is Z', `${OPT}: count 0 and Z → Z`, 'A', 'Z', false),
  c('empty reply', EV, 'A', '', false),
  c('letter E not among the options', `${OPT}: counts option letters only`, 'A', 'E', false),
  c('letter in braces', `${OPT}: "{}" become spaces`, 'D', '{D}', true),
  c('letter after a colon', `${OPT}: ":" becomes a space`, 'B', 'Answer: B', true),
  c('wrong letter', EV, 'A', 'C', false),
];
