import { show } from '../types.ts';
import { extractMcqAnswer } from './mcq-extract.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * ERQA, as lmms-eval scores it (lmms_eval/tasks/erqa/utils.py erqa_process_results): the
 * letter extract_mcq_answer finds among A–D must equal the answer letter. Option text is
 * never matched; a reply with no letter has no answer.
 */
export const erqaOfficial: OfficialScorer = {
  name: 'erqa',
  source: 'EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/erqa/utils.py',
  score(item, prediction) {
    const letter = extractMcqAnswer(prediction, ['A', 'B', 'C', 'D']);
    const gold = item.answers[0] ?? '';
    if (letter === '') return officialVerdict(false, null, `no choice letter A–D in ${show(prediction)}`);
    const ok = letter === gold;
    return officialVerdict(ok, letter, `chose ${letter}; answer ${gold}`);
  },
};
