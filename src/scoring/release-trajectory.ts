import type { Item, Step } from '../core/items.ts';

/** The chat template's special tokens, dropped when the release decodes a response. */
const SPECIAL_TOKENS = /<\|(?:im_start|im_end|endoftext|vision_start|vision_end|image_pad|video_pad)\|>/g;

/**
 * A rollout's response as the release's reward manager reads it: the policy's kept turns
 * and, after each call, `user<information>…</information>`, decoded without special tokens.
 * Thrown-away generations are not part of it.
 */
export function releaseTrajectory(steps: Step[]): string {
  let out = '';
  for (const step of steps) {
    if (step.resampled) continue;
    out += step.policyText;
    if (step.observation !== undefined) out += `user<information>${step.observation}</information>`;
  }
  return out.replace(SPECIAL_TOKENS, '');
}

/**
 * The ground truth the release stores for an item: its answers; for a multiple-choice item,
 * the correct letter and that option's text.
 */
export function releaseGroundTruth(item: Item): string[] {
  const label = item.answers[0];
  const option = item.options?.find((o) => o.label === label);
  return option && label ? [label, option.text] : item.answers;
}
