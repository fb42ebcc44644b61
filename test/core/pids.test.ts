import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
