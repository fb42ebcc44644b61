import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CpuMeter } from '../../src/bench/scenarios/common.ts';

/**
 * The bench splits a process's CPU between its main thread (a Node.js process's JavaScript)
 * and its other threads (V8's background compiler and garbage collector, libuv's pool).
 * A child burns 600 ms of CPU on the thread it is told, measured around the burn.
 */
const CHILD = `
const { Worker: Thread } = require('node:worker_threads');
const burn = 'const t0 = process.cpuUsage(); while (true) { const u = process.cpuUsage(t0); if (u.user + u.system >= 600000) break; }';
process.stdin.once('data', (b) => {
  if (b.toString().trim() === 'main') {
    eval(burn);
    console.log('done');
  } else {
    const w = new Thread(burn + "; require('node:worker_threads').parentPort.postMessage(1)", { eval: true });
    w.once('message', () => console.log('done'));
  }
});
console.log('ready');
`;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Output of the child until a line holds `text`. */
async function lineWith(c: ChildProcess, text: string): Promise<void> {
  let seen = '';
  while (!seen.includes(text)) {
    const [chunk] = (await once(c.stdout!, 'data')) as [Buffer];
    seen += chunk.toString();
  }
}

/** CPU ms of the child (all threads, main thread) while it burns on `thread`. */
async function burnOn(thread: 'main' | 'worker') {
  child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  await lineWith(child, 'ready');
  const meter = new CpuMeter([{ label: 'child', pid: child.pid! }]);
  const done = lineWith(child, 'done');
  child.stdin!.write(`${thread}\n`);
  await done;
  const [row] = meter.read();
  expect(row?.mainMs).not.toBeNull();
  return { all: row!.cpuMs, main: row!.mainMs!, other: row!.cpuMs - row!.mainMs! };
}

describe('CPU by thread (/proc/<pid>/task/<pid>/stat)', () => {
  it('counts work on another thread as not the main thread’s', async () => {
    const cpu = await burnOn('worker');
    expect(cpu.other).toBeGreaterThanOrEqual(450);
    expect(cpu.main).toBeLessThan(cpu.other / 2);
  }, 30_000);

  it('counts work on the main thread as the main thread’s', async () => {
    const cpu = await burnOn('main');
    expect(cpu.main).toBeGreaterThanOrEqual(450);
    expect(cpu.other).toBeLessThan(cpu.main / 2);
  }, 30_000);
});
