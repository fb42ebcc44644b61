import type { Item } from '../../core/items.ts';
import type { CharxivInstructions } from '../../core/judge.ts';

/**
 * The judge prompt for one CharXiv reply, from the benchmark's grading rules
 * (princeton-nlp/CharXiv src/reasoning_utils.py, src/descriptive_utils.py, rules in
 * src/constants.py). The wording here is the project's own; with a user's checkout the
 * benchmark's own instruction texts are used instead (see src/importers/charxiv-instructions.ts).
 *
 * Facts carried over: reasoning questions are graded by instruction category (1 text in the
 * chart, 2 text in general, 3 number in the chart, 4 number in general; 3 and 4 share one
 * rule); descriptive questions by their template id (1–19), each template mapped to one rubric
 * (title, ocr, quant, bool, enum, trend, layout); the judge extracts the final answer and
 * gives a binary score as JSON; an empty response scores 0. Upstream grades descriptive
 * replies five at a time; here each reply is graded alone (the one-pair form of the same
 * rubric), so a verdict never depends on which other replies share its batch.
 */

export type CharxivTask =
  | { kind: 'reasoning'; category: 1 | 2 | 3 | 4 }
  | { kind: 'descriptive'; template: number; rubric: Rubric };

export type Rubric = 'title' | 'ocr' | 'quant' | 'bool' | 'enum' | 'trend' | 'layout';

/** Descriptive template id → rubric (src/descriptive_utils.py get_rubric). */
export function rubricOf(template: number): Rubric | undefined {
  if (template === 1) return 'title';
  if (template >= 2 && template <= 7) return 'ocr';
  if ([8, 9, 10, 12, 14, 15, 17, 19].includes(template)) return 'quant';
  if (template === 11) return 'bool';
  if (template === 13) return 'enum';
  if (template === 16) return 'trend';
  if (template === 18) return 'layout';
  return undefined;
}

const intOf = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
};

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?$/;

/**
 * Which rule grades the item: a descriptive template (`extra.qid` / `extra.template_id`, with
 * `extra.question_kind` or `extra.mode` saying descriptive), else the reasoning category
 * (`extra.inst_category`), else guessed from the answer: a number is graded as a number
 * (categories 3/4 share the rule), anything else as text in the chart (category 1).
 */
export function charxivTask(item: Item): CharxivTask {
  const x = item.extra;
  const kind = String(x.question_kind ?? x.mode ?? x.split ?? '').toLowerCase();
  const template = intOf(x.template_id ?? x.qid);
  if (kind.includes('descriptive') && template !== undefined) {
    const rubric = rubricOf(template);
    if (rubric) return { kind: 'descriptive', template, rubric };
  }
  const category = intOf(x.inst_category);
  if (category === 1 || category === 2 || category === 3 || category === 4)
    return { kind: 'reasoning', category };
  return { kind: 'reasoning', category: NUMBER.test((item.answers[0] ?? '').trim()) ? 3 : 1 };
}

const NOT_APPLICABLE =
  '- If the reference answer is "Not Applicable", score 1 only when the response also says the question does not apply.';

/** The project's wording of each rule. */
const RULES: Record<'text' | 'general' | 'number' | Rubric, string[]> = {
  text: [
    '- Score 1 only when the final answer names the same term(s) as the reference answer. Notation may differ (a Greek letter as a symbol or spelled out, LaTeX or plain sub- and superscripts), and when several terms are asked for their order does not matter.',
    '- Score 0 when any term differs, even by a single character of a label or an identifier (for example "Net-2" and "Net2+").',
  ],
  general: [
    '- When the question offers options, score 1 only if the final answer is exactly the reference option, otherwise 0.',
    '- Without options, score 1 when the final answer means the same as the reference (for example "rises, then falls" and "goes up and then down"), and 0 when its meaning differs (for example "converges" and "diverges").',
  ],
  number: [
    '- Score 1 only when the final answer and the reference are the same number. Notation may differ (2.5e3 and 2500; 0.1 and 10^-1); an approximate value is a different value.',
  ],
  title: [
    '- Score 1 only when the extracted title names the same thing as the reference, allowing differences of notation or form and a missing subplot prefix such as "(c)".',
    '- Score 0 when any word of it differs.',
    NOT_APPLICABLE,
  ],
  ocr: [
    '- Score 1 only when the extracted text refers to the same term as the reference, allowing differences of notation (symbols, LaTeX); when the reference is a number, the value must be identical (1.0 and 1.00 are the same).',
    '- Score 0 when any term differs or the value differs.',
    NOT_APPLICABLE,
  ],
  quant: ['- Score 1 only when the extracted number has exactly the value of the reference.', NOT_APPLICABLE],
  bool: ['- Score 1 only when the extracted yes/no answer is the reference answer.', NOT_APPLICABLE],
  enum: [
    '- Score 1 only when the extracted list names the same terms as the reference, in the same order, allowing differences of notation.',
    '- Score 0 when a term is missing, added, different or out of order.',
    NOT_APPLICABLE,
  ],
  trend: ['- Score 1 when the extracted description gives the same overall trend as the reference, else 0.'],
  layout: [
    '- Score 1 only when the extracted layout has the same numbers of rows and columns ("rows by columns").',
  ],
};

/** What the descriptive templates ask (the project's short form of each template's question). */
const TEMPLATE_QUESTIONS: Record<number, string> = {
  1: 'the title of the plot',
  2: 'the label of the x-axis',
  3: 'the label of the y-axis',
  4: 'the leftmost labelled tick on the x-axis',
  5: 'the rightmost labelled tick on the x-axis',
  6: 'the lowest labelled tick on the y-axis',
  7: 'the highest labelled tick on the y-axis',
  8: 'the difference between consecutive numerical ticks on the x-axis',
  9: 'the difference between consecutive numerical ticks on the y-axis',
  10: 'the number of lines',
  11: 'whether any lines intersect',
  12: 'the number of discrete labels in the legend',
  13: 'the names of the legend labels (top to bottom, then left to right)',
  14: 'the difference between the largest and smallest tick labels of the colour bar',
  15: 'the largest tick label of the colour bar',
  16: 'the general trend of the data from left to right',
  17: 'the total number of labelled ticks across all axes',
  18: 'the layout of the subplots',
  19: 'the number of subplots',
};

function ruleLines(task: CharxivTask): string[] {
  if (task.kind === 'descriptive') return RULES[task.rubric];
  if (task.category === 1) return RULES.text;
  if (task.category === 2) return RULES.general;
  return RULES.number;
}

/** The project's own grading prompt. Section markers are fixed: the simulated judge reads them. */
export function projectCharxivPrompt(item: Item, task: CharxivTask, response: string): string {
  const about =
    task.kind === 'descriptive'
      ? `The question asks for ${TEMPLATE_QUESTIONS[task.template] ?? 'a property of the chart'}.`
      : 'The question asks about a chart from a scientific paper.';
  return [
    'Grade one model response to a question about a chart (CharXiv).',
    `${about} Find the final answer in the model response, compare it with the reference answer and score it 1 (correct) or 0 (wrong). Do not explain.`,
    'If the model response is empty, leave the extracted answer empty and score 0.',
    '',
    'Rules:',
    ...ruleLines(task),
    '',
    'Reply with a single JSON object and nothing else: {"extracted_answer": "<the final answer of the response>", "score": <0 or 1>}',
    '',
    '[question]',
    item.question,
    '[reference answer]',
    item.answers[0] ?? '',
    '[model response]',
    response,
    '[end of model response]',
  ].join('\n');
}

/** The benchmark's own prompt, built from the instruction texts of a user's checkout as upstream does. */
export function upstreamCharxivPrompt(
  item: Item,
  task: CharxivTask,
  response: string,
  texts: CharxivInstructions,
): string {
  const answer = item.answers[0] ?? '';
  if (task.kind === 'reasoning') {
    const inst = texts.reasoning[task.category];
    if (inst === undefined) throw new Error(`${texts.source}: no reasoning instruction ${task.category}`);
    return (
      texts.reasoningPrefix +
      inst
        .replaceAll('<|question|>', item.question)
        .replaceAll('<|ground_truth|>', answer)
        .replaceAll('<|response|>', response)
    );
  }
  const rubric = texts.rubrics[task.rubric];
  const question = texts.descriptiveQuestions[task.template];
  if (rubric === undefined || question === undefined)
    throw new Error(`${texts.source}: no rubric or question for descriptive template ${task.template}`);
  const prefix = texts.descriptivePrefix
    .replaceAll('<|NUM_TRIPLETS|>', '1')
    .replaceAll('<|OVERARCHING_QUESTION|>', question)
    .replaceAll('<|JSON_KEYS|>', "['extract_answer_T1', 'score_T1']");
  return `${prefix}${rubric}T1:\nResponse 1: ${response}\nGround Truth 1: ${answer}\n\n`;
}

/** The grading prompt: the benchmark's own texts when given, else the project's. */
export function charxivPrompt(
  item: Item,
  response: string,
  texts?: CharxivInstructions,
): { prompt: string; task: CharxivTask; instructions: 'project' | 'upstream' } {
  const task = charxivTask(item);
  return texts
    ? { prompt: upstreamCharxivPrompt(item, task, response, texts), task, instructions: 'upstream' }
    : { prompt: projectCharxivPrompt(item, task, response), task, instructions: 'project' };
}
