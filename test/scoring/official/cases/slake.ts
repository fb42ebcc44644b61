import type { OfficialCase } from '../helpers.ts';

const N = 'lmms_eval/tasks/slake/utils.py normalize_answer';
const EQ = 'lmms_eval/tasks/slake/utils.py slake_process_results: pred_norm == target_norm';
const YN = 'lmms_eval/tasks/slake/utils.py _normalize_yes_no';
const AL = 'lmms_eval/tasks/slake/utils.py _normalize_medical_aliases';
const en = { q_lang: 'en' };
const zh = { q_lang: 'zh' };

export const slakeCases: OfficialCase[] = [
  { name: 'same word', cite: EQ, extra: en, answers: ['Liver'], reply: 'Liver', correct: true },
  {
    name: 'case ignored',
    cite: `${N}: lower()`,
    extra: en,
    answers: ['Liver'],
    reply: 'LIVER',
    correct: true,
  },
  {
    name: 'trailing full stop',
    cite: `${N}: punctuation → space, strip`,
    extra: en,
    answers: ['Liver'],
    reply: 'Liver.',
    correct: true,
  },
  {
    name: 'part of the answer is wrong',
    cite: EQ,
    extra: en,
    answers: ['Left Lung'],
    reply: 'left',
    correct: false,
  },
  {
    name: 'answer plus more is wrong',
    cite: EQ,
    extra: en,
    answers: ['Lung'],
    reply: 'left lung',
    correct: false,
  },
  { name: 'yeah is yes', cite: YN, extra: en, answers: ['Yes'], reply: 'yeah', correct: true },
  { name: 'True is yes', cite: YN, extra: en, answers: ['Yes'], reply: 'True', correct: true },
  { name: 'nope is no', cite: YN, extra: en, answers: ['No'], reply: 'Nope!', correct: true },
  {
    name: 'yes with a reason is not yes',
    cite: YN,
    extra: en,
    answers: ['Yes'],
    reply: 'Yes, there is',
    correct: false,
  },
  { name: 'Y is not yes', cite: YN, extra: en, answers: ['Yes'], reply: 'Y', correct: false },
  { name: 'x ray alias', cite: AL, extra: en, answers: ['X-Ray'], reply: 'x ray', correct: true },
  { name: 'xray alias', cite: AL, extra: en, answers: ['X-Ray'], reply: 'XRAY', correct: true },
  {
    name: 'bracketed aside removed',
    cite: `${N}: \\([^)]*\\) → space`,
    extra: en,
    answers: ['CT'],
    reply: 'CT (computed tomography)',
    correct: true,
  },
  {
    name: 'bracket in the gold removed too',
    cite: `${N}: \\([^)]*\\) → space`,
    extra: en,
    answers: ['T2 (MRI)'],
    reply: 'T2',
    correct: true,
  },
  {
    name: 'hyphen becomes a space',
    cite: `${N}: string.punctuation → space`,
    extra: en,
    answers: ['Left-Lower Lobe'],
    reply: 'left lower lobe',
    correct: true,
  },
  {
    name: 'spaces collapse',
    cite: `${N}: \\s+ → " "`,
    extra: en,
    answers: ['Small Bowel'],
    reply: '  small\n\tbowel ',
    correct: true,
  },
  {
    name: 'words stay in order',
    cite: EQ,
    extra: en,
    answers: ['Heart and Liver'],
    reply: 'liver and heart',
    correct: false,
  },
  { name: 'article is kept', cite: EQ, extra: en, answers: ['Brain'], reply: 'the brain', correct: false },
  { name: 'number word is not a number', cite: EQ, extra: en, answers: ['2'], reply: 'two', correct: false },
  { name: 'number', cite: EQ, extra: en, answers: ['2'], reply: '2', correct: true },
  { name: 'Chinese yes-word', cite: YN, extra: zh, answers: ['是'], reply: '是的', correct: true },
  { name: 'Chinese no-word', cite: YN, extra: zh, answers: ['否'], reply: '没有', correct: true },
  {
    name: 'Chinese full stop and brackets',
    cite: `${N}: ZH_PUNCTUATION, （…）`,
    extra: zh,
    answers: ['肝脏'],
    reply: '肝脏（器官）。',
    correct: true,
  },
  { name: 'empty reply', cite: EQ, extra: en, answers: ['Liver'], reply: '', correct: false },
];
