import { PermanentError } from '../../core/errors.ts';
import { show } from '../types.ts';
import { pyInt } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * TallyQA, as VLMEvalKit scores it (vlmeval/dataset/utils/tallyqa.py text_to_int, used by
 * TallyQA.evaluate in vlmeval/dataset/image_vqa.py): the reply, lower-cased, gives the first
 * whole word that is a number from 0 to 20, in digits or in English words ("zero" … "twenty");
 * it must equal the answer. Word boundaries are Python's Unicode ones, so "-3" gives 3, "3.7"
 * gives 3, "25" gives nothing and a later "4" is never read once an earlier count was found.
 * Replies are text here; the upstream numeric branch (a spreadsheet cell read as a number)
 * does not arise.
 */

const WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
  'twenty',
];

// Python's \b in a str pattern: word characters are Unicode letters, numbers and "_".
const B_BEFORE = '(?<![\\p{L}\\p{N}_])';
const B_AFTER = '(?![\\p{L}\\p{N}_])';
const COUNT = new RegExp(
  `(${B_BEFORE}([0-9]|1[0-9]|20)${B_AFTER}|${B_BEFORE}(${WORDS.join('|')})${B_AFTER})`,
  'u',
);

/** text_to_int for a text reply: the first count 0–20, or null. */
export function tallyCount(reply: string): number | null {
  const m = COUNT.exec(reply.toLowerCase());
  if (!m) return null;
  const found = m[0];
  return /^[0-9]+$/.test(found) ? Number(found) : WORDS.indexOf(found);
}

export const tallyqaOfficial: OfficialScorer = {
  name: 'tallyqa',
  source: 'open-compass/VLMEvalKit vlmeval/dataset/utils/tallyqa.py',
  score(item, prediction) {
    const gold = pyInt(item.answers[0] ?? '');
    if (gold === null)
      throw new PermanentError(`TallyQA item ${item.id}: answer "${item.answers[0]}" is not an integer`);
    const count = tallyCount(prediction);
    if (count === null) return officialVerdict(false, null, `no count from 0 to 20 in ${show(prediction)}`);
    const ok = count === gold;
    return officialVerdict(ok, String(count), `first count ${count} ${ok ? '=' : '≠'} ${gold}`);
  },
};
