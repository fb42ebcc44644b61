import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PermanentError } from '../../core/errors.ts';
import type { Item, ScoreResult } from '../../core/items.ts';
import { answerTagContent, MAX_EXTRACT_INPUT } from '../extract.ts';
import { type Extraction, type MetricDefinition, right, wrong } from '../types.ts';

/**
 * HumanEval-V pass@1: the candidate program runs against the item's tests in a separate
 * `python3` process.
 *
 * Input: the code inside the last `<answer>` tag (or the raw output), taken from its last
 * fenced block — ```python / ```py / ```python3 first, then an unlabelled ``` block — or the
 * whole text when there is no fence.
 *
 * Program (`main.py` in a fresh temp directory): the code, then `item.extra.tests` (Python
 * source with asserts), then — when `item.extra.entryPoint` (or `entry_point`) names a
 * function and the tests define `def check(` (the HumanEval convention) — the call
 * `check(<entryPoint>)`. Tests without a `check` function run as plain top-level asserts.
 *
 * Sandbox (best effort, not a security boundary for hostile code):
 * - its own process group, killed with SIGKILL at the wall-clock limit (`extra.timeoutSec`,
 *   default 10 s), verdict "timeout";
 * - resource limits through `prlimit` (address space, CPU seconds, file size, no core
 *   dumps), or `ulimit` in `sh` when `prlimit` is missing;
 * - no network: a fresh network namespace (`unshare -rn`) when the kernel allows it, and in
 *   every case a guard that makes socket connects and DNS lookups raise in Python;
 * - cwd is the temp directory, the environment is only PATH and LANG, `python3 -I -B`
 *   (isolated mode: no user site-packages, no PYTHON* variables, no .pyc files);
 * - output kept to the last 64 KiB; the temp directory is removed afterwards.
 * A missing interpreter throws (the caller records an item error, never a pass).
 */

export interface CodePassOptions {
  /** Interpreter, looked up on PATH. Default `python3`. */
  python?: string;
  /** Wall-clock limit when the item has no `extra.timeoutSec`. Default 10 seconds. */
  timeoutSec?: number;
  /** Address-space limit. Default 1024 MiB. */
  memoryMb?: number;
  /** Try a private network namespace (`unshare -rn`). Default true. */
  isolateNetwork?: boolean;
  /** Bytes of stdout/stderr kept for the reason. Default 65536. */
  maxOutputBytes?: number;
}

const MAX_CODE_CHARS = 500_000;

/** The code of an answer: the last python (or unlabelled) fenced block, else the whole text. */
export function extractCode(raw: string): Extraction {
  const scoped = answerTagContent(raw);
  const text = scoped ?? (raw.length > MAX_EXTRACT_INPUT ? raw.slice(raw.length - MAX_EXTRACT_INPUT) : raw);
  const where = scoped === null ? 'raw' : 'tag';
  const blocks = fencedBlocks(text);
  const py = blocks.filter((b) => /^(?:python3?|py)$/i.test(b.lang));
  const plain = blocks.filter((b) => b.lang === '');
  const chosen = py[py.length - 1] ?? plain[plain.length - 1];
  if (chosen) {
    const code = chosen.code.trim();
    return code
      ? { extracted: code, method: `${where}:fence` }
      : { extracted: null, method: `${where}:empty-fence` };
  }
  if (blocks.length > 0) return { extracted: null, method: `${where}:no-python-fence` };
  const code = text.trim();
  return code ? { extracted: code, method: `${where}:code` } : { extracted: null, method: 'none' };
}

interface Block {
  lang: string;
  code: string;
}

/** Fenced blocks in order; an unclosed last fence runs to the end (generation stopped). */
function fencedBlocks(text: string): Block[] {
  const out: Block[] = [];
  let pos = 0;
  for (let i = 0; i < 1000; i++) {
    const open = text.indexOf('```', pos);
    if (open < 0) break;
    const nl = text.indexOf('\n', open + 3);
    if (nl < 0) break;
    const lang = text.slice(open + 3, nl).trim();
    const close = text.indexOf('```', nl + 1);
    out.push({ lang, code: text.slice(nl + 1, close < 0 ? text.length : close) });
    if (close < 0) break;
    pos = close + 3;
  }
  return out;
}

/** The code of a prediction given to `score` directly: unwraps a fence when there is one. */
function codeOf(prediction: string): string {
  return fencedBlocks(prediction).length > 0 ? (extractCode(prediction).extracted ?? '') : prediction;
}

// ---- environment probes (cached per process) -------------------------------------------

const pythonCache = new Map<string, Promise<string>>();
let unshareProbe: Promise<boolean> | undefined;
let prlimitProbe: Promise<string | null> | undefined;

async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, name);
    try {
      await access(full, constants.X_OK);
      return full;
    } catch {
      // keep looking
    }
  }
  return null;
}

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    let stdout = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 10_000) stdout += d.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, error }));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/**
 * The real interpreter path (`sys.executable`), resolved once with the full environment so
 * version-manager shims work; later runs use it with a stripped environment.
 */
function resolvePython(name: string): Promise<string> {
  let p = pythonCache.get(name);
  if (!p) {
    p = (async () => {
      const r = await run(name, ['-c', 'import sys; sys.stdout.write(sys.executable)'], 20_000);
      if (r.error?.code === 'ENOENT' || (r.code !== 0 && !r.stdout)) {
        throw new PermanentError(
          `code_pass needs ${name} to run the tests, but ${name} is not installed or not on PATH` +
            (r.error ? ` (${r.error.code ?? r.error.message})` : ` (exit ${r.code})`),
          { hint: 'install Python 3 on every worker host that scores code items', cause: r.error },
        );
      }
      return r.stdout.trim() || name;
    })();
    pythonCache.set(name, p);
    p.catch(() => pythonCache.delete(name));
  }
  return p;
}

function canUnshare(): Promise<boolean> {
  unshareProbe ??= run('unshare', ['-rn', 'true'], 5_000).then((r) => r.code === 0);
  return unshareProbe;
}

function findPrlimit(): Promise<string | null> {
  prlimitProbe ??= onPath('prlimit');
  return prlimitProbe;
}

// ---- the run -----------------------------------------------------------------------------

const GUARD = `import runpy, socket, sys
def _no_network(*args, **kwargs):
    raise OSError('network access is disabled in the code_pass sandbox')
for _name in ('connect', 'connect_ex', 'sendto', 'sendmsg'):
    setattr(socket.socket, _name, _no_network)
socket.getaddrinfo = _no_network
socket.create_connection = _no_network
sys.argv = ['main.py']
del _name, _no_network
runpy.run_path('main.py', run_name='__main__')
`;

export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

function readTimeout(item: Item, fallback: number): number {
  const v = item.extra.timeoutSec ?? item.extra.timeout_sec;
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(n, 600) : fallback;
}

/** Builds the program text for an item (see the file comment for the convention). */
export function buildProgram(item: Item, code: string): string {
  const tests = item.extra.tests;
  if (typeof tests !== 'string' || tests.trim() === '') {
    throw new PermanentError(`item ${item.id}: code_pass needs extra.tests (Python source with asserts)`);
  }
  const entry = item.extra.entryPoint ?? item.extra.entry_point;
  let call = '';
  if (entry !== undefined && entry !== null && entry !== '') {
    if (typeof entry !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry)) {
      throw new PermanentError(
        `item ${item.id}: extra.entryPoint must be a Python identifier, got ${JSON.stringify(entry)}`,
      );
    }
    if (/^\s*def\s+check\s*\(/m.test(tests)) call = `\n\ncheck(${entry})\n`;
  }
  return `${code}\n\n\n${tests}\n${call}`;
}

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > this.max * 2) {
      const all = Buffer.concat(this.chunks);
      const kept = all.subarray(all.length - this.max);
      this.chunks = [kept];
      this.size = kept.length;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

async function runProgram(
  program: string,
  timeoutSec: number,
  opts: Required<CodePassOptions>,
): Promise<RunOutcome> {
  const python = await resolvePython(opts.python);
  const dir = await mkdtemp(join(tmpdir(), 'maestro-code-pass-'));
  try {
    await writeFile(join(dir, 'main.py'), program);
    await writeFile(join(dir, 'guard.py'), GUARD);
    let argv = [python, '-I', '-B', 'guard.py'];
    if (opts.isolateNetwork && (await canUnshare())) argv = ['unshare', '-rn', '--', ...argv];
    const cpu = Math.ceil(timeoutSec) + 1;
    const bytes = opts.memoryMb * 1024 * 1024;
    const prlimit = await findPrlimit();
    if (prlimit) {
      argv = [
        prlimit,
        `--as=${bytes}`,
        `--cpu=${cpu}`,
        `--fsize=${64 * 1024 * 1024}`,
        '--core=0',
        '--',
        ...argv,
      ];
    } else {
      const script = `ulimit -v ${opts.memoryMb * 1024} 2>/dev/null; ulimit -t ${cpu} 2>/dev/null; ulimit -c 0 2>/dev/null; exec "$@"`;
      argv = ['sh', '-c', script, 'sh', ...argv];
    }
    return await new Promise<RunOutcome>((resolve, reject) => {
      const out = new Tail(opts.maxOutputBytes);
      const err = new Tail(opts.maxOutputBytes);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
      };
      const child = spawn(argv[0] as string, argv.slice(1), {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let timedOut = false;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutSec * 1000);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new PermanentError(`code_pass could not start ${argv[0]}: ${e.message}`, { cause: e }));
      });
      // The verdict is the program's own exit. Processes it started may still hold the
      // output pipes open, so the group is killed then, and 'close' follows promptly.
      let exited: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
      child.on('exit', (exitCode, signal) => {
        exited = { exitCode, signal };
        clearTimeout(timer);
        killGroup();
      });
      child.on('close', (exitCode, signal) => {
        clearTimeout(timer);
        killGroup();
        const status = exited ?? { exitCode, signal };
        resolve({ ...status, timedOut, stdout: out.text(), stderr: err.text() });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A one-line reason from a Python traceback: the exception line, with the failing assert. */
export function failureReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1]?.trim() ?? '';
  if (!last) return 'failed (no error output)';
  const cut = (s: string) => (s.length > 200 ? `${s.slice(0, 199)}…` : s);
  if (last.startsWith('AssertionError')) {
    const src = [...lines].reverse().find((l) => /^\s+assert\b/.test(l));
    return cut(src ? `${last} at \`${src.trim()}\`` : last);
  }
  return cut(last);
}

export function createCodePassMetric(options: CodePassOptions = {}): MetricDefinition {
  const opts: Required<CodePassOptions> = {
    python: options.python ?? 'python3',
    timeoutSec: options.timeoutSec ?? 10,
    memoryMb: options.memoryMb ?? 1024,
    isolateNetwork: options.isolateNetwork ?? true,
    maxOutputBytes: options.maxOutputBytes ?? 65_536,
  };
  return {
    id: 'code_pass',
    description:
      'pass@1: the extracted Python code runs against the item tests in a separate, time- and memory-limited process',
    requiresModel: false,
    extract: extractCode,
    async score(item: Item, extracted: string | null): Promise<ScoreResult> {
      if (extracted === null) return wrong(null, 'no code');
      const code = codeOf(extracted);
      if (code.trim() === '') return wrong(extracted, 'no code');
      if (code.length > MAX_CODE_CHARS)
        return wrong(extracted, `code longer than ${MAX_CODE_CHARS} characters`);
      const program = buildProgram(item, code);
      const timeoutSec = readTimeout(item, opts.timeoutSec);
      const r = await runProgram(program, timeoutSec, opts);
      if (r.timedOut) return wrong(extracted, 'timeout');
      if (r.exitCode === 0) return right(extracted, 'all tests passed');
      if (r.signal) {
        const hint =
          r.signal === 'SIGXCPU'
            ? ' (CPU limit)'
            : r.signal === 'SIGKILL'
              ? ' (likely the memory limit)'
              : '';
        return wrong(extracted, `killed by ${r.signal}${hint}`);
      }
      return wrong(extracted, failureReason(r.stderr));
    },
  };
}

export const codePass: MetricDefinition = createCodePassMetric();
