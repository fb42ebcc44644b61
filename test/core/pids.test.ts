import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killTracked, PID_DIR_ENV, trackPid } from '../../src/process/pids.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('pid files of started processes', () => {
  it('the teardown ends, by pid, the processes still running and spares a reused pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-pids-'));
    dirs.push(dir);
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    trackPid(child, { [PID_DIR_ENV]: dir });
    expect(readdirSync(dir)).toEqual([`${child.pid}.pid`]);
    // A pid file whose process has another start time (the pid was reused): left alone.
    writeFileSync(join(dir, `${process.pid}.pid`), '1');
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    const heard: string[] = [];
    expect(killTracked(dir, (pid, command) => heard.push(`${pid} ${command}`))).toEqual([child.pid]);
    // What was left running is named by its command line.
    expect(heard).toEqual([`${child.pid} sleep 300`]);
    expect(await exited).toBe('SIGKILL');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the pid file of a process that exits by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-pids-'));
    dirs.push(dir);
    const child = spawn('true', [], { stdio: 'ignore' });
    trackPid(child, { [PID_DIR_ENV]: dir });
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(dir, `${child.pid}.pid`))).toBe(false);
  });
});

describe('endChildrenOnSignal (bench, demo)', () => {
  /** A process that starts two children (one ignores SIGTERM), prints their pids, and waits. */
  const PARENT = `
import { spawn } from 'node:child_process';
import { endChildrenOnSignal, trackPid } from ${JSON.stringify(join(import.meta.dirname, '../../src/process/pids.ts'))};
endChildrenOnSignal(400);
const polite = spawn('sleep', ['300'], { stdio: 'ignore' });
const stubborn = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
trackPid(polite, {});
trackPid(stubborn, {});
stubborn.stdout.once('data', () => console.log(JSON.stringify([polite.pid, stubborn.pid])));
setInterval(() => {}, 1000);
`;
  /** Running (a zombie waiting for its new parent to reap it has ended). */
  const alive = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}, ends the processes it started (SIGKILL after the grace period) and exits ${signal === 'SIGTERM' ? 143 : 130}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'maestro-pids-'));
      dirs.push(dir);
      const script = join(dir, 'parent.mts');
      writeFileSync(script, PARENT);
      const parent = spawn(process.execPath, ['--import', 'tsx', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      parent.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      const pids = await new Promise<number[]>((resolve, reject) => {
        parent.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString()) as number[]));
        parent.once('exit', (code) => reject(new Error(`parent exited ${code}: ${err}`)));
      });
      expect(pids.every(alive)).toBe(true);
      const exited = new Promise<number | null>((r) => parent.once('exit', (code) => r(code)));
      parent.kill(signal);
      expect(await exited).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(err).toContain(`${signal}: ending 2 process(es) this one started`);
      // Both are gone once the parent has exited: the stubborn one by SIGKILL.
      for (let i = 0; i < 20 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
      expect(pids.filter(alive)).toEqual([]);
    });
  }
});
