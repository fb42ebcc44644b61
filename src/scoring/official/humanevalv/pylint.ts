import { spawn } from 'node:child_process';
import { z } from 'zod';
import { PermanentError } from '../../../core/errors.ts';

/**
 * HumanEval-V's static check (evaluate.py pylint_check): the program fails when pylint
 * reports a message of type error or fatal other than function-redefined (the signature stub
 * is always redefined). Runs Debian's pylint (`python3 -m pylint`, package `pylint`) on the
 * program from stdin; pylint analyses, it does not run the code.
 */

const Message = z.object({
  type: z.string(),
  symbol: z.string(),
  message: z.string(),
  line: z.number().nullable(),
});
const Report = z.array(Message);

export const PYLINT_PYTHON = process.env.MAESTRO_PYLINT_PYTHON ?? '/usr/bin/python3';
const ARGS = ['-m', 'pylint', '--from-stdin', 'candidate.py', '--output-format=json', '--disable=C,R,W,I'];
const LIMIT_MS = 60_000;

/** The pylint errors upstream counts, as "line N: message (symbol)". */
export function pylintErrors(program: string, python = PYLINT_PYTHON): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...ARGS, '--persistent=n', '--score=n'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString('utf8')).slice(-2000);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new PermanentError(`cannot run ${python} -m pylint`, { cause: e, hint: 'apt-get install pylint' }),
      );
    });
    child.on('close', () => {
      clearTimeout(timer);
      const report = Report.safeParse(parseJson(out));
      if (!report.success) {
        reject(
          new PermanentError(`pylint gave no JSON report: ${err.trim().split('\n').pop() ?? ''}`, {
            hint: 'HumanEval-V official scoring needs Debian pylint (apt-get install pylint)',
          }),
        );
        return;
      }
      const errors = report.data.filter(
        (m) => (m.type === 'error' || m.type === 'fatal') && m.symbol !== 'function-redefined',
      );
      resolve(errors.map((m) => `line ${m.line ?? '?'}: ${m.message} (${m.symbol})`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(program);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    return undefined;
  }
}
