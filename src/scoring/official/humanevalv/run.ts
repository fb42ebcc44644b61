import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentError } from '../../../core/errors.ts';
import { besideSource } from '../../../core/paths.ts';

/**
 * The sandbox HumanEval-V programs run in for the official scorer.
 * - `prlimit`: address space, CPU seconds, file size, no core dumps;
 * - `unshare -rnpf --mount-proc`: a user, network and PID namespace, so the program has no
 *   network, sees only its own processes, and cannot signal the scorer (its parent is
 *   outside the namespace); when the namespace's first process ends, all others end;
 * - an empty temporary working directory, removed afterwards; the program arrives on stdin
 *   and is never on disk, so its tests cannot be read from a file;
 * - the environment is only PATH and LANG; `python3 -I -B`;
 * - the upstream limit (2 s) as an interval timer inside, and a wall-clock kill of the whole
 *   process group outside.
 * A program passes only when its test script ran to its end: driver.py then writes a random
 * per-run token as the last line and exits 0. Leaving early (sys.exit, os._exit, a signal)
 * writes no token. Not defended: code that inspects the driver's own frames or memory.
 */

// In the source tree also when running from dist/ (the .py files are not compiled or copied).
const DRIVER = besideSource(import.meta.url, './driver.py');
const MAX_OUTPUT = 64 * 1024;

export interface SandboxOptions {
  python?: string;
  /** Upstream's per-program limit, in seconds. Default 2. */
  timeoutSec?: number;
  memoryMb?: number;
}

export interface SandboxOutcome {
  passed: boolean;
  timedOut: boolean;
  exitCode: number | null;
  /** The last stderr line, or why the token was missing. */
  detail: string;
}

let namespaceProbe: Promise<boolean> | undefined;

function exitsZero(cmd: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Whether user, network and PID namespaces can be made here. */
export function canSandbox(): Promise<boolean> {
  namespaceProbe ??= exitsZero('unshare', ['-rnpf', '--mount-proc', 'true']);
  return namespaceProbe;
}

function argvFor(opts: Required<SandboxOptions>): string[] {
  const cpu = Math.ceil(opts.timeoutSec) + 2;
  return [
    'prlimit',
    `--as=${opts.memoryMb * 1024 * 1024}`,
    `--cpu=${cpu}`,
    `--fsize=${16 * 1024 * 1024}`,
    '--core=0',
    '--',
    'unshare',
    '-rnpf',
    '--mount-proc',
    '--',
    opts.python,
    '-I',
    '-B',
    DRIVER,
  ];
}

/** Runs a program in the sandbox; throws (typed) when the sandbox cannot be made. */
export async function runInSandbox(program: string, options: SandboxOptions = {}): Promise<SandboxOutcome> {
  const opts: Required<SandboxOptions> = { python: 'python3', timeoutSec: 2, memoryMb: 1024, ...options };
  if (!(await canSandbox())) {
    throw new PermanentError(
      'HumanEval-V official scoring needs `unshare -rnpf` (user, network and PID namespaces)',
    );
  }
  const token = randomBytes(24).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'maestro-humanevalv-'));
  try {
    return await spawnDriver(
      argvFor(opts),
      dir,
      JSON.stringify({ program, token, timeout: opts.timeoutSec }),
      token,
      opts,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnDriver(
  argv: string[],
  cwd: string,
  input: string,
  token: string,
  opts: Required<SandboxOptions>,
): Promise<SandboxOutcome> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' };
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(
      () => {
        timedOut = true;
        killGroup();
      },
      (opts.timeoutSec + 3) * 1000,
    );
    child.stdout.on('data', (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-MAX_OUTPUT);
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-MAX_OUTPUT);
    });
    child.stdin.on('error', () => {}); // a program may end before reading all of it
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new PermanentError(`cannot start the HumanEval-V sandbox: ${e.message}`, { cause: e }));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      killGroup();
      const lines = out.split('\n').filter((l) => l !== '');
      const passed = !timedOut && exitCode === 0 && lines[lines.length - 1] === token;
      const last = err.split('\n').filter((l) => l.trim() !== '');
      const detail = timedOut
        ? 'killed at the wall-clock limit'
        : passed
          ? 'the test script ran to its end'
          : (last[last.length - 1] ?? `exited ${exitCode} before the test script's end`);
      resolve({ passed, timedOut, exitCode, detail });
    });
    child.stdin.end(input);
  });
}
