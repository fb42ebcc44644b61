import { z } from 'zod';
import { fingerprint } from './hash.ts';

/**
 * Judge models: a scorer of record that needs a language model (CharXiv's grading, MathVista's
 * answer extraction) asks one through this contract. Scoring code builds the prompt and reads
 * the reply; the runtime (src/models/judge.ts) sends it under a cluster-wide cap, retries, and
 * caches the reply by (judge model, input hash). Nothing here talks to the network.
 */

/** What a verdict keeps of the judge call: enough to audit it and to find it in the cache. */
export const JudgeTrace = z.object({
  /** Registry name of the judge endpoint. */
  judge: z.string(),
  /** Served model name: with the input hash, the cache key. */
  model: z.string(),
  /** sha256 of the request the judge got (messages and sampling settings, not the model). */
  inputHash: z.string(),
  /** What the call was for, e.g. `charxiv-grade`, `mathvista-extract`. */
  purpose: z.string(),
  /** Where the instruction text came from: the project's own prompt or a user's upstream checkout. */
  instructions: z.enum(['project', 'upstream']).default('project'),
  /** The judge's raw reply (clipped to 4,000 characters). */
  output: z.string(),
  /** The verdict read from the reply, as text (e.g. `1`, `0`, an extracted answer). */
  verdict: z.string(),
  /** True when the reply came from the cache (no call made for this verdict). */
  cached: z.boolean(),
});
export type JudgeTrace = z.infer<typeof JudgeTrace>;

/** The most of a judge's reply a trace keeps. */
export const JUDGE_OUTPUT_CHARS = 4000;

/** One question to a judge. */
export interface JudgeRequest {
  purpose: string;
  /** The whole user message. */
  prompt: string;
  instructions?: 'project' | 'upstream';
}

/** A judge's answer: the reply read by the caller's reader, and the trace to store. */
export interface JudgeAnswer<T> {
  value: T;
  trace: JudgeTrace;
}

/**
 * Asks the judge. `read` turns the raw reply into a value and throws when the reply is
 * unreadable: the runtime then retries (an unreadable reply is never cached) and finally
 * throws, so the item becomes an error with the cause, never a silent wrong answer.
 */
export type JudgeAsk = <T>(req: JudgeRequest, read: (output: string) => T) => Promise<JudgeAnswer<T>>;

/**
 * CharXiv's own grading instructions, read at run time from a user's checkout of
 * princeton-nlp/CharXiv (src/constants.py); the project ships none of these texts.
 */
export interface CharxivInstructions {
  /** The file they were read from. */
  source: string;
  reasoningPrefix: string;
  /** By instruction category (1 text-in-chart, 2 text-in-general, 3 number-in-chart, 4 number-in-general). */
  reasoning: Record<number, string>;
  descriptivePrefix: string;
  /** The overarching question per descriptive template id (1–19). */
  descriptiveQuestions: Record<number, string>;
  /** Rubrics by name (title, ocr, quant, bool, enum, trend, layout). */
  rubrics: Record<string, string>;
}

/** What official scorers may use beyond the item and the reply. */
export interface JudgeContext {
  ask: JudgeAsk;
  /** CharXiv's instruction texts from a user's checkout; absent: the project's own prompt. */
  charxiv?: CharxivInstructions | undefined;
}

/** The sampling settings a judge request is sent with (part of its input hash). */
export interface JudgeSampling {
  temperature: number;
  maxTokens: number;
}

/**
 * The input hash of a judge request: sha256 of the canonical JSON of what decides the reply
 * besides the model (the messages and the sampling settings). With the model name it is the
 * cache key, so the same question to the same judge is asked once.
 */
export function judgeInputHash(prompt: string, sampling: JudgeSampling): string {
  return fingerprint({
    messages: [{ role: 'user', content: prompt }],
    temperature: sampling.temperature,
    maxTokens: sampling.maxTokens,
  });
}
