import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MaestroError } from './errors.ts';
import { besideSource } from './paths.ts';

/**
 * Lua scripts live in `.lua` files beside the module that runs them; they are read once,
 * when that module loads, and run by hash (EVALSHA, then EVAL once per server on NOSCRIPT).
 */
export interface LuaScript {
  /** The file name, for error messages. */
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** What running a script needs from a connection (an ioredis Redis or Cluster). */
export interface LuaConnection {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** Reads `file` (relative to the module at `moduleUrl`, e.g. `import.meta.url`). */
export function loadLua(moduleUrl: string, file: string): LuaScript {
  const path = besideSource(moduleUrl, file);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new MaestroError(`cannot read the Lua script ${path}`, {
      hint: 'the package is incomplete: reinstall it (the .lua files ship beside the sources)',
      cause,
    });
  }
  return { name: file, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs a script on `keys` and `args`. */
export async function runLua(
  conn: LuaConnection,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  try {
    return await conn.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
    return conn.eval(script.source, keys.length, ...keys, ...args);
  }
}
