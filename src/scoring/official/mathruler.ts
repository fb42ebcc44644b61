import { show } from '../types.ts';
import { extractBoxedContent, gradeAnswer } from './mathruler/grade.ts';
import { pyStrip } from './py.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * Geometry3K with the reward people use: mathruler's grade_answer (hiyouga/MathRuler
 * mathruler/grader.py) on the last \boxed{} of the reply. A reply without \boxed{} (a Maestro
 * reply already isolated from its <answer> tag) is graded whole. The sympy step is replaced by
 * an evaluator of closed-form constants (see mathruler/numeric.ts): expressions with variables
 * are not proven equal.
 */
export const mathrulerOfficial: OfficialScorer = {
  name: 'mathruler',
  source: 'hiyouga/MathRuler mathruler/grader.py',
  score(item, prediction) {
    const boxed = extractBoxedContent(prediction);
    const given = boxed === 'None' && !prediction.includes('\\boxed{') ? pyStrip(prediction) : boxed;
    const gold = item.answers[0] ?? '';
    const ok = gradeAnswer(given, gold);
    return officialVerdict(ok, given || null, `grade_answer(${show(given)}, ${show(gold)}) is ${ok}`);
  },
};
