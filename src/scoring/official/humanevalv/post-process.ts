import { spawn } from 'node:child_process';
import { z } from 'zod';
import { PermanentError } from '../../../core/errors.ts';
import { besideSource } from '../../../core/paths.ts';

/**
 * HumanEval-V's post-processing of a reply (HumanEval-V/HumanEval-V-Benchmark evaluate.py
 * post_process), before its code is checked and run:
 * 1. The code: with one ```python fence, its content; with several, the last block that
 *    contains "def solution", else the first closed one (else "    pass"); else the first
 *    "``` python" block; else text before a lone ``` (a body-only answer), or the first
 *    unlabelled block; else "    pass".
 * 2. Code that starts indented (a body without its signature) gets the function signature
 *    in front.
 * 3. Only imports (from anywhere in the code) and top-level function and class definitions
 *    are kept (top_level.py); code that does not parse is kept as it is.
 * 4. The program is the signature with a `pass` body, the kept code, then the test script.
 */

export function humanevalvFenceContent(prediction: string): string {
  if (prediction.includes('```python')) {
    const splits = prediction.split('```python');
    if (splits.length === 2) return (splits[1] as string).split('```')[0] as string;
    const possible: string[] = [];
    for (const block of splits.slice().reverse()) {
      if (block.split('```').length - 1 !== 1) continue;
      const body = block.split('```')[0] as string;
      if (block.includes('def solution')) return body;
      possible.push(body);
    }
    return possible[possible.length - 1] ?? '    pass';
  }
  if (prediction.includes('``` python'))
    return (prediction.split('``` python')[1] as string).split('```')[0] as string;
  const count = prediction.split('```').length - 1;
  if (count === 1) return prediction.split('```')[0] as string;
  if (count >= 2) return prediction.split('```')[1] as string;
  return '    pass';
}

// In the source tree also when running from dist/ (the .py files are not compiled or copied).
const TOP_LEVEL_PY = besideSource(import.meta.url, './top_level.py');
const Kept = z.union([
  z.object({ ok: z.literal(true), code: z.string() }),
  z.object({ ok: z.literal(false) }),
]);

/** Step 3 through `python3 top_level.py`; null when the code does not parse. */
export function keepTopLevel(code: string, python = 'python3'): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-B', TOP_LEVEL_PY], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', (e) =>
      reject(new PermanentError(`cannot run ${python} for HumanEval-V post-processing`, { cause: e })),
    );
    child.on('close', (status) => {
      const parsed = status === 0 ? Kept.safeParse(safeJson(out)) : undefined;
      if (!parsed?.success) {
        reject(new PermanentError(`HumanEval-V post-processing failed (exit ${status}): ${err.slice(-500)}`));
        return;
      }
      resolve(parsed.data.ok ? parsed.data.code : null);
    });
    child.stdin.end(code);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface PostProcessed {
  /** The kept code (upstream's `completion`). */
  completion: string;
  /** The program that is checked and run (upstream's `concatenated_code`). */
  program: string;
}

/** post_process(prediction, signature, test). */
export async function humanevalvPostProcess(
  prediction: string,
  signature: string,
  test: string,
  python = 'python3',
): Promise<PostProcessed> {
  const sig = signature.endsWith('\n') ? signature : `${signature}\n`;
  let content = humanevalvFenceContent(prediction);
  if (content.startsWith('\n  ') || content.startsWith('  ')) content = sig + content;
  const completion = (await keepTopLevel(content, python)) ?? content;
  return { completion, program: `${sig}    pass\n\n${completion}\n\n${test}` };
}
