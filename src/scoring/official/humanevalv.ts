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

export const humanevalvOfficial: OfficialScorer = {
  name: 'humanevalv',
  source: 'HumanEval-V/HumanEval-V-Benchmark evaluate.py',
  async score(item, prediction) {
    const { signature, test } = sourceOf(item);
    const processed = await humanevalvPostProcess(prediction, signature, test);
    const program = signature === '' ? `${processed.completion}\n\n${test}` : processed.program;
    const lint = await pylintErrors(program);
    if (lint.length > 0) {
      return officialVerdict(
        false,
        processed.completion || null,
        `pylint check failed: ${lint.slice(0, 3).join('; ')}`,
      );
    }
    const run = await runInSandbox(program);
    return officialVerdict(
      run.passed,
      processed.completion || null,
      run.passed ? 'passed: the test script ran to its end' : `failed: ${run.detail}`,
    );
  },
};
