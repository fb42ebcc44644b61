// Start-up time of the CLI, from the sources (tsx) and from dist/ (`npm run build` first)
// with and without its code cache (MAESTRO_CODE_CACHE=0): `maestro-eval status` (a short
// command: reads Redis, prints, exits), and a worker process from spawn to its `ready:` line
// (all roles). Needs Redis at REDIS_URL (default redis://127.0.0.1:6379). Median of N runs
// (default 5), after one unmeasured run of each (which writes the code cache).
//
//   node scripts/startup-time.mjs [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', 'bin', 'maestro-eval.js');
const runs = Number(process.argv[2] ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Ms from spawn until `done(line)` holds for an output line (or the process exits). */
function timeRun(args, env, done) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    let at = null;
    const onLine = (buf) => {
      if (at !== null || !buf.toString().split('\n').some(done)) return;
      at = ms();
      child.kill('SIGTERM');
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    // Resolve once the process has exited, so runs never overlap.
    child.once('exit', (code) => {
      if (at !== null) resolve(at);
      else if (code === 0) resolve(ms());
      else reject(new Error(`${args.join(' ')} exited ${code}`));
    });
  });
}

/** Removes the queues' keys the workers created. */
async function deleteKeys(pattern) {
  const { Redis } = await import('ioredis');
  const conn = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let cursor = '0';
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (found.length) await conn.unlink(...found);
  } while (cursor !== '0');
  conn.disconnect();
}

const dataDir = mkdtempSync(join(tmpdir(), 'maestro-startup-'));
const modes = [
  { label: 'tsx (sources)', env: { MAESTRO_DEV: '1' }, status: [], worker: [] },
  {
    label: 'dist, no code cache',
    env: { MAESTRO_DEV: '0', MAESTRO_CODE_CACHE: '0' },
    status: [],
    worker: [],
  },
  { label: 'dist, code cache', env: { MAESTRO_DEV: '0' }, status: [], worker: [] },
];
// Interleaved, so a change in the machine's load weighs on all the same way; run -1 warms up.
for (let i = -1; i < runs; i++) {
  for (const m of modes) {
    const env = { ...m.env, MAESTRO_PREFIX: `{startup-${process.pid}-${i}}`, MAESTRO_DATA_DIR: dataDir };
    const status = await timeRun(['status'], env, () => false);
    const worker = await timeRun(['worker'], env, (l) => l.includes('ready:'));
    if (i < 0) continue;
    m.status.push(status);
    m.worker.push(worker);
  }
}
const rows = modes.map((m) => ({ label: m.label, status: median(m.status), worker: median(m.worker) }));
rmSync(dataDir, { recursive: true, force: true });
await deleteKeys(`{startup-${process.pid}-*`);
console.log(`median of ${runs} runs (ms)\n`);
console.log('| entry | `status` | worker ready |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.label} | ${Math.round(r.status)} | ${Math.round(r.worker)} |`);
