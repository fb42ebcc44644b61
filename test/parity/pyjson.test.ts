/**
 * The release skills word a failed call as the release's Python client does, which needs
 * Python's json module: its error messages (a reply that is not JSON) and the repr of a
 * parsed error body. Both are compared with /usr/bin/python3 on generated inputs.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pyFloatRepr, pyJsonLoads } from '../../skills/release/pyjson.ts';
import { pythonClientMessage } from '../../skills/release/wire.ts';

const PYTHON = process.env.MAESTRO_PYTHON ?? '/usr/bin/python3';

/** Python's answer for each text: ["ok", repr] or ["error", message]. */
function python(texts: string[]): Array<[string, string]> {
  const code = [
    'import json, sys',
    'out = []',
    'for t in json.load(sys.stdin):',
    '    try:',
    '        out.append(["ok", repr(json.loads(t))])',
    '    except json.JSONDecodeError as e:',
    '        out.append(["error", str(e)])',
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', code], { input: JSON.stringify(texts), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<[string, string]>;
}

/** A tiny deterministic generator (no Math.random: the cases are the same every run). */
function lcg(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

const REPLY = JSON.stringify({
  id: 'cmpl-1',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Le \u00e9t\u00e9 "hot"\n\ttab \u2028 😀' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
});
const VLLM = JSON.stringify({
  object: 'error',
  message: "It's too long: 17000 > 16384",
  type: 'BadRequestError',
  param: null,
  code: 400,
});

function cases(): string[] {
  const out = new Set<string>([
    '',
    ' ',
    'null',
    '<html>busy</html>',
    '{"a": 1,}',
    '[1, 2,]',
    '{"a" 1}',
    '{a: 1}',
    '{"a": 1} x',
    '"\\q"',
    '"\\u12"',
    '"\\ud83d\\ude00 pair"',
    '"tab\there"',
    '[1.0, 1e5, -0.0, 1.5e-7, 12345678901234567890, 1e16, 0.0001, 123456789012345.6, NaN, -Infinity]',
    '{"k": "it\'s", "q": "both \' and \\"", "u": "\\u0000\\u007f\\u00a0\\u00ad\\u200b"}',
    '{"dup": 1, "b": 2, "dup": 3}',
    '\n\n  {"x":\n [1,\n 2',
    '\ufeff{}',
    REPLY,
    VLLM,
  ]);
  // Every truncation of a reply and an error body, and random one-character damage.
  for (const text of [REPLY, VLLM]) {
    const cps = Array.from(text);
    for (let i = 0; i < cps.length; i++) out.add(cps.slice(0, i).join(''));
    const rnd = lcg(text.length);
    const junk = ['"', ',', '}', ']', ':', '\\', ' ', 'x', '\n', '{', '['];
    for (let k = 0; k < 150; k++) {
      const copy = [...cps];
      const at = Math.floor(rnd() * copy.length);
      const what = rnd();
      if (what < 0.4) copy.splice(at, 1);
      else if (what < 0.7) copy.splice(at, 0, junk[Math.floor(rnd() * junk.length)]!);
      else copy[at] = junk[Math.floor(rnd() * junk.length)]!;
      out.add(copy.join(''));
    }
  }
  return [...out];
}

describe("Python's json.loads: messages and reprs", () => {
  const inputs = cases();
  const expected = python(inputs);

  it(`agrees with ${PYTHON} on ${inputs.length} texts`, () => {
    const ours = inputs.map((t): [string, string] => {
      const r = pyJsonLoads(t);
      return r.ok ? ['ok', r.repr] : ['error', r.message];
    });
    const differing = inputs.flatMap((t, i) =>
      JSON.stringify(ours[i]) === JSON.stringify(expected[i])
        ? []
        : [{ t, ours: ours[i], python: expected[i] }],
    );
    expect(differing.slice(0, 5)).toEqual([]);
    expect(expected.filter(([k]) => k === 'error').length).toBeGreaterThan(200);
  });

  it('float repr switches to exponent form where Python does', () => {
    expect([1e16, 1e15, 0.0001, 0.00001, 2.5, 100].map(pyFloatRepr)).toEqual([
      '1e+16',
      '1000000000000000.0',
      '0.0001',
      '1e-05',
      '2.5',
      '100.0',
    ]);
  });
});

describe("the Python OpenAI client's messages", () => {
  it('status errors show the parsed body, the raw text, or only the code', () => {
    expect(pythonClientMessage({ kind: 'status', status: 400, body: VLLM })).toBe(
      `Error code: 400 - {'object': 'error', 'message': "It's too long: 17000 > 16384", 'type': 'BadRequestError', 'param': None, 'code': 400}`,
    );
    expect(pythonClientMessage({ kind: 'status', status: 502, body: ' Bad gateway\n' })).toBe('Bad gateway');
    expect(pythonClientMessage({ kind: 'status', status: 404, body: '' })).toBe('Error code: 404');
    expect(pythonClientMessage({ kind: 'status', status: 500, body: '"plain"' })).toBe(
      'Error code: 500 - plain',
    );
  });

  it('timeouts and connection failures', () => {
    expect(pythonClientMessage({ kind: 'timeout' })).toBe('Request timed out.');
    expect(pythonClientMessage({ kind: 'connection', detail: 'ECONNREFUSED' })).toBe('Connection error.');
  });
});
