/**
 * What the public release's agent loop keeps of each generation, as text rules. The parts
 * that need the policy's tokenizer (cutting the first step's reasoning to its last 200
 * tokens, keeping the generation's last tokens) are described here and carried out by the
 * policy, which has the tokenizer; everything else is decided here, without I/O.
 */

export const TURN_END = '<|im_end|>';
/** Tokens of reasoning kept before the first `<search>` of step 0. */
export const STEP0_PREFIX_TOKENS = 200;

export type ReleaseKeep =
  /** Thrown away: the step is used up and the policy samples again from the same context. */
  | { kind: 'resample' }
  /** Step 0: the reasoning before the first `<search>` (cut to its last 200 tokens), then every search block. */
  | { kind: 'prefix-search'; prefix: string; search: string }
  /** Steps ≥ 1: as many of the generation's last tokens as `block` + turn end has. */
  | { kind: 'tail'; block: string }
  /** Steps ≥ 2 (or a block the rules cannot find): the whole generation. */
  | { kind: 'whole' };

const has = (text: string, tag: string) => text.includes(`<${tag}>`) && text.includes(`</${tag}>`);

/** The last complete `<tag>…</tag>` block (shortest match, scanning left to right). */
export function lastBlock(text: string, tag: 'search' | 'answer'): string | undefined {
  const re = new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`, 'g');
  let last: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m[0];
  return last;
}

/** Steps ≥ 1 look only at what follows the first `</think>`. */
export function afterThink(text: string): string {
  const at = text.indexOf('</think>');
  return at < 0 ? text : text.slice(at + '</think>'.length);
}

/**
 * Which part of generation `step` the loop keeps. Step 0 must hold a complete search
 * block; step 1 a search or an answer block (search first); later steps keep an answer
 * block, else a search block, else everything.
 */
export function releaseKeep(step: number, generation: string): ReleaseKeep {
  if (step === 0) {
    if (!has(generation, 'search')) return { kind: 'resample' };
    const start = generation.indexOf('<search>');
    const end = generation.lastIndexOf('</search>') + '</search>'.length;
    return {
      kind: 'prefix-search',
      prefix: generation.slice(0, start),
      search: generation.slice(start, end),
    };
  }
  const text = afterThink(generation);
  const order: Array<'search' | 'answer'> = step === 1 ? ['search', 'answer'] : ['answer', 'search'];
  const tag = order.find((t) => has(text, t));
  if (!tag) return step === 1 ? { kind: 'resample' } : { kind: 'whole' };
  const block = lastBlock(text, tag);
  // Both tags present but no well-formed block (e.g. `</search> … <search>`): step 1 throws
  // it away only when it has no answer either; the loop keeps the text as it is otherwise.
  if (block === undefined) return step === 1 && tag === 'answer' ? { kind: 'resample' } : { kind: 'whole' };
  return { kind: 'tail', block };
}

export type ReleaseAction =
  | { kind: 'answer'; answer: string }
  /**
   * A call of the first search block; `content` is null when the text has no well-formed
   * block before its first `</search>` (the loop then calls nothing and appends an empty
   * observation).
   */
  | { kind: 'search'; content: string | null }
  /** The policy ended the trajectory without an answer. */
  | { kind: 'stop' };

/**
 * What the loop does after a step. `extracted` is the text the rules produced (the block
 * plus the turn end, or the generation); `kept` is the decoded text of the tokens kept.
 * An answer in `extracted` ends the trajectory; otherwise a `<search>` in `kept` without
 * an `<answer>` calls the first search block of its text up to the first `</search>`.
 */
export function releaseAction(extracted: string, kept: string): ReleaseAction {
  if (extracted.includes('</answer>')) {
    const block = lastBlock(extracted, 'answer');
    return {
      kind: 'answer',
      answer: block ? block.slice('<answer>'.length, -'</answer>'.length).trim() : '',
    };
  }
  if (!kept.includes('<search>') || kept.includes('<answer>')) return { kind: 'stop' };
  const action = `${kept.split('</search>')[0]}</search>`;
  const m = /<search>([\s\S]*?)<\/search>/.exec(action);
  return { kind: 'search', content: m ? (m[1] ?? '') : null };
}

/** An observation as the loop appends it to the policy's context. */
export function observationSegment(observation: string): string {
  return `<|im_start|>user<information>${observation}</information>${TURN_END}`;
}
