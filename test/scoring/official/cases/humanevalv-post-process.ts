/** Cases of HumanEval-V's post-processing: the reply and the code upstream keeps of it. */
export const SIG = 'def solution(n: int) -> int:\n    """Count the squares."""';
export const TEST = 'assert solution(2) == 4';
const PP = 'evaluate.py post_process';
const X = 'evaluate.py CodeExtractor / extract_code_without_function_class_parent';

export interface PostProcessCase {
  name: string;
  cite: string;
  prediction: string;
  /** The kept code, upstream's `completion`. */
  completion: string;
}

const fence = (lang: string, code: string) => `\`\`\`${lang}\n${code}\n\`\`\``;

export const postProcessCases: PostProcessCase[] = [
  {
    name: 'one python fence',
    cite: `${PP}: single \`\`\`python`,
    prediction: `Here:\n${fence('python', 'def solution(n):\n    return n * n')}`,
    completion: 'def solution(n):\n    return n * n',
  },
  {
    name: 'top-level call dropped',
    cite: X,
    prediction: fence('python', 'def solution(n):\n    return n * n\nprint(solution(2))'),
    completion: 'def solution(n):\n    return n * n',
  },
  {
    name: 'sys.exit(0) at top level dropped, its import kept',
    cite: X,
    prediction: fence('python', 'import sys\ndef solution(n):\n    return 0\nsys.exit(0)'),
    completion: 'import sys\ndef solution(n):\n    return 0',
  },
  {
    name: 'os._exit at top level dropped',
    cite: X,
    prediction: fence('python', 'import os\nos._exit(0)\ndef solution(n):\n    return 1'),
    completion: 'import os\ndef solution(n):\n    return 1',
  },
  {
    name: 'monkey-patching at top level dropped',
    cite: X,
    prediction: fence(
      'python',
      'import builtins\nbuiltins.AssertionError = None\ndef solution(n):\n    return 1',
    ),
    completion: 'import builtins\ndef solution(n):\n    return 1',
  },
  {
    name: 'from-import with alias',
    cite: X,
    prediction: fence('python', 'from math import sqrt as s\ndef solution(n):\n    return int(s(n))'),
    completion: 'from math import sqrt as s\ndef solution(n):\n    return int(s(n))',
  },
  {
    name: 'import inside the function is also listed',
    cite: `${X}: visit_Import walks the whole tree`,
    prediction: fence('python', 'def solution(n):\n    import math\n    return math.floor(n)'),
    completion: 'def solution(n):\n    import math\n    return math.floor(n)\nimport math',
  },
  {
    name: 'nested function kept inside its parent only',
    cite: `${X}: _has_function_or_class_parent`,
    prediction: fence('python', 'def solution(n):\n    def h(x):\n        return x\n    return h(n)'),
    completion: 'def solution(n):\n\n    def h(x):\n        return x\n    return h(n)',
  },
  {
    name: 'class kept',
    cite: X,
    prediction: fence('python', 'class Grid:\n    size = 3\ndef solution(n):\n    return Grid.size'),
    completion: 'class Grid:\n    size = 3\ndef solution(n):\n    return Grid.size',
  },
  {
    name: 'global constant dropped',
    cite: X,
    prediction: fence('python', 'K = 3\ndef solution(n):\n    return K'),
    completion: 'def solution(n):\n    return K',
  },
  {
    name: 'async def dropped',
    cite: `${X}: only FunctionDef and ClassDef`,
    prediction: fence('python', 'async def helper():\n    return 1\ndef solution(n):\n    return 2'),
    completion: 'def solution(n):\n    return 2',
  },
  {
    name: 'several fences: the last with def solution',
    cite: `${PP}: last block with "def solution"`,
    prediction: `${fence('python', 'def solution(n):\n    return 1')}\nor\n${fence('python', 'def solution(n):\n    return 2')}`,
    completion: 'def solution(n):\n    return 2',
  },
  {
    name: 'several fences, none with def solution: the first closed one',
    cite: `${PP}: possible_content[-1]`,
    prediction: `${fence('python', 'def a():\n    return 1')}\n${fence('python', 'def b():\n    return 2')}`,
    completion: 'def a():\n    return 1',
  },
  {
    name: '``` python with a space',
    cite: `${PP}: "\`\`\` python"`,
    prediction: '``` python\ndef solution(n):\n    return 3\n```',
    completion: 'def solution(n):\n    return 3',
  },
  {
    name: 'unlabelled fence',
    cite: `${PP}: count >= 2, split("\`\`\`")[1]`,
    prediction: 'x\n```\ndef solution(n):\n    return 4\n```',
    completion: 'def solution(n):\n    return 4',
  },
  {
    name: 'body only before a lone fence gets the signature',
    cite: `${PP}: count == 1 and indented content`,
    prediction: '    return n * 2\n```',
    completion: 'def solution(n: int) -> int:\n    """Count the squares."""\n    return n * 2',
  },
  {
    name: 'no fence at all is pass',
    cite: `${PP}: else "    pass"`,
    prediction: 'def solution(n):\n    return 5',
    completion: 'def solution(n: int) -> int:\n    """Count the squares."""\n    pass',
  },
  {
    name: 'syntax error keeps the content as it is',
    cite: `${PP}: except: completion = content`,
    prediction: fence('python', 'def solution(n)\n    return 6'),
    completion: '\ndef solution(n)\n    return 6\n',
  },
  {
    name: 'decorated function kept with its decorator',
    cite: X,
    prediction: fence('python', 'import functools\n@functools.lru_cache\ndef solution(n):\n    return n'),
    completion: 'import functools\n@functools.lru_cache\ndef solution(n):\n    return n',
  },
  {
    name: 'main guard dropped',
    cite: X,
    prediction: fence(
      'python',
      'def solution(n):\n    return n\nif __name__ == "__main__":\n    print(solution(1))',
    ),
    completion: 'def solution(n):\n    return n',
  },
  {
    name: 'unclosed python fence runs to the end',
    cite: `${PP}: split("\`\`\`")[0]`,
    prediction: '```python\ndef solution(n):\n    return 7\n',
    completion: 'def solution(n):\n    return 7',
  },
];
