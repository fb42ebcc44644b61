import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_TESTS, isClusterTest } from '../suites.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** This file names the markers itself. */
const SELF = relative(ROOT, import.meta.filename)
  .split('\\')
  .join('/');

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return p.endsWith('.test.ts') ? [relative(ROOT, p).split('\\').join('/')] : [];
  });
}

/** What gives away a test that needs Redis or starts worker processes. */
const CLUSTER_MARKERS =
  /\b(connectRedis|REDIS_URL|TestCluster|ChaosCluster|spawnCli|CLI_BIN|startRedisServer|new Redis\(|new (Queue|Worker|FlowProducer|QueueEvents)\()|helpers\/cluster|chaos\/harness/;

describe('the two test suites (test/suites.ts)', () => {
  const files = testFiles(join(ROOT, 'test'));

  it('keeps every unit test away from Redis and worker processes', () => {
    const misplaced = files
      .filter((f) => !isClusterTest(f) && f !== SELF)
      .flatMap((f) => {
        const hit = CLUSTER_MARKERS.exec(readFileSync(join(ROOT, f), 'utf8'));
        return hit ? [`${f} uses ${hit[0]}: list it in CLUSTER_TESTS (test/suites.ts)`] : [];
      });
    expect(misplaced).toEqual([]);
  });

  it('lists only files and folders that exist, each holding tests', () => {
    for (const entry of CLUSTER_TESTS) {
      expect(existsSync(join(ROOT, entry)), entry).toBe(true);
      expect(
        files.some((f) => isClusterTest(f) && (f === entry || f.startsWith(entry))),
        entry,
      ).toBe(true);
    }
  });

  it('tells a folder entry from a file entry', () => {
    expect(isClusterTest('test/chaos/anything.test.ts')).toBe(true);
    expect(isClusterTest('test/scale/adaptive.test.ts')).toBe(true);
    expect(isClusterTest('test/scale/bench-report.test.ts')).toBe(false);
    expect(isClusterTest('test/chaos-free/x.test.ts')).toBe(false);
  });
});
