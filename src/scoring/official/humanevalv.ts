import { createHash } from 'node:crypto';
import { PermanentError } from '../../core/errors.ts';
import type { Item } from '../../core/items.ts';
import { humanevalvPostProcess } from './humanevalv/post-process.ts';
import { pylintErrors } from './humanevalv/pylint.ts';
import { runInSandbox } from './humanevalv/run.ts';
import { type OfficialScorer, officialVerdict } from './types.ts';

/**
 * HumanEval-V, as its evaluate.py scores a sample: post_process (see humanevalv/
 * post-process.ts), the pylint check, then the program runs with a 2 s limit and passes when nothing was raised.
 * Here it runs in the sandbox of humanevalv/run.ts, where passing also needs the test script
 * to have run to its end.
 * Items carry the release's `function_signature` and `test_script` in `extra`. Items imported
 * without them (the older fixtures: `extra.tests` with a `check` function and an
 * `entryPoint`) run as their code, the tests and `check(<entryPoint>)`, without the stub.
 * Before it runs, upstream's pylint check (humanevalv/pylint.ts): a program with pylint errors
 * fails.
 */

interface Source {
  signature: string;
  test: string;
}

function sourceOf(item: Item): Source {
  const { function_signature: sig, test_script: script, tests, entryPoint, entry_point } = item.extra;
  if (typeof sig === 'string' && typeof script === 'string') return { signature: sig, test: script };
  const entry = entryPoint ?? entry_point;
  if (typeof tests === 'string' && tests.trim() !== '') {
    const call =
      typeof entry === 'string' && /^[A-Za-z_]\w*$/.test(entry) && /^\s*def\s+check\s*\(/m.test(tests)
        ? `\n\ncheck(${entry})\n`
        : '';
    return { signature: '', test: `${tests}${call}` };
  }
  throw new PermanentError(
    `HumanEval-V item ${item.id} has no extra.function_signature and extra.test_script`,
  );
}

/** What a program scored: pass, and why (the lint errors or the run's outcome). */
interface ProgramVerdict {
  passed: boolean;
  why: string;
}

/**
 * Verdicts of programs already checked in this process, by the program's sha256. The oracle
 * scores every expert's candidate and experts often write the same program: pylint and the
 * sandbox run once per distinct program. Only settled outcomes are kept (a run cut short by
 * its time limit may be the machine's load, so it is checked again).
 */
const checked = new Map<string, ProgramVerdict>();
const CHECKED_MAX = 4096;

async function checkProgram(program: string): Promise<ProgramVerdict> {
  const key = createHash('sha256').update(program).digest('hex');
  const known = checked.get(key);
  if (known) return known;
  const lint = await pylintErrors(program);
  let verdict: ProgramVerdict;
  let settled = true;
  if (lint.length > 0) {
    verdict = { passed: false, why: `pylint check failed: ${lint.slice(0, 3).join('; ')}` };
  } else {
    const run = await runInSandbox(program);
    settled = !run.timedOut;
    verdict = {
      passed: run.passed,
      why: run.passed ? 'passed: the test script ran to its end' : `failed: ${run.detail}`,
    };
  }
  if (settled) {
    if (checked.size >= CHECKED_MAX) checked.delete(checked.keys().next().value as string);
    checked.set(key, verdict);
  }
  return verdict;
}

export const humanevalvOfficial: OfficialScorer = {
  name: 'humanevalv',
  source: 'HumanEval-V/HumanEval-V-Benchmark evaluate.py',
  async score(item, prediction) {
    const { signature, test } = sourceOf(item);
    const processed = await humanevalvPostProcess(prediction, signature, test);
    const program = signature === '' ? `${processed.completion}\n\n${test}` : processed.program;
    const { passed, why } = await checkProgram(program);
    return officialVerdict(passed, processed.completion || null, why);
  },
};
