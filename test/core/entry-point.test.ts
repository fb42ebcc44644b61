import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * bin/maestro-eval.js in a fake package whose compiled and source entry points only say
 * which one ran (and the MAESTRO_DEV they pass on to the processes they would start).
 */
const REPO = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'maestro-bin-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const at = (path: string) => join(root, path);
function write(path: string, text: string): void {
  mkdirSync(join(at(path), '..'), { recursive: true });
  writeFileSync(at(path), text);
}
/** Sets a file's modification time, in seconds from now. */
function age(path: string, seconds: number): void {
  const t = Date.now() / 1000 + seconds;
  utimesSync(at(path), t, t);
}

mkdirSync(at('bin'));
copyFileSync(join(REPO, 'bin', 'maestro-eval.js'), at('bin/maestro-eval.js'));
symlinkSync(join(REPO, 'node_modules'), at('node_modules'), 'dir');
write('package.json', JSON.stringify({ name: 'fake', type: 'module' }));
write('src/cli/main.ts', "const dev: string = process.env.MAESTRO_DEV ?? '';\nconsole.log('tsx', dev);\n");
write('skills/a.ts', 'export {};\n');
write('benchmarks/b.ts', 'export {};\n');
// The bundle's form (scripts/build.mjs): a function expression taking CommonJS's arguments.
write(
  'dist/cli.cjs',
  "(function (exports, require, module) {\nmodule.exports.main = async () => {\n  console.log('dist', process.env.MAESTRO_DEV, require('node:path').sep);\n  if (process.argv.includes('fail')) process.exitCode = 3;\n};\n})\n",
);

function run(env: Record<string, string> = {}, args: string[] = [], status = 0): string {
  const { MAESTRO_DEV: _ignored, NODE_OPTIONS: _options, ...base } = process.env;
  const r = spawnSync(process.execPath, [at('bin/maestro-eval.js'), ...args], {
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  if (r.status !== status) throw new Error(`bin exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('the entry point (bin/maestro-eval.js)', () => {
  beforeEach(() => {
    write('dist/.stamp', 'built\n');
    for (const f of ['src/cli/main.ts', 'skills/a.ts', 'benchmarks/b.ts']) age(f, -60);
  });

  it('runs dist/ when its stamp is newer than every source, and passes the choice on', () => {
    expect(run()).toBe('dist 0 /');
  });

  it('runs the sources through tsx when any .ts file changed after the build', () => {
    age('benchmarks/b.ts', 60);
    expect(run()).toBe('tsx 1');
  });

  it('runs the sources when dist/ has no stamp (never built, or its build failed)', () => {
    rmSync(at('dist/.stamp'));
    expect(run()).toBe('tsx 1');
    expect(run({ MAESTRO_DEV: '0' })).toBe('tsx 1');
  });

  it('obeys MAESTRO_DEV: 1 always the sources, 0 dist/ without the freshness check', () => {
    expect(run({ MAESTRO_DEV: '1' })).toBe('tsx 1');
    age('skills/a.ts', 60);
    expect(run({ MAESTRO_DEV: '0' })).toBe('dist 0 /');
  });
});

describe("the bundle's code cache (dist/code-cache/)", () => {
  const dir = at('dist/code-cache');
  const files = () => (existsSync(dir) ? readdirSync(dir).sort() : []);
  beforeEach(() => {
    rmSync(dir, { recursive: true, force: true });
    write('dist/.stamp', 'built\n');
    for (const f of ['src/cli/main.ts', 'skills/a.ts', 'benchmarks/b.ts']) age(f, -60);
  });

  it('is written by a successful run, one file per command, and used (not rewritten) by the next', () => {
    expect(run({}, ['status'])).toBe('dist 0 /');
    const [status] = files();
    expect(status).toMatch(/^status-[0-9a-f]{8}\.bin$/);
    age(`dist/code-cache/${status}`, -60);
    const written = statSync(join(dir, status!)).mtimeMs;
    run({}, ['status']);
    expect(statSync(join(dir, status!)).mtimeMs).toBe(written);
    run({}, ['sweep', 'x.yaml']);
    expect(files()).toEqual([expect.stringMatching(/^status-/), expect.stringMatching(/^sweep-/)]);
  });

  it('is not written by a run that only printed help, or that failed', () => {
    run({}, ['status', '--help']);
    run({}, ['-h']);
    run({}, ['status', 'fail'], 3);
    expect(files()).toEqual([]);
  });

  it('is replaced when V8 rejects it, and kept apart per set of V8 flags', () => {
    run({}, ['status']);
    const [status] = files();
    writeFileSync(join(dir, status!), 'not a code cache');
    expect(run({}, ['status'])).toBe('dist 0 /');
    expect(readFileSync(join(dir, status!)).length).toBeGreaterThan(100);
    run({ NODE_OPTIONS: '--max-old-space-size=300' }, ['status']);
    expect(files().filter((f) => f.startsWith('status-'))).toHaveLength(2);
  });
});
