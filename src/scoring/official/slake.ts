import { show } from '../types.ts';
import { isPySpace, pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * SLAKE, as lmms-eval scores it (lmms_eval/tasks/slake/utils.py normalize_answer, then
 * equality in slake_process_results): reply and answer are stripped and lower-cased;
 * bracketed asides "( … )" and "（ … ）" are removed; ASCII and Chinese punctuation become
 * spaces; whitespace runs collapse; "x ray"/"xray" become "xray"; yes-words (yes, yeah, yep,
 * true, and the Chinese set) become "yes" and no-words "no". The two must then be equal:
 * "left" is not "left lung". The published English score is the `slake_en` task (q_lang
 * "en"); which items are imported is the importer's business.
 */

const ASCII_PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const ZH_PUNCT = '！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～、，。；：《》？【】（）';
const PUNCT = new Set([...ASCII_PUNCT, ...ZH_PUNCT]);
const EN_YES = new Set(['yes', 'yeah', 'yep', 'true']);
const EN_NO = new Set(['no', 'nope', 'false']);
const ZH_YES = new Set(['是', '是的', '有', '包含', '可以', '能', '会', '正常']);
const ZH_NO = new Set(['否', '不是', '没有', '无', '不包含', '不能', '不会', '不可以', '不正常', '异常']);

/** lmms-eval's normalize_answer for SLAKE short answers. */
export function slakeNormalize(answer: string): string {
  let text = pyStrip(answer).toLowerCase();
  text = text.replace(/\([^)]*\)/g, ' ').replace(/（[^）]*）/g, ' ');
  let spaced = '';
  for (const ch of text) spaced += PUNCT.has(ch) || isPySpace(ch) ? ' ' : ch;
  text = spaced
    .split(' ')
    .filter((w) => w !== '')
    .join(' ');
  if (text === 'x ray' || text === 'xray') text = 'xray';
  if (EN_YES.has(text) || ZH_YES.has(text)) return 'yes';
  if (EN_NO.has(text) || ZH_NO.has(text)) return 'no';
  return text;
}

export const slakeOfficial: OfficialScorer = {
  name: 'slake',
  source: 'EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/slake/utils.py',
  score(item, prediction) {
    const pred = slakeNormalize(prediction);
    const gold = item.answers[0] ?? '';
    const g = slakeNormalize(gold);
    const ok = pred === g;
    return officialVerdict(ok, pred || null, `normalised ${show(pred)} ${ok ? '=' : '≠'} ${show(g)}`);
  },
};
