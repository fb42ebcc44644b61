import { describeError, MaestroError, PermanentError, RetryableError } from '../core/errors.ts';
import {
  JUDGE_OUTPUT_CHARS,
  type JudgeAnswer,
  type JudgeAsk,
  type JudgeRequest,
  type JudgeTrace,
  judgeInputHash,
} from '../core/judge.ts';
import type { Judge } from '../core/registry.ts';
import type { ChatRequest, ChatResult } from './client.ts';
import type { ServiceLimiter } from './limiter.ts';

/**
 * The judge runtime: sends scorers' questions to a judge model and hands back its replies.
 *
 * - Cap: every call holds a slot of the Redis semaphore `judge:<name>` with the judge's
 *   `capacity` (src/models/limiter.ts), so however many scorer processes run on however many
 *   hosts, the judge never sees more requests than its capacity. Without a limiter (a
 *   one-process re-score) an in-process cap of the same size applies.
 * - Cache: replies are cached by (judge model, input hash); a cached reply the caller can read
 *   costs no call. Only readable replies are cached. The same question asked twice at once
 *   in one process is sent once (the second asker waits for the first one's reply).
 * - Failures: a failed call (timeout, 5xx, 429) or an unreadable reply is retried with
 *   exponential backoff (or the server's retry-after) up to `attempts` times; a rejected
 *   request (other 4xx) is not. Then JudgeFailedError is thrown and the item becomes an error
 *   with this cause, never a silently wrong answer.
 */

/** Replies by (judge model, input hash). */
export interface JudgeCache {
  get(model: string, inputHash: string): Promise<string | undefined>;
  put(model: string, inputHash: string, entry: { output: string; purpose: string }): Promise<void>;
}

/** A judge that could not answer a question readably. */
export class JudgeFailedError extends MaestroError {}

export interface JudgeRunnerOptions {
  judge: Judge;
  /** What sends one request (a ModelClient for the judge endpoint). */
  client: { chat(req: ChatRequest): Promise<ChatResult> };
  cache: JudgeCache;
  /** The cluster-wide cap; absent: an in-process cap of the judge's capacity. */
  limiter?: ServiceLimiter | undefined;
  /** First backoff pause (ms); doubles per attempt, with jitter, up to 30 s. Default 500. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called for every request sent (not for cache hits). */
  onCall?: (judge: string) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The limiter key of a judge's cluster-wide cap. */
export function judgeService(name: string): string {
  return `judge:${name}`;
}

export class JudgeRunner {
  readonly judge: Judge;
  private readonly local: LocalCap;
  /** Questions being asked now, by input hash: a second asker waits for the same reply. */
  private readonly inflight = new Map<string, Promise<{ output: string; cached: boolean }>>();
  /** Requests sent by this runner (cache hits excluded). */
  calls = 0;

  constructor(private readonly opts: JudgeRunnerOptions) {
    this.judge = opts.judge;
    this.local = new LocalCap(opts.judge.capacity);
  }

  /** The JudgeAsk scorers are given. */
  readonly ask: JudgeAsk = <T>(req: JudgeRequest, read: (output: string) => T) => this.answer(req, read);

  private async answer<T>(req: JudgeRequest, read: (output: string) => T): Promise<JudgeAnswer<T>> {
    const { model, name, temperature, maxTokens } = this.judge;
    const inputHash = judgeInputHash(req.prompt, { temperature, maxTokens });
    const trace = (output: string, cached: boolean): JudgeTrace => ({
      judge: name,
      model,
      inputHash,
      purpose: req.purpose,
      instructions: req.instructions ?? 'project',
      output: output.length > JUDGE_OUTPUT_CHARS ? `${output.slice(0, JUDGE_OUTPUT_CHARS - 1)}…` : output,
      verdict: '',
      cached,
    });
    // The same question already being asked in this process: wait for that answer.
    const shared = this.inflight.get(inputHash);
    if (shared) {
      const { output } = await shared;
      try {
        return { value: read(output), trace: trace(output, true) };
      } catch {
        // another reader's question with the same text: ask with this reader below
      }
    }
    const own = this.lookUpOrAsk(req, read, inputHash);
    const entry = own.then(({ output, cached }) => ({ output, cached }));
    this.inflight.set(inputHash, entry);
    entry.then(
      () => this.forget(inputHash, entry),
      () => this.forget(inputHash, entry),
    );
    const r = await own;
    return { value: r.value, trace: trace(r.output, r.cached) };
  }

  private forget(inputHash: string, entry: Promise<unknown>): void {
    if (this.inflight.get(inputHash) === entry) this.inflight.delete(inputHash);
  }

  /** The cached reply when this reader can read it; else the judge, retried, then cached. */
  private async lookUpOrAsk<T>(
    req: JudgeRequest,
    read: (output: string) => T,
    inputHash: string,
  ): Promise<{ value: T; output: string; cached: boolean }> {
    const { model } = this.judge;
    const hit = await this.opts.cache.get(model, inputHash);
    if (hit !== undefined) {
      try {
        return { value: read(hit), output: hit, cached: true };
      } catch {
        // A cached reply this reader cannot use (another reader wrote it): ask again.
      }
    }
    let last: unknown;
    for (let attempt = 1; attempt <= this.judge.attempts; attempt++) {
      let output: string;
      try {
        output = await this.send(req.prompt);
      } catch (err) {
        if (err instanceof PermanentError) throw this.failed(req, attempt, err);
        last = err;
        await this.pause(attempt, err);
        continue;
      }
      let value: T;
      try {
        value = read(output);
      } catch (err) {
        last = err;
        await this.pause(attempt, err);
        continue;
      }
      await this.opts.cache.put(model, inputHash, { output, purpose: req.purpose });
      return { value, output, cached: false };
    }
    throw this.failed(req, this.judge.attempts, last);
  }

  /** One request under the cluster-wide (or in-process) cap. */
  private async send(prompt: string): Promise<string> {
    const { name, capacity, temperature, maxTokens } = this.judge;
    const release = this.opts.limiter
      ? await this.opts.limiter
          .acquire(judgeService(name), capacity, { deadline: Date.now() + 10 * 60_000 })
          .then((lease) => () => lease.release())
      : await this.local.acquire();
    try {
      this.calls += 1;
      this.opts.onCall?.(name);
      const res = await this.opts.client.chat({
        messages: [{ role: 'user', content: prompt }],
        temperature,
        maxTokens,
        seed: 0,
      });
      return res.text;
    } finally {
      await release();
    }
  }

  private async pause(attempt: number, err: unknown): Promise<void> {
    if (attempt >= this.judge.attempts) return;
    const base = this.opts.backoffMs ?? 500;
    const retryAfter = err instanceof RetryableError ? err.retryAfterMs : undefined;
    const ms = retryAfter ?? Math.min(30_000, base * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
    await (this.opts.sleep ?? defaultSleep)(ms);
  }

  private failed(req: JudgeRequest, attempts: number, cause: unknown): JudgeFailedError {
    const { name, model } = this.judge;
    return new JudgeFailedError(
      `judge ${name} (${model}) gave no readable ${req.purpose} verdict after ${attempts} attempt(s): ${describeError(cause)}`,
      { cause, hint: `check the judge endpoint ${this.judge.baseUrl}; the item can be re-scored later` },
    );
  }
}

/** A counting semaphore inside one process. */
class LocalCap {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly capacity: number) {}

  async acquire(): Promise<() => Promise<void>> {
    if (this.active >= this.capacity) await new Promise<void>((r) => this.waiting.push(r));
    this.active += 1;
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}
