import { answerTagContent } from '../extract.ts';

/**
 * What an official scorer is given: the reply a benchmark's own harness would record as the
 * model's prediction. Maestro-style outputs put the reply in a final `<answer>` tag after their
 * reasoning, so the last tag's content is the reply; without a tag, the whole output less any
 * `<think>…</think>` blocks and anything before a lone `</think>` (the reasoning a chat
 * template would hide). Nothing else is
 * cleaned: trimming, case and extraction are the scorer of record's business.
 */
export function officialPrediction(raw: string): string {
  const tagged = answerTagContent(raw);
  if (tagged !== null) return tagged;
  return stripThink(raw);
}

function stripThink(raw: string): string {
  const lower = raw.toLowerCase();
  let out = '';
  let at = 0;
  for (;;) {
    const open = lower.indexOf('<think>', at);
    if (open < 0) break;
    const close = lower.indexOf('</think>', open);
    out += raw.slice(at, open);
    if (close < 0) return out;
    at = close + '</think>'.length;
  }
  const rest = out + raw.slice(at);
  // A reply whose opening tag was part of the prompt template keeps only a closing one.
  const stray = rest.toLowerCase().lastIndexOf('</think>');
  return stray >= 0 ? rest.slice(stray + '</think>'.length) : rest;
}
