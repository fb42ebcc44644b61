import { pyStrip } from './py.ts';

/**
 * lmms-eval's shared multiple-choice letter extraction (lmms_eval/tasks/_task_utils/
 * mcq_extract.py extract_mcq_answer), rule for rule: every choice letter seen in a known
 * format becomes a candidate, and the highest-priority format wins, the later position
 * breaking ties. Formats, best first: the reply starts with the letter (not followed by a
 * letter), ends with it, an answer phrase followed (anywhere later) by the capital letter,
 * "(A)", "A.", "A:", "A)", "A ". Only when none is found does any occurrence of a capital
 * choice letter count, the last one winning.
 */

const ANSWER_PHRASES = [
  'the answer is',
  'answer is',
  'the correct answer is',
  'correct answer is',
  'the best answer is',
  'best answer is',
  'the correct option is',
  'correct option is',
  'the best option is',
  'best option is',
  'the choice is',
  'choice is',
  'the correct choice is',
  'correct choice is',
  'i choose',
  'i select',
  'i pick',
  'my answer is',
  'my choice is',
  '옵션',
  '정답은',
  '답은',
  '답:',
  '答案是',
  '答案为',
  '选',
  '答えは',
];

const PRIORITY = {
  start: 10,
  end: 9,
  phrase: 7,
  parentheses: 6,
  period: 5,
  colon: 4,
  right_paren: 3,
  space: 2,
  fallback: 0,
} as const;
type Format = keyof typeof PRIORITY;

interface Candidate {
  letter: string;
  position: number;
  format: Format;
}

const isAlpha = (ch: string | undefined) => ch !== undefined && /^\p{L}$/u.test(ch);
const DEFAULT_CHOICES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

/** The padded text the upstream search runs on: stripped, then edge punctuation stripped one kind at a time. */
function padded(response: string): string {
  let text = pyStrip(response);
  for (const ch of [',', '.', '!', '?', ';', ':', "'", '"']) text = pyStrip(text, ch);
  return ` ${text} `;
}

function markedCandidates(text: string, choices: string[]): Candidate[] {
  const out: Candidate[] = [];
  const marks: Array<[Format, (c: string) => string]> = [
    ['parentheses', (c) => `(${c})`],
    ['period', (c) => `${c}.`],
    ['colon', (c) => `${c}:`],
    ['right_paren', (c) => `${c})`],
    ['space', (c) => `${c} `],
  ];
  for (const [format, mark] of marks) {
    for (const c of choices) {
      const at = text.lastIndexOf(mark(c));
      if (at >= 0) out.push({ letter: c, position: at, format });
    }
  }
  const lower = text.toLowerCase();
  for (const phrase of ANSWER_PHRASES) {
    const idx = lower.indexOf(phrase);
    if (idx < 0) continue;
    for (const c of choices) {
      const at = text.indexOf(c, idx + phrase.length);
      if (at >= 0) out.push({ letter: c, position: at, format: 'phrase' });
    }
  }
  return out;
}

function edgeCandidates(text: string, choices: string[]): Candidate[] {
  const out: Candidate[] = [];
  const s = pyStrip(text);
  const points = [...s]; // Python indexes code points
  for (const c of choices) {
    if (s.startsWith(c) && (points.length === 1 || !isAlpha(points[1])))
      out.push({ letter: c, position: 0, format: 'start' });
  }
  for (const c of choices) {
    if (s.endsWith(c) && (points.length === 1 || !isAlpha(points[points.length - 2])))
      out.push({ letter: c, position: text.length - 1, format: 'end' });
  }
  return out;
}

/** extract_mcq_answer: the chosen letter, or '' when none is found. */
export function extractMcqAnswer(response: string, choices: string[] = DEFAULT_CHOICES): string {
  if (pyStrip(response) === '') return '';
  const all = choices.length > 0 ? choices : DEFAULT_CHOICES;
  const text = padded(response);
  const candidates = [...markedCandidates(text, all), ...edgeCandidates(text, all)];
  if (candidates.length === 0) {
    for (const c of all) {
      const at = text.lastIndexOf(c);
      if (at >= 0) candidates.push({ letter: c, position: at, format: 'fallback' });
    }
  }
  let best: Candidate | undefined;
  for (const cand of candidates) {
    if (
      !best ||
      PRIORITY[cand.format] > PRIORITY[best.format] ||
      (PRIORITY[cand.format] === PRIORITY[best.format] && cand.position > best.position)
    )
      best = cand;
  }
  return best?.letter ?? '';
}
