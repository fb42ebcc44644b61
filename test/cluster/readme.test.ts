import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/core/paths.ts';
import { freePort } from '../../src/process/redis-server.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

/** The first ```sh block of a README section. */
function shellBlock(readme: string, heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`no section "${heading}" in the README`);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m?.[1]) throw new Error(`no sh block in "${heading}"`);
  return m[1];
}

/**
 * The README's "Running a sweep" commands, extracted from the file and run as they stand
 * (`maestro-eval` on PATH, as once installed) in the repository, against a temporary data
 * directory, key prefix and simulator port.
 */
describe('README "Running a sweep" runs verbatim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-readme-'));
  const prefix = `{t-readme-${randomBytes(4).toString('hex')}}`;
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let groupPid = 0;

  afterAll(async () => {
    // Whatever the block left running (sim and worker in the background) ends with its group.
    if (groupPid) {
      try {
        process.kill(-groupPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    let cursor = '0';
    do {
      const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await conn.del(...found);
    } while (cursor !== '0');
    conn.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports, serves, runs, reports, compares and re-scores: exit 0', async () => {
    const block = shellBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Running a sweep');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'maestro-eval'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`);
    chmodSync(join(bin, 'maestro-eval'), 0o755);
    const script = `set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${block}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      REDIS_URL,
      MAESTRO_PREFIX: prefix,
      MAESTRO_DATA_DIR: join(dir, 'data'),
      MAESTRO_SIM_URL: `http://127.0.0.1:${await freePort()}`,
    };
    delete env.MAESTRO_REGISTRY;
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env, detached: true });
    groupPid = child.pid ?? 0;
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code, out).toBe(0);
    // Each command did its part.
    expect(out).toMatch(/chartqa +4 items +version [0-9a-f]{12}/);
    expect(out).toMatch(/ready: simulated endpoints on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/sweep demo-[0-9a-f]{12}: 224\/224 scored, 0 errors, 0 failed outright/);
    expect(out).toMatch(/\| Policy \|/);
    expect(out).toMatch(/^sweep demo-[0-9a-f]{12}: 224\/224 scored \(100 %\)/m);
    expect(out).toMatch(/Only maestro right/);
    expect(out).not.toMatch(/^error:/m);
  }, 900_000);
});
