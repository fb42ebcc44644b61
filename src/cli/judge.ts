import type { Redis } from 'ioredis';
import { ConfigError } from '../core/errors.ts';
import type { CharxivInstructions, JudgeContext } from '../core/judge.ts';
import type { Registry } from '../core/registry.ts';
import { JudgeFileCache } from '../data/judge-cache.ts';
import { loadCharxivInstructions } from '../importers/charxiv-instructions.ts';
import { ModelClient } from '../models/client.ts';
import { JudgeRunner } from '../models/judge.ts';
import { RedisLimiter } from '../models/limiter.ts';

/**
 * The judge models of one process, for the scorer and `maestro-eval score`: one runner per
 * judge (its client, its cap, the data directory's cache), made on first use. With a Redis
 * connection the cap is cluster-wide (a semaphore per judge); without one (a re-score on one
 * machine) it holds in this process.
 */
export class JudgeContexts {
  private readonly runners = new Map<string, JudgeRunner>();
  private readonly limiter: RedisLimiter | undefined;
  private readonly cache: JudgeFileCache;
  private charxiv: Promise<CharxivInstructions> | undefined;

  constructor(
    private readonly opts: {
      registry: Registry;
      dataDir: string;
      connection?: Redis | undefined;
      prefix?: string | undefined;
      /** A CharXiv checkout whose instruction texts replace the project's prompt. */
      charxivDir?: string | undefined;
      log?: ((line: string) => void) | undefined;
    },
  ) {
    this.cache = new JudgeFileCache(opts.dataDir);
    this.limiter =
      opts.connection && opts.prefix !== undefined
        ? new RedisLimiter(opts.connection, opts.prefix)
        : undefined;
  }

  /** Requests sent by every runner of this process (cache hits excluded). */
  get calls(): number {
    let n = 0;
    for (const r of this.runners.values()) n += r.calls;
    return n;
  }

  /**
   * The context for a sweep's judge. The judge must be in this process's registry with the
   * model the sweep was planned with; otherwise the scoring fails with a cause saying so.
   */
  async get(ref: { name: string; model: string }): Promise<JudgeContext> {
    const judge = this.opts.registry.judge(ref.name);
    if (judge.model !== ref.model) {
      throw new ConfigError(
        this.opts.registry.files.join(' + '),
        `judges.${judge.name}.model`,
        `is "${judge.model}" here but the sweep was planned with "${ref.model}"`,
        {
          hint: 'run every scorer with the registry the sweep was planned with',
        },
      );
    }
    let runner = this.runners.get(judge.name);
    if (!runner) {
      runner = new JudgeRunner({
        judge,
        client: new ModelClient(judge),
        cache: this.cache,
        limiter: this.limiter,
      });
      this.runners.set(judge.name, runner);
    }
    if (this.opts.charxivDir) this.charxiv ??= loadCharxivInstructions(this.opts.charxivDir);
    return { ask: runner.ask, charxiv: this.charxiv ? await this.charxiv : undefined };
  }

  async close(): Promise<void> {
    await this.limiter?.close();
  }
}
