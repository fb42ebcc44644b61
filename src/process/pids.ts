import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Pid files of the processes started through `src/process` (worker CLIs, redis-servers), in
 * the folder named by MAESTRO_PID_DIR when set. A test suite sets it, and its teardown
 * ends, by pid, every process still running: nothing outlives `npm test`.
 */
export const PID_DIR_ENV = 'MAESTRO_PID_DIR';

/**
 * When a live process started (field 22 of Linux /proc/<pid>/stat, fixed at fork, unchanged
 * by exec), or null when it is gone: with the pid, it names one process.
 */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The processes started through `src/process` that have not exited yet. */
const live = new Set<ChildProcess>();

/**
 * Notes a started process: among this process's live children (see endChildrenOnSignal),
 * and in the pid folder (if any); the notes go when it exits.
 */
export function trackPid(child: ChildProcess, env: NodeJS.ProcessEnv = process.env): void {
  if (child.exitCode === null && child.signalCode === null) {
    live.add(child);
    child.once('exit', () => live.delete(child));
  }
  const dir = env[PID_DIR_ENV];
  const pid = child.pid;
  if (!dir || !pid || !existsSync(dir)) return;
  const file = join(dir, `${pid}.pid`);
  // The start time identifies the process: a pid reused later by another one is spared.
  writeFileSync(file, startTime(pid) ?? '');
  child.once('exit', () => rmSync(file, { force: true }));
}

/** A live process's command line (arguments joined by spaces), or '' when unreadable. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/**
 * Ends every process noted in the pid folder that is still the same process (SIGKILL).
 * Returns the pids ended; `onEnd` hears each one's command line first (what was left running).
 */
export function killTracked(dir: string, onEnd?: (pid: number, command: string) => void): number[] {
  const ended: number[] = [];
  if (!existsSync(dir)) return ended;
  for (const name of readdirSync(dir)) {
    const pid = Number(name.replace(/\.pid$/, ''));
    const file = join(dir, name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const noted = readFileSync(file, 'utf8').trim();
    const now = startTime(pid);
    if (now !== null && (now === noted || noted.length === 0)) {
      try {
        onEnd?.(pid, commandLine(pid));
        process.kill(pid, 'SIGKILL');
        ended.push(pid);
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(file, { force: true });
  }
  return ended;
}

/** Exit codes of a process ended by a signal, as shells report them. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Makes SIGTERM and SIGINT end the processes this one started before it exits (a command
 * that starts servers and workers of its own: `bench`, `demo`). Without it, a SIGTERM sent
 * to this process alone (a supervisor, `timeout`, `kill`) would leave them running. Each live
 * child gets SIGTERM (a bench scenario process then ends its own), and SIGKILL if it is still
 * there after `graceMs`; then this process exits with 143 (SIGTERM) or 130 (SIGINT).
 */
export function endChildrenOnSignal(graceMs = 3_000): void {
  let ending = false;
  const onSignal = (signal: keyof typeof SIGNAL_EXIT) => {
    if (ending) return;
    ending = true;
    const children = [...live];
    process.stderr.write(`${signal}: ending ${children.length} process(es) this one started\n`);
    for (const c of children) c.kill('SIGTERM');
    const exits = children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => c.once('exit', r)),
    );
    const timer = setTimeout(() => {
      for (const c of live) c.kill('SIGKILL');
      process.exit(SIGNAL_EXIT[signal]);
    }, graceMs);
    void Promise.all(exits).then(() => {
      clearTimeout(timer);
      process.exit(SIGNAL_EXIT[signal]);
    });
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => onSignal(signal));
}
