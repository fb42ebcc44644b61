import { PermanentError } from '../../core/errors.ts';
import { show } from '../types.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * MicroVQA, as its own evaluation scores it (jmhb0/microvqa eval/eval.py eval_qa): the
 * official prompt numbers the options (1), (2), … and asks for "The answer is (X)". The first
 * `answer is` (lower case, as written) followed by an optional `**`, an optional "(" and ONE
 * digit gives the 1-based option; it must be the correct option. "Answer is" with a capital,
 * "answer is: 2" and option text give no answer (-1, wrong); "answer is 10" reads 1.
 * The project's prompt labels the options A, B, … and asks for the label, so a reply that is
 * only a label ("B", "(B)") names that option; inside a longer reply letters give no answer.
 */

const REGEX = /answer is \*?\*?\(?([0-9])\)?\*?\*?/;
/** A reply that is only an option label, as the project's prompt asks for: "B", "(B)", "B.". */
const LABEL_ONLY = /^\s*\(?([A-H])\)?\.?\s*$/;

/** The 0-based option the reply names, or -1 (eval.py's "bad response"). */
export function microvqaPred(response: string): number {
  const m = REGEX.exec(response);
  return m ? Number(m[1]) - 1 : -1;
}

/**
 * The 0-based option of a reply to the project's prompt, which labels the options A, B, …
 * where MicroVQA's own prompt numbers them (1), (2), …: a reply that is only a label names
 * that option (as "The answer is (n)" would); any other reply is read by eval.py's rule.
 */
export function microvqaPredLabelled(response: string, labels: readonly string[]): number {
  const m = LABEL_ONLY.exec(response);
  if (m) return labels.indexOf(m[1] as string);
  return microvqaPred(response);
}

export const microvqaOfficial: OfficialScorer = {
  name: 'microvqa',
  source: 'jmhb0/microvqa eval/eval.py',
  score(item, prediction) {
    const options = item.options ?? [];
    const gt = options.findIndex((o) => o.label === item.answers[0]);
    if (gt < 0)
      throw new PermanentError(
        `MicroVQA item ${item.id}: answer "${item.answers[0]}" is not an option label`,
      );
    const pred = microvqaPredLabelled(
      prediction,
      options.map((o) => o.label),
    );
    if (pred < 0) return officialVerdict(false, null, `no "answer is (n)" in ${show(prediction)}`);
    const ok = pred === gt;
    return officialVerdict(ok, String(pred + 1), `option (${pred + 1}); correct (${gt + 1})`);
  },
};
