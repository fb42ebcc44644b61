import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Env } from '../core/env.ts';
import { MaestroError, NotFoundError } from '../core/errors.ts';
import { keys } from '../core/queues.ts';
import { connectRedis } from '../core/redis.ts';
import type { DataStore } from '../data/store.ts';
import { type DiscardPlan, discardSweep, planDiscard } from '../producer/discard.ts';
import { listSweeps } from '../producer/progress.ts';
import { dataStore, type GlobalOptions, resolveEnv, sweepsOnDisk } from './context.ts';

export interface DiscardCommandOptions {
  /** Sweep id or name. */
  sweep: string;
  /** true: `sweep reset` (keep the sweep registered, discard its results); false: `sweep rm`. */
  keepMeta: boolean;
  /** Skip the confirmation. */
  yes: boolean;
  /** Asks the user; defaults to the terminal. Returns the answer. */
  ask?: (question: string) => Promise<string>;
  interactive?: boolean;
  log?: (line: string) => void;
}

/** A sweep id from an id or a name (the latest sweep of that name), in Redis or on disk. */
async function resolveSweepId(
  conn: ReturnType<typeof connectRedis>,
  prefix: string,
  store: DataStore,
  idOrName: string,
) {
  if (await conn.exists(keys.sweep(prefix, idOrName))) return idOrName;
  const known = [...sweepsOnDisk(store), ...(await listSweeps(conn, prefix))];
  if (known.some((m) => m.id === idOrName)) return idOrName;
  const byName = known
    .filter((m) => m.name === idOrName)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const last = byName.at(-1);
  if (last) return last.id;
  throw new NotFoundError(`no sweep "${idOrName}" in Redis (prefix ${prefix}) or in ${store.root}`, {
    hint: 'see `maestro-eval status` for the sweep ids',
  });
}

function describePlan(p: DiscardPlan, keepMeta: boolean): string {
  const jobs = [...p.jobs.values()].reduce((a, ids) => a + ids.length, 0);
  return `${keepMeta ? 'reset' : 'remove'} sweep ${p.sweepId}: ${jobs} jobs and ${p.keys.length} keys in Redis, ${p.records} records${keepMeta ? ' and the report (the sweep stays registered)' : ', the report and the sweep folder'}`;
}

async function confirm(opts: DiscardCommandOptions, question: string): Promise<boolean> {
  if (opts.yes) return true;
  const interactive = opts.interactive ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
  if (!interactive && !opts.ask) {
    throw new MaestroError(`refusing to ${question} without confirmation: no terminal to ask on`, {
      hint: 'pass --yes to confirm; nothing was removed',
    });
  }
  const ask =
    opts.ask ??
    (async (q: string) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await rl.question(q);
      } finally {
        rl.close();
      }
    });
  return /^y(es)?$/i.test((await ask(`${question}? [y/N] `)).trim());
}

/** `sweep rm ID` and `sweep reset ID`: discard a sweep everywhere, after a confirmation. */
export async function runDiscardCommand(env: Env, store: DataStore, opts: DiscardCommandOptions) {
  const log = opts.log ?? ((l: string) => console.log(l));
  const conn = connectRedis(env.REDIS_URL, 'client');
  conn.on('error', () => {});
  try {
    const prefix = env.MAESTRO_PREFIX;
    const sweepId = await resolveSweepId(conn, prefix, store, opts.sweep);
    const plan = await planDiscard(conn, prefix, store, sweepId, opts.keepMeta);
    const what = describePlan(plan, opts.keepMeta);
    if (!(await confirm(opts, what))) {
      log('nothing removed');
      return null;
    }
    const r = await discardSweep(conn, prefix, store, plan, opts.keepMeta);
    log(
      `sweep ${sweepId}: ${opts.keepMeta ? 'reset' : 'removed'}: ${r.removedJobs} jobs, ${r.removedKeys} keys, ${r.removedRecords} records`,
    );
    if (r.busy.length) {
      log(
        `warning: ${r.busy.length} jobs are held by running workers and were left (e.g. ${r.busy[0]}); run the command again once they finish`,
      );
    }
    if (opts.keepMeta) log(`re-run it with \`maestro-eval sweep FILE\` (same sweep file)`);
    return r;
  } finally {
    conn.disconnect();
  }
}

/** Adds `rm` and `reset` under the `sweep` command. */
export function register(program: Command, { globals }: { globals: () => GlobalOptions }): void {
  const sweep = program.commands.find((c) => c.name() === 'sweep');
  if (!sweep) return;
  for (const [name, keepMeta, text] of [
    ['rm', false, 'discard a sweep everywhere: its jobs and keys in Redis, its records, report and folder'],
    ['reset', true, 'discard the results of a sweep (jobs, keys, records, report) so that it can run again'],
  ] as const) {
    sweep
      .command(name)
      .description(text)
      .argument('<sweep>', 'sweep id or name')
      .option('--yes', 'do not ask for confirmation (needed without a terminal)')
      .action(async (id: string, o: { yes?: boolean }) => {
        const env = resolveEnv(globals());
        await runDiscardCommand(env, dataStore(env), { sweep: id, keepMeta, yes: o.yes ?? false });
      });
  }
}
