import type { Item } from '../../core/items.ts';
import { UnreadableJudgeReply } from './verdict.ts';

/**
 * MathVista's LLM extraction step (lupantech/MathVista evaluation/extract_answer.py): when
 * the rule-based steps find no answer, a language model is shown the question and the reply
 * and writes the bare answer; calculate_score.py then normalises it. The wording here is the
 * project's own. The section markers are fixed: the simulated judge reads them.
 */
export function mathvistaExtractionPrompt(item: Item, response: string): string {
  const options = item.options ?? [];
  const hint =
    options.length > 0
      ? 'The question is multiple choice: write the text of the chosen option exactly as listed.'
      : item.extra.answer_type === 'integer'
        ? 'The answer is an integer: write the integer only.'
        : item.extra.answer_type === 'float'
          ? 'The answer is a decimal number: write the number only.'
          : item.extra.answer_type === 'list'
            ? 'The answer is a Python list: write the list only, e.g. [1, 2, 3].'
            : 'Write the answer only.';
  return [
    'Read the model response to a math question about an image and write down the final answer it gives.',
    `${hint} Copy the answer from the response; do not solve the question yourself. If the response gives no answer, write nothing.`,
    'Reply with the answer alone on one line, with no words around it.',
    '',
    '[question]',
    item.question,
    ...(options.length > 0 ? ['[options]', ...options.map((o) => `(${o.label}) ${o.text}`)] : []),
    '[model response]',
    response,
    '[end of model response]',
  ].join('\n');
}

/**
 * The extracted answer from the judge's reply: its first non-empty line, with a leading
 * "Extracted answer:" / "Answer:" label and surrounding quotes or backticks taken off. An
 * empty reply is an empty extraction (upstream keeps it too and scores it wrong); a reply
 * longer than 500 characters is not an extraction and is unreadable.
 */
export function readExtraction(reply: string): string {
  if (reply.length > 500)
    throw new UnreadableJudgeReply('the extraction is longer than 500 characters', reply);
  const line = reply.split('\n').find((l) => l.trim() !== '') ?? '';
  return line
    .trim()
    .replace(/^(?:extracted answer|final answer|answer)\s*[:：]\s*/i, '')
    .replace(/^[`"']+|[`"']+$/g, '')
    .trim();
}
