import type { OfficialCase } from '../helpers.ts';

const RC = 'vlmeval/dataset/utils/vqa_eval.py relaxed_correctness';
const NUM = `${RC}: float() both, |p−t|/|t| ≤ 0.05`;
const PCT = `${RC} _to_float: trailing % → float(rstrip("%"))/100`;
const TXT = `${RC}: not numeric (or target 0) → prediction.lower() == target.lower()`;
const STRIP = 'vlmeval/dataset/utils/vqa_eval.py process_line relaxed_accuracy: prediction.strip()';
const MAX = 'vlmeval/dataset/utils/vqa_eval.py hit_calculate ChartQA: max over answers';

export const chartqaCases: OfficialCase[] = [
  { name: 'same number', cite: NUM, answers: ['23'], reply: '23', correct: true },
  { name: 'within 5%', cite: NUM, answers: ['200'], reply: '195', correct: true },
  { name: 'just over 5%', cite: NUM, answers: ['200'], reply: '189', correct: false },
  { name: 'exactly 5% in floating point', cite: NUM, answers: ['5'], reply: '5.25', correct: true },
  { name: 'negative numbers', cite: NUM, answers: ['-5'], reply: '-5.2', correct: true },
  { name: 'exponent notation', cite: NUM, answers: ['1000'], reply: '1e3', correct: true },
  { name: 'python underscores in digits', cite: NUM, answers: ['1000'], reply: '1_000', correct: true },
  {
    name: 'thousands separator is not a number',
    cite: TXT,
    answers: ['1000'],
    reply: '1,000',
    correct: false,
  },
  { name: 'currency sign is not a number', cite: TXT, answers: ['5'], reply: '$5', correct: false },
  { name: 'unit after the number', cite: TXT, answers: ['12'], reply: '12 million', correct: false },
  { name: 'percent divides the reply by 100', cite: PCT, answers: ['45'], reply: '45%', correct: false },
  {
    name: 'percent reply against a fraction answer',
    cite: PCT,
    answers: ['0.45'],
    reply: '45%',
    correct: true,
  },
  { name: 'percent on both sides', cite: PCT, answers: ['45%'], reply: '44%', correct: true },
  { name: 'space before the percent sign', cite: PCT, answers: ['0.3'], reply: '30 %', correct: true },
  { name: 'gold 0 compares as text: 0.0 is wrong', cite: TXT, answers: ['0'], reply: '0.0', correct: false },
  { name: 'gold 0 compares as text: 0 is right', cite: TXT, answers: ['0'], reply: '0', correct: true },
  { name: 'years are numbers too', cite: NUM, answers: ['2017'], reply: '2018', correct: true },
  { name: 'text ignores case', cite: TXT, answers: ['Yes'], reply: 'yes', correct: true },
  { name: 'text keeps punctuation', cite: TXT, answers: ['Yes'], reply: 'Yes.', correct: false },
  { name: 'reply is stripped', cite: STRIP, answers: ['Brazil'], reply: '  Brazil\n', correct: true },
  {
    name: 'inner spacing matters for text',
    cite: TXT,
    answers: ['South Korea'],
    reply: 'South  Korea',
    correct: false,
  },
  {
    name: 'a sentence around the number is wrong',
    cite: TXT,
    answers: ['17'],
    reply: 'The answer is 17',
    correct: false,
  },
  { name: 'nan never within 5%', cite: NUM, answers: ['5'], reply: 'nan', correct: false },
  { name: 'infinity is a float but far off', cite: NUM, answers: ['5'], reply: 'inf', correct: false },
  {
    name: 'second accepted answer matches',
    cite: MAX,
    answers: ['Canada', '12'],
    reply: '12.3',
    correct: true,
  },
  { name: 'leading plus sign', cite: NUM, answers: ['7'], reply: '+7', correct: true },
  { name: 'trailing dot float', cite: NUM, answers: ['7'], reply: '7.', correct: true },
];
