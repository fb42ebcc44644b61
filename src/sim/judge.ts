import type { SimContext } from './context.ts';

/**
 * The simulated judge model: deterministic (a pure function of the prompt), answering in the
 * format the prompt asks for. It reads the sections of the project's prompts
 * (`[reference answer]`, `[model response]`, `[end of model response]`) and, for grading,
 * the labelled fields of CharXiv's own instruction texts (`Ground Truth:` / `Response:`,
 * or `Response 1:` / `Ground Truth 1:` in the one-pair descriptive form).
 *
 * Grading: the final answer is the text after "the answer is", else the last line of the
 * response; it scores 1 when it equals the reference after lower-casing, dropping brackets
 * and trailing punctuation, when both are the same number, or when the reference appears
 * in the response as whole words. A grading reply is JSON: `{"extracted_answer", "score"}`,
 * or `{"extract_answer_T1", "score_T1"}` when the prompt asks for those keys. Extraction
 * prompts get the final answer alone; option-matching prompts (`[options]`, "or Z") a letter. A prompt it cannot read gets a sentence (which a
 * scorer cannot read: the judge's failure path).
 */

function section(text: string, start: string, end: string): string | undefined {
  const a = text.lastIndexOf(start);
  if (a < 0) return undefined;
  const from = a + start.length;
  const b = text.indexOf(end, from);
  return text
    .slice(from, b < 0 ? undefined : b)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

/** Reference answer and response of a grading prompt, in any of the formats it knows. */
export function gradingFields(prompt: string): { reference: string; response: string } | undefined {
  const reference = section(prompt, '[reference answer]\n', '\n[model response]');
  const response = section(prompt, '[model response]\n', '\n[end of model response]');
  if (reference !== undefined && response !== undefined) return { reference, response };
  const pair = /Response 1:([^\n]*)\nGround Truth 1:([^\n]*)/.exec(prompt);
  if (pair) return { response: (pair[1] as string).trim(), reference: (pair[2] as string).trim() };
  const gt = [...prompt.matchAll(/\* Ground Truth:([^\n]*)\n\s*\* Response:([^\n]*)/g)].pop();
  if (gt) return { reference: (gt[1] as string).trim(), response: (gt[2] as string).trim() };
  return undefined;
}

/** The final answer a careful reader takes from a response. */
export function finalAnswer(response: string): string {
  const text = response.trim();
  if (text === '') return '';
  const said = [...text.matchAll(/answer is:?\s*([^\n]+)/gi)].pop();
  const line = said
    ? (said[1] as string)
    : (text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .pop() ?? '');
  return line
    .trim()
    .replace(/[.。]+$/, '')
    .replace(/^["'`]+|["'`]+$/g, '')
    .trim();
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[()[\]{}"'`]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[.,;:!]+$/, '')
    .trim();

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** 1 when the response's answer matches the reference (see the module comment). */
export function simGrade(reference: string, response: string): { extracted: string; score: 0 | 1 } {
  const extracted = finalAnswer(response);
  const a = norm(extracted);
  const r = norm(reference);
  if (a === '' || r === '') return { extracted, score: 0 };
  const na = Number(a.replace(/,/g, ''));
  const nr = Number(r.replace(/,/g, ''));
  const sameNumber = a !== '' && Number.isFinite(na) && Number.isFinite(nr) && na === nr;
  const words = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegex(r)}($|[^\\p{L}\\p{N}])`, 'u');
  return { extracted, score: a === r || sameNumber || words.test(norm(response)) ? 1 : 0 };
}

/**
 * Option matching: the letter the final answer names, else the one option whose text the
 * response contains (case ignored), else Z.
 */
export function simMatch(options: string, response: string): string {
  const list = options
    .split('\n')
    .map((l) => /^\(?([A-Z])[.)]\s*(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ label: m[1] as string, text: (m[2] as string).toLowerCase() }));
  const answer = finalAnswer(response).replace(/^\(|\)$/g, '');
  const named = list.find((o) => o.label === answer.toUpperCase() && answer.length === 1);
  if (named) return named.label;
  const lower = response.toLowerCase();
  const hits = list.filter((o) => o.text !== '' && lower.includes(o.text));
  return hits.length === 1 ? (hits[0]?.label as string) : 'Z';
}

/** The simulated judge's reply to a request. */
export function judgeReply(ctx: SimContext): string {
  const prompt = ctx.messages.filter((m) => m.role === 'user').pop()?.text ?? '';
  const fields = gradingFields(prompt);
  if (fields) {
    const { extracted, score } = simGrade(fields.reference, fields.response);
    return prompt.includes('score_T1')
      ? JSON.stringify({ extract_answer_T1: extracted, score_T1: score })
      : JSON.stringify({ extracted_answer: extracted, score });
  }
  const response = section(prompt, '[model response]\n', '\n[end of model response]');
  const options = section(prompt, '[options]\n', '\n[model response]');
  if (response !== undefined && options !== undefined && prompt.includes('or Z'))
    return simMatch(options, response);
  if (response !== undefined) return finalAnswer(response);
  return 'I am a simulated judge and could not find what to grade in this prompt.';
}
