import type { OfficialCase } from '../helpers.ts';

const T2I = 'vlmeval/dataset/utils/tallyqa.py text_to_int: first \\b(0-20)\\b or number word';
const EQ = 'vlmeval/dataset/image_vqa.py TallyQA.evaluate: pred_ints == answer.astype(int)';

export const tallyqaCases: OfficialCase[] = [
  { name: 'bare digit', cite: T2I, answers: ['3'], reply: '3', correct: true },
  { name: 'number word', cite: T2I, answers: ['3'], reply: 'three', correct: true },
  {
    name: 'capitalised word in a sentence',
    cite: T2I,
    answers: ['3'],
    reply: 'There are Three dogs.',
    correct: true,
  },
  { name: 'zero', cite: T2I, answers: ['0'], reply: 'zero', correct: true },
  { name: '"none" is not a count', cite: T2I, answers: ['0'], reply: 'none', correct: false },
  { name: 'twenty is the largest', cite: T2I, answers: ['20'], reply: '20', correct: true },
  { name: 'above twenty gives nothing', cite: T2I, answers: ['21'], reply: '21', correct: false },
  { name: 'first count wins', cite: T2I, answers: ['4'], reply: 'I see 2 cats and 4 dogs', correct: false },
  {
    name: 'first count wins even as a word',
    cite: T2I,
    answers: ['5'],
    reply: 'one group of 5',
    correct: false,
  },
  { name: 'negative sign ignored', cite: T2I, answers: ['3'], reply: '-3', correct: true },
  { name: 'decimal gives its integer part', cite: T2I, answers: ['3'], reply: '3.7', correct: true },
  { name: '20.5 gives 20', cite: T2I, answers: ['20'], reply: '20.5', correct: true },
  { name: 'digits inside a word are not a count', cite: T2I, answers: ['2'], reply: 'x2', correct: false },
  { name: 'thirteen not read as three', cite: T2I, answers: ['13'], reply: 'thirteen', correct: true },
  { name: 'seventeen read whole', cite: T2I, answers: ['17'], reply: 'seventeen birds', correct: true },
  {
    name: 'word inside a longer word is not a count',
    cite: T2I,
    answers: ['1'],
    reply: 'someone',
    correct: false,
  },
  {
    name: 'hyphenated twenty-one reads twenty',
    cite: T2I,
    answers: ['20'],
    reply: 'twenty-one',
    correct: true,
  },
  {
    name: 'count in an answer sentence',
    cite: T2I,
    answers: ['7'],
    reply: 'The answer is 7.',
    correct: true,
  },
  { name: 'boxed count', cite: T2I, answers: ['7'], reply: '\\boxed{7}', correct: true },
  { name: 'no number at all', cite: T2I, answers: ['2'], reply: 'a couple', correct: false },
  { name: 'wrong count', cite: EQ, answers: ['6'], reply: '5', correct: false },
  {
    name: 'leading zero digits are not one word match',
    cite: T2I,
    answers: ['7'],
    reply: '07',
    correct: false,
  },
  {
    name: 'unicode letter before the digit blocks the boundary',
    cite: T2I,
    answers: ['3'],
    reply: 'é3',
    correct: false,
  },
  { name: 'underscore is a word character', cite: T2I, answers: ['3'], reply: 'n_3', correct: false },
];
