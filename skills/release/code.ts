/**
 * The release's Code_Problem_Solver, call for call: up to two calls to extract an `assert`
 * test from the image, then up to three rounds of generate → run the test → repair. Like
 * the release it needs a Python interpreter (MAESTRO_PYTHON, default python3): Python's own
 * parser decides what counts as a valid assert or code block, and the candidate code runs
 * with the test in a temporary file (10 s limit), its error output fed back verbatim.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pyStrip } from './pytext.ts';
import type { ReleaseInputs, ReleaseSkillCode } from './run.ts';
import { callExpert, userMessage } from './run.ts';
import type { Completion } from './wire.ts';

const FILE = 'skills/Code_Problem_Solver.py';
const MAX_ROUNDS = 3;
const EXEC_TIMEOUT_S = 10;

const python = () => process.env.MAESTRO_PYTHON ?? 'python3';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runPython(args: string[], input: string, cwd: string, timeoutS: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(python(), args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    child.stdin.end(input);
  });
}

/** Python's `ast.parse` verdict on a piece of code. */
async function parses(code: string): Promise<boolean> {
  const r = await runPython(['-c', 'import ast, sys\nast.parse(sys.stdin.read())'], code, tmpdir(), 30);
  return r.code === 0;
}

/** This skill's `_remove_think_content`: text after the last `</think>`, think blocks removed, stripped. */
function removeThinkCode(text: string): string {
  if (text === '') return text;
  const closes = [...text.matchAll(/<\/think>/gi)];
  const last = closes[closes.length - 1];
  const after = last ? text.slice(last.index + last[0].length) : text;
  return pyStrip(after.replace(/<think>[\s\S]*?<\/think>/gi, ''));
}

/** Python's str.splitlines(). */
function splitlines(s: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Python's line boundaries include \x1c-\x1e.
  const lines = s.split(/\r\n|[\n\r\v\f\u001c\u001d\u001e\u0085\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** `_normalize_assertion`: the first line that is a valid `assert`, else the first assert found. */
async function normalizeAssertion(text: string): Promise<string> {
  const cleaned = pyStrip(pyStrip(removeThinkCode(text)).replaceAll('`', ''));
  for (const line of splitlines(cleaned).map(pyStrip).filter(Boolean)) {
    if (line.startsWith('assert ') && (await parses(line))) return line;
  }
  const m = /(assert\s+[\s\S]+)/.exec(cleaned);
  if (!m) return '';
  const candidate = pyStrip(splitlines(pyStrip(m[1]!))[0] ?? '');
  return (await parses(candidate)) ? candidate : '';
}

/** `_extract_code_block`: the last ```python block, when Python parses it. */
async function codeBlock(text: string): Promise<string> {
  const cleaned = removeThinkCode(text);
  const start = cleaned.toLowerCase().lastIndexOf('```python');
  if (start < 0) return '';
  const from = start + '```python'.length;
  const end = cleaned.indexOf('```', from);
  const code = pyStrip(end < 0 ? cleaned.slice(from) : cleaned.slice(from, end));
  if (!code) return '';
  return (await parses(code)) ? code : '';
}

/** `_run_code_with_assert`: runs code + assert in a temporary file like Python's tempfile. */
async function runWithAssert(code: string, test: string, timeoutText: string): Promise<[boolean, string]> {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789_';
  const name = `tmp${Array.from(randomBytes(8), (b) => letters[b % letters.length]).join('')}.py`;
  const path = join(process.env.TMPDIR || '/tmp', name);
  try {
    writeFileSync(path, `${code.trimEnd()}\n\n${pyStrip(test)}\n`);
    const r = await runPython([path], '', '/tmp', EXEC_TIMEOUT_S);
    if (r.timedOut) return [false, timeoutText];
    return [r.code === 0, pyStrip(r.stderr || r.stdout || '')];
  } catch (err) {
    return [false, err instanceof Error ? err.message : String(err)];
  } finally {
    rmSync(path, { force: true });
  }
}

const fenced = (c: Completion, code: string): Completion => ({
  ...c,
  content: `\`\`\`python\n${code}\n\`\`\``,
});

async function generate(inp: ReleaseInputs): Promise<Completion | null> {
  const t = inp.env.texts;
  const constant = (n: string) => t.constant(FILE, n);
  const template = (fn: string) => t.template(FILE, [`def ${fn}`, 'return']);
  const q = pyStrip(inp.question);
  const signature = q.includes('def ')
    ? q
    : t.literal(FILE, ['def _extract_signature_block', 'return question', 'return']);
  const trimmed = signature.trimEnd();
  const stub = /\n\s+pass\s*$/.test(trimmed) ? trimmed : `${trimmed}\n    pass`;
  const values: Record<string, string> = {
    TEST_CASE_EXTRACTION_PROMPT: constant('TEST_CASE_EXTRACTION_PROMPT'),
    CODE_GENERATION_PROMPT: constant('CODE_GENERATION_PROMPT'),
    CODE_REGENERATION_PROMPT: constant('CODE_REGENERATION_PROMPT'),
    CODE_REPAIR_PROMPT: constant('CODE_REPAIR_PROMPT'),
    'self._extract_signature_block()': signature,
    'self.question': inp.question,
    candidate_code: stub,
  };
  const ask = async (text: string) => {
    const out = await callExpert(inp.env, [userMessage(inp.imageUrls, text)]);
    // `_call_model` cleans every reply; `_extract_content` reads None as "".
    return out.hasChoices && out.content ? { ...out, content: removeThinkCode(out.content) } : out;
  };
  const contentOf = (c: Completion) => (c.hasChoices ? (c.content ?? '') : '');

  let test = '';
  for (let round = 0; round < 2 && !test; round++) {
    test = await normalizeAssertion(contentOf(await ask(template('_build_test_prompt').render(values))));
  }
  const noCode = t.literal(FILE, ['def generate', 'last_error =', 'last_error =']);
  const unknown = t.literal(FILE, ['def generate', 'last_error = error_text or']);
  const timeoutText = t.template(FILE, ['except subprocess.TimeoutExpired:', 'return False,']).render({
    'self.exec_timeout': String(EXEC_TIMEOUT_S),
  });
  let last: Completion | null = null;
  let lastCode = '';
  let lastError = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let prompt: string;
    if (round === 0) prompt = template('_build_generation_prompt').render(values);
    else if (!lastCode) {
      prompt = template('_build_regeneration_prompt').render({
        ...values,
        previous_output: last ? contentOf(last) : '',
      });
    } else {
      prompt = template('_build_repair_prompt').render({
        ...values,
        bad_code: lastCode,
        assert_stmt: test,
        error_text: lastError,
      });
    }
    const out = await ask(prompt);
    const code = await codeBlock(contentOf(out));
    last = out;
    lastCode = code;
    if (!code) {
      lastError = noCode;
      continue;
    }
    if (!test) return fenced(out, code);
    const [passed, error] = await runWithAssert(code, test, timeoutText);
    if (passed) return fenced(out, code);
    lastError = error || unknown;
  }
  if (last && lastCode) return fenced(last, lastCode);
  return last;
}

export const codeRelease: ReleaseSkillCode = {
  name: 'Code_Problem_Solver',
  aliases: ['code_problem_solver', 'code-problem-solver'],
  file: FILE,
  services: [],
  async build(inp) {
    // No try/except in the release's generate: an error reaches the orchestrator's message.
    return { generate: () => generate(inp) };
  },
};
