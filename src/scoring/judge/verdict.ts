import { MaestroError } from '../../core/errors.ts';

/** A judge reply that says no verdict this code can read (retried by the runtime, never cached). */
export class UnreadableJudgeReply extends MaestroError {
  constructor(message: string, reply: string) {
    const shown = reply.length > 200 ? `${reply.slice(0, 199)}…` : reply;
    super(`${message}: ${JSON.stringify(shown)}`, {
      hint: 'the judge must answer in the JSON format its prompt asks for; check the judge model and its maxTokens',
    });
  }
}

/** A grading verdict: the final answer the judge read from the response, and its 0/1 score. */
export interface GradingVerdict {
  extracted: string;
  score: 0 | 1;
}

/** The JSON object in a reply: the whole reply, a fenced block, or the outermost `{…}`. */
function jsonObject(reply: string): Record<string, unknown> | null {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(reply);
  const candidates = [reply.trim(), fenced?.[1]?.trim() ?? ''];
  const first = reply.indexOf('{');
  const last = reply.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(reply.slice(first, last + 1));
  for (const text of candidates) {
    if (!text.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // not JSON as a whole: try the next candidate
    }
  }
  return null;
}

function scoreOf(v: unknown): 0 | 1 | null {
  if (v === 0 || v === '0' || v === false) return 0;
  if (v === 1 || v === '1' || v === true) return 1;
  return null;
}

function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Keys that hold the score and the extracted answer, in the formats grading prompts ask for. */
const SCORE_KEYS = ['score', 'score_T1'];
const ANSWER_KEYS = ['extracted_answer', 'extract_answer', 'extract_answer_T1', 'extracted_answer_T1'];

/**
 * Reads a grading verdict: a JSON object with a score of 0 or 1 (`score`, or `score_T1` in
 * the one-pair batch format) and the extracted answer. Replies with the JSON inside a code
 * fence or after a sentence are read too; a reply with unquoted keys or a trailing comma is
 * read by its `score` field alone. Anything else throws UnreadableJudgeReply.
 */
export function readGradingVerdict(reply: string): GradingVerdict {
  const obj = jsonObject(reply);
  if (obj) {
    const key = SCORE_KEYS.find((k) => Object.hasOwn(obj, k));
    if (key === undefined) throw new UnreadableJudgeReply('the judge reply has no "score" field', reply);
    const score = scoreOf(obj[key]);
    if (score === null) throw new UnreadableJudgeReply('the judge score is not 0 or 1', reply);
    const answerKey = ANSWER_KEYS.find((k) => Object.hasOwn(obj, k));
    return { score, extracted: answerKey ? textOf(obj[answerKey]) : '' };
  }
  // Almost-JSON (a trailing comma, a missing comma between fields): the fields by pattern.
  const score = /["']?score(?:_T1)?["']?\s*[:=]\s*["']?(-?\d+)/.exec(reply);
  if (!score) throw new UnreadableJudgeReply('the judge reply has no JSON verdict', reply);
  const s = scoreOf(score[1]);
  if (s === null) throw new UnreadableJudgeReply('the judge score is not 0 or 1', reply);
  const answer = /["']?extract(?:ed)?_answer(?:_T1)?["']?\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^,}\n]*))/.exec(
    reply,
  );
  return { score: s, extracted: (answer?.[1] ?? answer?.[2] ?? '').trim() };
}
