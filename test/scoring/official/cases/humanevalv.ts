import type { OfficialCase } from '../helpers.ts';

const SIG = 'def solution(n: int) -> int:\n    """Return the number of unit squares in an n by n grid."""\n';
const TEST =
  'def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n\ncheck(solution)\n';
const extra = { function_signature: SIG, test_script: TEST };
const EXEC = 'execution.py check_correctness: passed only when exec raises nothing';
const PP = 'evaluate.py post_process';
const SB = 'execution.py check_correctness (our sandbox: the test script must run to its end)';
const py = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
const c = (name: string, cite: string, reply: string, correct: boolean): OfficialCase => ({
  name,
  cite,
  extra,
  answers: ['def solution(n):\n    return n * n'],
  answerType: 'code',
  reply,
  correct,
});
const right = 'def solution(n: int) -> int:\n    return n * n';

export const humanevalvCases: OfficialCase[] = [
  c('a right solution', EXEC, py(right), true),
  c('a wrong solution', EXEC, py('def solution(n: int) -> int:\n    return n + n'), false),
  c('body-only answer gets the signature', `${PP}: indented content`, '    return n * n\n```', true),
  c(
    'helper function and import kept',
    PP,
    py('import math\ndef sq(x):\n    return x * x\ndef solution(n):\n    return int(math.sqrt(sq(n) ** 2))'),
    true,
  ),
  c('top-level print dropped', PP, py(`${right}\nprint(solution(4))`), true),
  c(
    'top-level sys.exit(0) dropped: a wrong body still fails',
    PP,
    py('import sys\ndef solution(n):\n    return 0\nsys.exit(0)'),
    false,
  ),
  c(
    'sys.exit(0) inside the solution fails',
    EXEC,
    py('import sys\ndef solution(n):\n    sys.exit(0)'),
    false,
  ),
  c('exit() inside the solution fails', EXEC, py('def solution(n):\n    exit()'), false),
  c('raise SystemExit(0) fails', EXEC, py('def solution(n):\n    raise SystemExit(0)'), false),
  c('os._exit(0) inside the solution fails', SB, py('import os\ndef solution(n):\n    os._exit(0)'), false),
  c(
    'killing the parent fails',
    SB,
    py('import os, signal\ndef solution(n):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0'),
    false,
  ),
  c(
    'killing its process group fails',
    SB,
    py('import os, signal\ndef solution(n):\n    os.killpg(0, signal.SIGKILL)'),
    false,
  ),
  c(
    'killing PID 1 of its namespace does not help',
    SB,
    py(
      'import os, signal\ndef solution(n):\n    try:\n        os.kill(1, signal.SIGKILL)\n    except Exception:\n        pass\n    return 0',
    ),
    false,
  ),
  c(
    'patching AssertionError does not silence assert',
    SB,
    py(
      'import builtins\ndef solution(n):\n    builtins.AssertionError = type("X", (Exception,), {})\n    return 0',
    ),
    false,
  ),
  c(
    'reading the tests from disk finds nothing',
    SB,
    py(
      'import glob\ndef solution(n):\n    for f in glob.glob("*") + glob.glob("/tmp/maestro-humanevalv-*/*"):\n        t = open(f).read()\n        if "candidate(2) == 4" in t:\n            return {2: 4, 3: 9}[n]\n    return -1',
    ),
    false,
  ),
  c(
    'an infinite loop times out',
    `${EXEC}: timeout 2 s`,
    py('def solution(n):\n    while True:\n        pass'),
    false,
  ),
  c(
    'cancelling the timer is killed from outside',
    SB,
    py(
      'import signal\ndef solution(n):\n    signal.setitimer(signal.ITIMER_REAL, 0)\n    while True:\n        pass',
    ),
    false,
  ),
  c(
    'a memory bomb fails',
    SB,
    py('def solution(n):\n    x = bytearray(4 * 1024 ** 3)\n    return n * n'),
    false,
  ),
  c(
    'no network',
    SB,
    py(
      'import socket\ndef solution(n):\n    socket.create_connection(("127.0.0.1", 9), timeout=1)\n    return n * n',
    ),
    false,
  ),
  c(
    'output before the end does not matter',
    EXEC,
    py('def solution(n):\n    print("noise\\n" * 100)\n    return n * n'),
    true,
  ),
  c('a syntax error fails', EXEC, py('def solution(n)\n    return n * n'), false),
  c('no code block is pass, which fails', `${PP}: else "    pass"`, 'return n * n', false),
  c(
    'a right solution with try/finally passes',
    SB,
    py('def solution(n):\n    try:\n        return n * n\n    finally:\n        pass'),
    true,
  ),
];

/** Cases of the pylint check (evaluate.py pylint_check) that passing tests cannot rescue. */
export const humanevalvPylintCases: OfficialCase[] = [
  c(
    'an undefined name in an untested branch fails pylint',
    'evaluate.py pylint_check: error messages fail',
    py('def solution(n):\n    if n > 100:\n        return helper(n)\n    return n * n'),
    false,
  ),
  c(
    'redefining the signature stub is allowed',
    'evaluate.py pylint_check: function-redefined ignored',
    py(right),
    true,
  ),
  c(
    'calling a module that does not exist fails pylint',
    'evaluate.py pylint_check: import-error is an error',
    py('import not_a_real_module_xyz\ndef solution(n):\n    return n * n'),
    false,
  ),
];
