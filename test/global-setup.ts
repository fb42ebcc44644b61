import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../src/core/paths.ts';
import { killTracked, PID_DIR_ENV } from '../src/process/pids.ts';

/**
 * The CLI processes the tests start (workers, sweeps, the chaos harness's runs) run the
 * bundle users run (dist/, `npm run build`), built here from the current sources first (about
 * 2 s). Should the build fail, they run the sources through tsx, and the build's error is shown.
 * The tests' own code always imports the sources. `MAESTRO_DEV=1 npm test` runs every CLI
 * process from the sources too.
 */
function buildBundle(): void {
  if (process.env.MAESTRO_DEV === '1') return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status === 0) {
    process.env.MAESTRO_DEV = '0';
    return;
  }
  console.error(
    `test setup: npm run build failed; CLI processes run the sources (tsx)\n${r.stdout}${r.stderr}`,
  );
  process.env.MAESTRO_DEV = '1';
}

/** The test file that started a worker (TestCluster puts it in the worker's environment). */
function startedBy(pid: number): string {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const file = env.find((e) => e.startsWith('MAESTRO_TEST_FILE='))?.slice('MAESTRO_TEST_FILE='.length);
    return file ? ` (started by ${relative(ROOT, file)})` : '';
  } catch {
    return '';
  }
}

/**
 * Every process the suite starts through src/process (worker CLIs, redis-servers, CLI runs
 * of the chaos harness) writes a pid file here; the teardown ends, by pid, those still
 * running, so that no worker outlives `npm test`.
 */
export default function setup() {
  buildBundle();
  const dir = mkdtempSync(join(tmpdir(), 'maestro-test-pids-'));
  process.env[PID_DIR_ENV] = dir;
  return () => {
    const commands: string[] = [];
    const ended = killTracked(dir, (pid, command) =>
      commands.push(`${pid}: ${command.slice(0, 300)}${startedBy(pid)}`),
    );
    if (ended.length)
      console.error(`test teardown: ended ${ended.length} leftover processes:\n  ${commands.join('\n  ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
}
