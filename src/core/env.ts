import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { DEFAULT_PREFIX } from './queues.ts';
import { issuePath } from './yaml-file.ts';

const Env = z.object({
  /** Redis connection URL (redis:// or rediss://, password allowed). */
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Key prefix for every queue and key; keep the braces (hash tag) for Redis Cluster. */
  MAESTRO_PREFIX: z.string().min(1).default(DEFAULT_PREFIX),
  /** Directory every host can read: datasets, content-addressed images, sweep records. */
  MAESTRO_DATA_DIR: z.string().default('maestro-data'),
  /** Lock duration of active jobs; a crashed worker's jobs are recovered after about this long. */
  MAESTRO_LOCK_MS: z.coerce.number().int().positive().default(30_000),
  /** How often workers look for stalled jobs. */
  MAESTRO_STALLED_MS: z.coerce.number().int().positive().default(15_000),
  /** How long the scorer retries a record write through storage errors (disk full, unwritable). */
  MAESTRO_STORAGE_DEADLINE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /**
   * The user's copy of the release's policy data (a verl parquet file, or a directory
   * holding one): the `release` profile reads the training prompt from it.
   */
  MAESTRO_POLICY_PROMPT: z.string().min(1).optional(),
  /**
   * The user's checkout of princeton-nlp/CharXiv (or its src/constants.py): with a judge, CharXiv
   * is graded with the benchmark's own instruction texts read from it instead of the project's.
   */
  MAESTRO_CHARXIV_DIR: z.string().min(1).optional(),
  /**
   * Who scores cheap metrics in the rollout's last step, with no scoring job. `auto`
   * (default): an orchestrator beside the scorer role, or one whose data directory holds
   * the sweep (where reports read it) and can be written; `1`: only an orchestrator beside
   * the scorer role; `always`: every orchestrator; `0`: nobody (every rollout goes through
   * the scoring queue).
   */
  MAESTRO_INLINE_SCORING: z
    .enum(['0', '1', 'auto', 'always'])
    .default('auto')
    .transform((v) => (v === '0' ? 'off' : v === '1' ? 'beside-scorer' : v)),
});
export type Env = z.infer<typeof Env>;

/** Reads and validates the environment once. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const parsed = Env.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError('(environment)', issuePath(issue?.path ?? []), issue?.message ?? 'invalid');
}
