import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { scoreItem } from '../../src/scoring/index.ts';
import {
  buildProgram,
  createCodePassMetric,
  extractCode,
  failureReason,
} from '../../src/scoring/metrics/code-pass.ts';
import { getMetric } from '../../src/scoring/metrics/index.ts';
import { bench, makeItem } from './helpers.ts';

const CHECK_TESTS = `
def check(candidate):
    assert candidate(2, 3) == 5
    assert candidate(-1, 1) == 0
`;

const item = (extra: Record<string, unknown> = {}) =>
  makeItem({
    id: 'he-1',
    answers: ['(code)'],
    answerType: 'code',
    extra: { tests: CHECK_TESTS, entryPoint: 'add', ...extra },
  });

const fence = (code: string) => `Here is my solution:\n\`\`\`python\n${code}\n\`\`\`\nDone.`;

const codePass = getMetric('code_pass');

function leftoverDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith('maestro-code-pass-'));
}

describe('code_pass', () => {
  it('passes a correct solution from a python fence', async () => {
    const r = await scoreItem(
      item(),
      bench('humanevalv', 'code_pass'),
      `<answer>${fence('def add(a, b):\n    return a + b')}</answer>`,
    );
    expect(r).toMatchObject({ correct: true, score: 1, reason: 'all tests passed' });
    expect(r.extracted).toBe('def add(a, b):\n    return a + b');
  });

  it('fails a wrong solution with the failing assert as the reason', async () => {
    const r = await codePass.score(item(), 'def add(a, b):\n    return a - b');
    expect(r.correct).toBe(false);
    expect(r.reason).toMatch(/^AssertionError/);
    expect(r.reason).toContain('assert candidate(2, 3) == 5');
  });

  it('stops an infinite loop at the item timeout', async () => {
    const r = await codePass.score(item({ timeoutSec: 1 }), 'def add(a, b):\n    while True:\n        pass');
    expect(r).toMatchObject({ correct: false, reason: 'timeout' });
  });

  it('fails a syntax error', async () => {
    const r = await codePass.score(item(), 'def add(a, b)\n    return a + b');
    expect(r.correct).toBe(false);
    expect(r.reason).toMatch(/SyntaxError/);
  });

  it('runs plain top-level asserts when the tests define no check()', async () => {
    const plain = makeItem({ answers: ['x'], extra: { tests: 'assert double(4) == 8\n' } });
    expect((await codePass.score(plain, 'def double(x):\n    return 2 * x')).correct).toBe(true);
    expect((await codePass.score(plain, 'def double(x):\n    return x')).correct).toBe(false);
  });

  it('fails a solution that raises instead of returning', async () => {
    const r = await codePass.score(item(), 'def add(a, b):\n    raise ValueError("nope")');
    expect(r).toMatchObject({ correct: false, reason: 'ValueError: nope' });
  });

  it('gives the program no network and only PATH/LANG in its environment', async () => {
    const tests = `
import os, socket
assert sorted(k for k in os.environ if k not in ('LC_CTYPE', 'PWD', 'SHLVL', '_')) == ['LANG', 'PATH'], sorted(os.environ)
try:
    socket.create_connection(('93.184.216.34', 80), timeout=2)
    raise SystemExit('network reachable')
except OSError:
    pass
assert os.getcwd().startswith(${JSON.stringify(tmpdir())})
`;
    const r = await codePass.score(makeItem({ answers: ['x'], extra: { tests } }), 'pass');
    expect(r).toMatchObject({ correct: true });
  });

  it('judges a program by its own exit even when a process it started keeps the pipes open', async () => {
    const tests =
      'import subprocess, sys\nsubprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])\nassert False, "own verdict"\n';
    const r = await codePass.score(makeItem({ answers: ['x'], extra: { tests, timeoutSec: 20 } }), 'pass');
    expect(r.reason).toBe('AssertionError: own verdict at `assert False, "own verdict"`');
  });

  it('removes its temporary directory', async () => {
    const before = new Set(leftoverDirs());
    await codePass.score(item(), 'def add(a, b):\n    return a + b');
    expect(leftoverDirs().filter((d) => !before.has(d))).toEqual([]);
  });

  it('throws (an item error, never a pass) when the interpreter is missing', async () => {
    const missing = createCodePassMetric({ python: 'python3-definitely-not-installed' });
    await expect(missing.score(item(), 'def add(a, b):\n    return a + b')).rejects.toThrow(
      /python3-definitely-not-installed is not installed or not on PATH/,
    );
  });

  it('throws on an item without tests', () => {
    expect(() => buildProgram(makeItem({ id: 'bad' }), 'pass')).toThrow(
      /item bad: code_pass needs extra.tests/,
    );
  });

  it('refuses an entry point that is not an identifier', () => {
    expect(() => buildProgram(item({ entryPoint: 'add); import os; (' }), 'pass')).toThrow(
      /Python identifier/,
    );
  });

  it('appends check(entryPoint) only when the tests define check', () => {
    expect(buildProgram(item(), 'X')).toMatch(/check\(add\)\n$/);
    expect(buildProgram(item({ tests: 'assert add(1, 1) == 2' }), 'X')).not.toContain('check(add)');
  });
});

describe('extractCode', () => {
  it('takes the last python fence inside the last answer tag', () => {
    const raw = `<answer>\`\`\`python\nA = 1\n\`\`\`\ntext\n\`\`\`py\nB = 2\n\`\`\`</answer>`;
    expect(extractCode(raw)).toEqual({ extracted: 'B = 2', method: 'tag:fence' });
  });

  it('prefers a python fence over a later unlabelled one', () => {
    const raw = '```python\nA = 1\n```\n```\noutput: 1\n```';
    expect(extractCode(raw).extracted).toBe('A = 1');
  });

  it('uses the raw text when there is no fence', () => {
    expect(extractCode('def f():\n    return 1\n')).toEqual({
      extracted: 'def f():\n    return 1',
      method: 'raw:code',
    });
  });

  it('finds nothing in a fence of another language', () => {
    expect(extractCode('```js\nconsole.log(1)\n```').extracted).toBe(null);
  });

  it('keeps an unclosed final fence (generation stopped)', () => {
    expect(extractCode('```python\ndef f():\n    return 1').extracted).toBe('def f():\n    return 1');
  });
});

describe('failureReason', () => {
  it('names the exception and the failing assert', () => {
    const tb =
      'Traceback (most recent call last):\n  File "main.py", line 9\n    assert candidate(1) == 2\nAssertionError\n';
    expect(failureReason(tb)).toBe('AssertionError at `assert candidate(1) == 2`');
  });

  it('says so when there is no output', () => {
    expect(failureReason('')).toBe('failed (no error output)');
  });
});
