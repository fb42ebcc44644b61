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

/** Notes a started process in the pid folder (if any); the note goes when it exits. */
export function trackPid(child: ChildProcess, env: NodeJS.ProcessEnv = process.env): void {
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
