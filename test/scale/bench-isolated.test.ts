/**
 * A bench run of several scenarios runs each in a process of its own, so that no scenario
 * measures code the ones before it compiled in the bench process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report.ts';
import { runBench } from '../../src/bench/run.ts';

describe('a bench run of several scenarios', () => {
  const out = mkdtempSync(join(tmpdir(), 'maestro-bench-iso-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs each in its own process and gathers their results in one report', async () => {
    const lines: string[] = [];
    const { report, files } = await runBench({
      quick: true,
      scenarios: ['bodies', 'overhead-inline'],
      outDir: out,
      log: (l) => lines.push(l),
    });
    expect(report.scenarios.map((s) => s.id)).toEqual(['overhead-inline', 'bodies']);
    expect(report.redis.version).toMatch(/^\d+\.\d+/);
    // The children's lines come through; their own headers and summaries do not.
    expect(lines.filter((l) => l.startsWith('maestro-eval bench'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('warmed up with 300 rollouts on each path'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('  a chat request with a 1 MiB image'))).toHaveLength(1);
    const written = JSON.parse(
      readFileSync(files.find((f) => f.endsWith('.json')) ?? '', 'utf8'),
    ) as BenchReport;
    expect(written.scenarios.map((s) => s.id)).toEqual(['overhead-inline', 'bodies']);
    expect(written.scenarios[1]?.figures).toHaveProperty('1024KiB');
    // Redis traffic per rollout is reported beside the commands (INFO stats, both ways).
    const overhead = written.scenarios[0]?.figures as {
      redisCommandsPerRollout?: number;
      redisBytesPerRollout?: { in: number; out: number };
    };
    expect(overhead.redisCommandsPerRollout).toBeGreaterThan(10);
    expect(overhead.redisBytesPerRollout?.in).toBeGreaterThan(500);
    expect(overhead.redisBytesPerRollout?.out).toBeGreaterThan(100);
  }, 180_000);

  it('says which scenario failed when its process does', async () => {
    await expect(
      runBench({
        quick: true,
        scenarios: ['bodies', 'overhead'],
        outDir: out,
        redisUrl: 'redis://127.0.0.1:1',
        log: () => {},
      }),
    ).rejects.toThrow(/scenario overhead failed \(its process exited [1-9]/);
  }, 120_000);
});
