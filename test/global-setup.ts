import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTracked, PID_DIR_ENV } from '../src/process/pids.ts';

/**
 * Every process the suite starts through src/process (worker CLIs, redis-servers, CLI runs
 * of the chaos harness) writes a pid file here; the teardown ends, by pid, those still
 * running, so that no worker outlives `npm test`.
 */
export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-test-pids-'));
  process.env[PID_DIR_ENV] = dir;
  return () => {
    const ended = killTracked(dir);
    if (ended.length)
      console.error(`test teardown: ended ${ended.length} leftover processes (${ended.join(', ')})`);
    rmSync(dir, { recursive: true, force: true });
  };
}
