import type { Choices } from '../official/can-infer.ts';
import { canInfer } from '../official/can-infer.ts';
import { UnreadableJudgeReply } from './verdict.ts';

/**
 * VLMEvalKit's answer matching for multiple choice (vlmeval/dataset/utils/multiple_choice.py
 * extract_answer_from_item): a reply the rules (can_infer) cannot read is shown to a judge
 * model with the question and the options; the judge names the option the reply means, or
 * Z when it means none of them; its reply is read with can_infer again. The wording here is
 * the project's own. The section markers are fixed: the simulated judge reads them.
 */
export function mcqMatchingPrompt(question: string, choices: Choices, reply: string): string {
  const letters = choices.map(([k]) => k).join(', ');
  return [
    'Match a model reply to one option of a single-choice question.',
    `Say which option the reply chooses or means. If it means none of the options, or refuses to answer, say Z. Reply with one capital letter only: ${letters} or Z.`,
    '',
    '[question]',
    question,
    '[options]',
    ...choices.map(([k, v]) => `${k}. ${v}`),
    '[model response]',
    reply,
    '[end of model response]',
  ].join('\n');
}

/** The option letter (or Z) in the judge's reply, read as VLMEvalKit reads it; else unreadable. */
export function readOptionLetter(choices: Choices): (reply: string) => string {
  return (reply) => {
    const opt = canInfer(reply, choices);
    if (opt === null) throw new UnreadableJudgeReply('the judge named no option', reply);
    return opt;
  };
}
