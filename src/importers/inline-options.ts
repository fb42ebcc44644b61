/**
 * Options written inside a question's text, as some releases ship multiple-choice items:
 * V*'s `test_questions.jsonl` puts them on their own lines (`(A) white`), ERQA's TSV inline
 * after a marker (`Choices: A. Left B. Right`). The labels must run A, B, C, … in order, all in
 * the style of the first one, so a stray "A." in the stem is not taken for an option list.
 */

export interface InlineOptions {
  /** The question without the option list and the instruction after it. */
  stem: string;
  options: Array<{ label: string; text: string }>;
}

const LABELS = 'ABCDEFGH';
/** Label styles, tried in this order for option A: `(A)`, `A.`, `A)`, `A:`. */
const STYLES: Array<(l: string) => string> = [
  (l) => `\\(${l}\\)`,
  (l) => `${l}\\.`,
  (l) => `${l}\\)`,
  (l) => `${l}:`,
];
/** A marker that may precede an inline option list; removed from the stem. */
const MARKER = /(?:^|\s)(?:choices|options)\s*:\s*$/i;
/** An instruction sentence after the last option, e.g. ". Please answer directly …". */
const INSTRUCTION = /\.\s+(?=(?:please|answer|respond|choose|select|reply)\b)/i;

function labelAt(text: string, style: (l: string) => string, label: string, from: number) {
  const re = new RegExp(`(^|\\s)${style(label)}[ \\t]+`, 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m) return null;
  const start = m.index + (m[1] ?? '').length;
  return { start, textStart: m.index + m[0].length };
}

/** Splits a question into its stem and options; null when it has fewer than two options. */
export function splitInlineOptions(question: string): InlineOptions | null {
  for (const style of STYLES) {
    const first = labelAt(question, style, 'A', 0);
    if (!first) continue;
    const marks = [first];
    for (let i = 1; i < LABELS.length; i++) {
      const prev = marks[marks.length - 1] as { textStart: number };
      const next = labelAt(question, style, LABELS[i] as string, prev.textStart);
      if (!next) break;
      marks.push(next);
    }
    if (marks.length < 2) continue;
    const options = marks.map((m, i) => {
      const end = marks[i + 1]?.start ?? question.length;
      let text = question.slice(m.textStart, end);
      if (i === marks.length - 1) {
        const nl = text.indexOf('\n');
        if (nl >= 0) text = text.slice(0, nl);
        const ins = INSTRUCTION.exec(text);
        if (ins && ins.index > 0) text = text.slice(0, ins.index);
      }
      return { label: LABELS[i] as string, text: text.trim() };
    });
    if (options.some((o) => o.text === '')) continue;
    const stem = question.slice(0, first.start).replace(MARKER, '').trim();
    return { stem, options };
  }
  return null;
}
