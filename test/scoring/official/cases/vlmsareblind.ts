import type { OfficialCase } from '../helpers.ts';

const P = 'lmms_eval/tasks/vlmsareblind/utils.py parse_response';
const EQ =
  'lmms_eval/tasks/vlmsareblind/utils.py vlmsareblind_process_results: parsed == groundtruth.strip().lower()';
const t = (task: string) => ({ task });
const TOUCH = t('Touching Circles');
const LINES = t('Line Plot Intersections');
const SQUARES = t('Nested Squares');
const LETTER = t('Circled Letter');
const BLANK = t('Counting Grid - Blank Grids');
const WORDS = t('Counting Grid - Word Grids');
const SUBWAY = t('Subway Connections');
const RINGS = t('Olympic Counting - Circles');

export const vlmsareblindCases: OfficialCase[] = [
  {
    name: 'touching: yes',
    cite: `${P}: touching circles, reply in [yes, no]`,
    extra: TOUCH,
    answers: ['Yes'],
    reply: 'Yes',
    correct: true,
  },
  {
    name: 'touching: yes with a full stop is no answer',
    cite: `${P}: touching circles`,
    extra: TOUCH,
    answers: ['Yes'],
    reply: 'Yes.',
    correct: false,
  },
  {
    name: 'touching: braces are no answer',
    cite: `${P}: touching circles`,
    extra: TOUCH,
    answers: ['No'],
    reply: '{No}',
    correct: false,
  },
  {
    name: 'touching: surrounding spaces',
    cite: `${P}: strip().lower()`,
    extra: TOUCH,
    answers: ['No'],
    reply: '  NO\n',
    correct: true,
  },
  {
    name: 'intersections: {2}',
    cite: `${P}: \\{?(\\d+)\\}?`,
    extra: LINES,
    answers: ['2'],
    reply: '{2}',
    correct: true,
  },
  {
    name: 'intersections: bare number',
    cite: `${P}: \\{?(\\d+)\\}?`,
    extra: LINES,
    answers: ['2'],
    reply: '2',
    correct: true,
  },
  {
    name: 'intersections: first number in a sentence wins',
    cite: `${P}: first match`,
    extra: LINES,
    answers: ['1'],
    reply: 'The 2 lines meet at {1} point',
    correct: false,
  },
  {
    name: 'intersections: number word is no answer',
    cite: `${P}: digits only`,
    extra: LINES,
    answers: ['2'],
    reply: 'two',
    correct: false,
  },
  {
    name: 'nested squares: number',
    cite: `${P}: nested squares`,
    extra: SQUARES,
    answers: ['4'],
    reply: 'There are {4} squares',
    correct: true,
  },
  {
    name: 'subway: zero paths',
    cite: `${P}: subway connections`,
    extra: SUBWAY,
    answers: ['0'],
    reply: '{0}',
    correct: true,
  },
  {
    name: 'olympic rings: leading zeros kept',
    cite: EQ,
    extra: RINGS,
    answers: ['5'],
    reply: '{05}',
    correct: false,
  },
  {
    name: 'circled letter: {b}',
    cite: `${P}: \\{?([a-z])\\}?`,
    extra: LETTER,
    answers: ['b'],
    reply: '{b}',
    correct: true,
  },
  {
    name: 'circled letter: upper case is lowered',
    cite: `${P}: lower()`,
    extra: LETTER,
    answers: ['b'],
    reply: 'B',
    correct: true,
  },
  {
    name: 'circled letter: sentence reads its first letter',
    cite: `${P}: first [a-z]`,
    extra: LETTER,
    answers: ['b'],
    reply: 'The circled letter is {b}',
    correct: false,
  },
  {
    name: 'circled letter: digit is no answer',
    cite: `${P}: [a-z]`,
    extra: LETTER,
    answers: ['b'],
    reply: '{1}',
    correct: false,
  },
  {
    name: 'grid: {3}{4}',
    cite: `${P}: \\{(\\d+)\\}\\s*\\{(\\d+)\\}`,
    extra: BLANK,
    answers: ['3,4'],
    reply: '{3}{4}',
    correct: true,
  },
  {
    name: 'grid: {3} {4}',
    cite: `${P}: \\s* between braces`,
    extra: WORDS,
    answers: ['3,4'],
    reply: '{3} {4}',
    correct: true,
  },
  {
    name: 'grid: (3, 4)',
    cite: `${P}: \\((\\d+)\\s*,\\s*(\\d+)\\)`,
    extra: BLANK,
    answers: ['3,4'],
    reply: '(3, 4)',
    correct: true,
  },
  {
    name: 'grid: rows={3} columns={4}',
    cite: `${P}: rows=\\{(\\d+)\\}\\scolumns=\\{(\\d+)\\}`,
    extra: BLANK,
    answers: ['3,4'],
    reply: 'Rows={3} Columns={4}',
    correct: true,
  },
  {
    name: 'grid: rows=3 columns=4 without braces is no answer',
    cite: `${P}: counting grid`,
    extra: BLANK,
    answers: ['3,4'],
    reply: 'rows=3 columns=4',
    correct: false,
  },
  {
    name: 'grid: 3 rows and 4 columns is no answer',
    cite: `${P}: counting grid`,
    extra: WORDS,
    answers: ['3,4'],
    reply: '3 rows and 4 columns',
    correct: false,
  },
  {
    name: 'grid: rows and columns swapped',
    cite: EQ,
    extra: BLANK,
    answers: ['3,4'],
    reply: '{4}{3}',
    correct: false,
  },
  {
    name: 'unknown task has no parser',
    cite: `${P}: returns None`,
    extra: t('Something Else'),
    answers: ['2'],
    reply: '2',
    correct: false,
  },
  {
    name: 'intersections: non-ASCII digits are digits',
    cite: `${P}: \\d is Unicode in Python`,
    extra: LINES,
    answers: ['٣'],
    reply: '{٣}',
    correct: true,
  },
];
