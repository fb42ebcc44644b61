import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MaestroError } from '../../src/core/errors.ts';
import { type LuaConnection, loadLua, runLua } from '../../src/core/lua.ts';
import { besideSource, DEFAULT_CATALOG, DIST, ROOT } from '../../src/core/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-lua-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('package paths', () => {
  it('finds the package root from the sources', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).name).toBe('maestro-eval');
    expect(existsSync(DEFAULT_CATALOG)).toBe(true);
  });

  it('maps a file beside a compiled module back to the source tree', () => {
    const compiled = pathToFileURL(join(DIST, 'src', 'models', 'adaptive.js')).href;
    expect(besideSource(compiled, './adaptive.lua')).toBe(join(ROOT, 'src', 'models', 'adaptive.lua'));
    expect(besideSource(compiled, '../../benchmarks/x.yaml')).toBe(join(ROOT, 'benchmarks', 'x.yaml'));
  });

  it('leaves a file beside a source module where it is', () => {
    const source = pathToFileURL(join(ROOT, 'src', 'models', 'adaptive.ts')).href;
    expect(besideSource(source, './adaptive.lua')).toBe(join(ROOT, 'src', 'models', 'adaptive.lua'));
    const elsewhere = pathToFileURL(join(dir, 'a.js')).href;
    expect(besideSource(elsewhere, './b.lua')).toBe(join(dir, 'b.lua'));
  });
});

/** A connection that knows no script until it has been sent in full once (like a fresh server). */
function fakeServer(): LuaConnection & { calls: string[] } {
  const known = new Set<string>();
  const calls: string[] = [];
  const sha = (s: string) => createHash('sha1').update(s).digest('hex');
  return {
    calls,
    async evalsha(hash: string, numKeys: number, ...args: Array<string | number>) {
      calls.push('evalsha');
      if (!known.has(hash)) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
      return [numKeys, ...args];
    },
    async eval(script: string, numKeys: number, ...args: Array<string | number>) {
      calls.push('eval');
      known.add(sha(script));
      return [numKeys, ...args];
    },
  };
}

describe('Lua scripts from files', () => {
  it('reads a script beside a module, with its SHA-1', () => {
    const source = "return redis.call('GET', KEYS[1])\n";
    writeFileSync(join(dir, 'get.lua'), source);
    const script = loadLua(pathToFileURL(join(dir, 'mod.js')).href, './get.lua');
    expect(script.source).toBe(source);
    expect(script.sha).toBe(createHash('sha1').update(source).digest('hex'));
  });

  it('names the missing file in an actionable error', () => {
    const load = () => loadLua(pathToFileURL(join(dir, 'mod.js')).href, './absent.lua');
    expect(load).toThrow(MaestroError);
    expect(load).toThrow(/absent\.lua/);
  });

  it('runs by hash, sending the source once when the server does not know it', async () => {
    writeFileSync(join(dir, 'echo.lua'), 'return ARGV\n');
    const script = loadLua(pathToFileURL(join(dir, 'mod.js')).href, './echo.lua');
    const conn = fakeServer();
    expect(await runLua(conn, script, ['k1', 'k2'], ['a', 3])).toEqual([2, 'k1', 'k2', 'a', 3]);
    expect(await runLua(conn, script, ['k1'], ['b'])).toEqual([1, 'k1', 'b']);
    expect(conn.calls).toEqual(['evalsha', 'eval', 'evalsha']);
  });

  it('passes other script errors through', async () => {
    const script = loadLua(pathToFileURL(join(dir, 'mod.js')).href, './echo.lua');
    const conn: LuaConnection = {
      evalsha: async () => {
        throw new Error('ERR wrong number of arguments');
      },
      eval: async () => 'never',
    };
    await expect(runLua(conn, script, [], [])).rejects.toThrow(/wrong number/);
  });
});
