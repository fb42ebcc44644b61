import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../core/paths.ts';
import { trackPid } from './pids.ts';

/** The CLI entry script, for starting worker processes. */
export const CLI_BIN = join(ROOT, 'bin', 'maestro-eval.js');

export interface SpawnedWorker {
  child: ChildProcess;
  role: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** Lines the worker printed (kept for error reports). */
  output: string[];
}

/** Starts `maestro-eval <args>` as a separate OS process. */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { echo?: boolean; label?: string } = {},
): SpawnedWorker {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackPid(child);
  const output: string[] = [];
  const label = opts.label ?? args.join(' ');
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 200) output.shift();
      if (opts.echo) process.stderr.write(`[${label}] ${line}\n`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, role: label, exited, output };
}

/** Sends SIGTERM and waits (up to `graceMs`, then SIGKILL). */
export async function stopProcess(w: SpawnedWorker, graceMs = 10_000): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const timer = new Promise((r) => setTimeout(r, graceMs));
  await Promise.race([w.exited, timer]);
  if (w.child.exitCode === null && w.child.signalCode === null) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
}
