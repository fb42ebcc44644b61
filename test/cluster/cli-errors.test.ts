import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import { freePort } from '../../src/process/redis-server.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** Runs the CLI without blocking this process (it hosts the simulated servers). */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => resolveRun({ code, stdout, stderr: stderr.trim() }));
  });
}

describe('command-line errors are one actionable line and lose nothing', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'mathvista'] });
  let plan: SweepPlan;
  let file: string;
  let doneBefore: Record<string, string>;
  let recordsBefore: string[];

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    file = cluster.sweepFile('cli', ['maestro', 'random']);
    const first = await cli(['sweep', file, '--wait'], cluster.env());
    expect(first.code, first.stderr).toBe(0);
    plan = await cluster.plan(file);
    doneBefore = await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id));
    recordsBefore = (await cluster.store.readRecords(plan.meta.id)).map((r) => JSON.stringify(r));
    expect(recordsBefore).toHaveLength(plan.rollouts.length);
  }, 300_000);

  afterAll(async () => {
    // Nothing finished was lost by the failed commands.
    expect(await cluster.conn.hgetall(keys.done(cluster.prefix, plan.meta.id))).toEqual(doneBefore);
    expect((await cluster.store.readRecords(plan.meta.id)).map((r) => JSON.stringify(r))).toEqual(
      recordsBefore,
    );
    await cluster.cleanup();
  });

  it('reports malformed registry YAML with the file and line', async () => {
    const bad = join(cluster.dir, 'broken.yaml');
    writeFileSync(bad, 'experts:\n  - name: A\n    model: [unclosed\n');
    const r = await cli(['sweep', file, '--registry', bad], cluster.env());
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*broken\.yaml at line \d+: invalid YAML/);
  });

  it('reports an unknown benchmark and lists the known ones', async () => {
    const r = await cli(['sweep', file, '--benchmarks', 'chartqa,nosuchbench'], cluster.env());
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: unknown benchmark "nosuchbench" \(known benchmarks: .*chartqa/);
  });

  it('reports an unreachable policy endpoint before enqueuing anything', async () => {
    const port = await freePort();
    const r = await cli(['sweep', file], cluster.env({ MAESTRO_SIM_URL: `http://127.0.0.1:${port}` }));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: policy maestro at http://127.0.0.1:${port}/maestro/v1 is unreachable`),
    );
  });

  it('re-submits the finished sweep as a no-op', async () => {
    const r = await cli(['sweep', file], cluster.env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${plan.rollouts.length} already scored`);
    expect(r.stdout).toContain('0 enqueued');
  });

  it('prints the results table with `report`; PNG figures only with --png', async () => {
    const figures = () =>
      readdirSync(join(cluster.store.sweepDir(plan.meta.id), 'report'))
        .filter((n) => n.startsWith('accuracy.'))
        .sort();
    expect(figures()).toEqual(['accuracy.pdf', 'accuracy.svg']);
    const png = await cli(['report', plan.meta.id, '--png'], cluster.env());
    expect(png.code, png.stderr).toBe(0);
    expect(png.stdout).toContain('accuracy.png');
    expect(figures()).toEqual(['accuracy.pdf', 'accuracy.png', 'accuracy.svg']);
    const r = await cli(['report', plan.meta.id], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('maestro');
    expect(r.stdout).toContain('items.jsonl');
    expect(figures()).toEqual(['accuracy.pdf', 'accuracy.svg']);
  });

  it('refuses --png without --wait before planning anything', async () => {
    const r = await cli(['sweep', file, '--png'], cluster.env());
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: \(sweep\) at --png: needs --wait: .*\(without --wait, run `maestro-eval report <sweep> --png`/,
    );
  });
});
