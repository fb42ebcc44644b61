import { hashPick } from '../core/hash.ts';
import type { SimContext } from './context.ts';

/**
 * Classification requests, as skills phrase them: a line `Options: a | b | c` and the
 * instruction to reply with one option only. A simulated expert answers them with one
 * option: the one the item's metadata names (chart type, category, task) when any does,
 * else a deterministic pick.
 */
const OPTIONS_LINE = /^Options:\s*(.+)$/m;
const ONE_OPTION = /reply with one option only/i;

export function classificationOptions(ctx: SimContext): string[] | null {
  for (let i = ctx.messages.length - 1; i >= 0; i--) {
    const text = ctx.messages[i]?.text ?? '';
    if (!ONE_OPTION.test(text)) continue;
    const m = OPTIONS_LINE.exec(text);
    const options = (m?.[1] ?? '')
      .split('|')
      .map((o) => o.trim())
      .filter(Boolean);
    return options.length > 0 ? options : null;
  }
  return null;
}

const words = (s: string) => s.toLowerCase().replace(/[_-]+/g, ' ');

/** The option to reply with. */
export function classificationReply(ctx: SimContext, options: string[]): string {
  const extra = ctx.item?.extra ?? {};
  const hints = ['chart', 'category', 'task', 'question_type', 'figure_type']
    .map((k) => extra[k])
    .filter((v): v is string => typeof v === 'string')
    .map(words);
  for (const hint of hints) {
    const hit = options.find((o) => hint.includes(words(o)) || words(o).includes(hint));
    if (hit) return hit;
  }
  return hashPick(options, ctx.seed, ctx.endpoint, ctx.requestKey, 'classify');
}
