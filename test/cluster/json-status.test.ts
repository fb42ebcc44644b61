import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CLI_BIN } from '../../src/process/spawn.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** Runs the CLI without blocking this process (it hosts the simulated servers). */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

// The schemas documented in docs/json.md.
const Progress = z.object({
  benchmark: z.string(),
  total: z.number(),
  done: z.number(),
  correct: z.number(),
  errors: z.number(),
});
const StatusJson = z.object({
  redis: z.string(),
  prefix: z.string(),
  sweeps: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      createdAt: z.string(),
      total: z.number(),
      done: z.number(),
      errors: z.number(),
      failed: z.number(),
      paused: z.object({ reason: z.string(), at: z.string() }).nullable(),
      benchmarks: z.array(Progress),
      cells: z.array(Progress.extend({ policy: z.string() })),
    }),
  ),
  queues: z.array(z.object({ queue: z.string(), counts: z.record(z.string(), z.number()) })),
});
const Cell = z.object({
  policy: z.string(),
  benchmark: z.string(),
  n: z.number(),
  correct: z.number(),
  accuracy: z.number().nullable(),
  accuracyAnswered: z.number().nullable(),
  headline: z.number().nullable(),
  errors: z.number(),
  failedOutright: z.number(),
  subscores: z
    .object({
      field: z.string(),
      unknown: z.number(),
      groups: z.array(z.object({ name: z.string(), total: z.number() })),
    })
    .optional(),
});
const Summary = z.object({
  policies: z.array(z.string()),
  benchmarks: z.array(z.string()),
  cells: z.array(Cell),
  byPolicy: z.array(
    z.object({
      policy: z.string(),
      inDomainAvg: z.number().nullable(),
      outOfDomainAvg: z.number().nullable(),
    }),
  ),
});
const SweepJson = z.object({
  sweepId: z.string(),
  dryRun: z.boolean(),
  planned: z.number(),
  alreadyScored: z.number(),
  inFlight: z.number(),
  added: z.number(),
  notes: z.array(z.string()),
  wait: z
    .object({ scored: z.number(), failed: z.number(), reportDir: z.string(), summary: Summary })
    .nullable(),
});
const ReportJson = z.object({
  sweepId: z.string(),
  records: z.number(),
  failed: z.object({ errors: z.number(), outright: z.number() }),
  out: z.string(),
  files: z.record(z.string(), z.string()),
  summary: Summary,
});

describe('status counts only submitted rollouts, fits 40 lines; --json on sweep, status, report', () => {
  // All 14 benchmarks: the frame would not fit 40 lines without cutting.
  const cluster = new TestCluster({ items: 1 });
  let file: string;
  let sweepOut: z.infer<typeof SweepJson>;

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    file = cluster.sweepFile('json', ['random', 'rules', 'direct:gpt-5']);
    // Only one of the three policies is submitted.
    const r = await cli(['sweep', file, '--policies', 'random', '--wait', '--json'], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    sweepOut = SweepJson.parse(JSON.parse(r.stdout));
  }, 400_000);

  afterAll(async () => {
    await cluster.cleanup();
  });

  it('sweep --json: one parseable object on stdout, with the outcome and the results', () => {
    expect(sweepOut.planned).toBe(14);
    expect(sweepOut.added).toBe(14);
    expect(sweepOut.wait?.scored).toBe(14);
    expect(sweepOut.wait?.failed).toBe(0);
    expect(sweepOut.wait?.summary.policies).toEqual(['random']);
    expect(sweepOut.wait?.summary.cells).toHaveLength(14);
  });

  it('status --json: totals count the submitted policy only (14/14, not 14/42)', async () => {
    const r = await cli(['status', sweepOut.sweepId, '--json'], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    const snap = StatusJson.parse(JSON.parse(r.stdout));
    const s = snap.sweeps[0]!;
    expect([s.done, s.total]).toEqual([14, 14]);
    expect(s.cells.map((c) => c.policy)).toEqual(Array(14).fill('random'));
    expect(s.benchmarks.every((b) => b.total === 1 && b.done === 1)).toBe(true);
  });

  it('status: the headline first, the whole frame within 40 lines', async () => {
    const r = await cli(['status'], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`sweep ${sweepOut.sweepId}: 14/14 scored (100 %), 0 errors, 0 failed outright`);
    expect(lines.length).toBeLessThanOrEqual(40);
    // Every benchmark row is in the frame (idle queues are summarised in one line).
    expect(lines.filter((l) => /^ {2}[a-z0-9_-]+ +1\/1 /.test(l))).toHaveLength(14);
    expect(lines.some((l) => /idle queues not shown/.test(l))).toBe(true);
  });

  it('report --json: the summary and the files', async () => {
    const r = await cli(['report', sweepOut.sweepId, '--json'], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    const rep = ReportJson.parse(JSON.parse(r.stdout));
    expect(rep.records).toBe(14);
    expect(Object.keys(rep.files)).toContain('results.md');
    expect(rep.summary).toEqual(sweepOut.wait?.summary);
    expect(rep.failed).toEqual({ errors: 0, outright: 0 });
    // Sub-scores group the records by their items' fields, read from the data directory.
    const sub = (id: string) => rep.summary.cells.find((c) => c.benchmark === id)?.subscores;
    expect(sub('vlmsareblind')).toMatchObject({ field: 'task', unknown: 0 });
    expect(sub('tallyqa')?.unknown).toBe(0);
    for (const g of sub('tallyqa')?.groups ?? []) expect(['simple', 'complex']).toContain(g.name);
    expect(sub('ocrbench')?.groups.reduce((a, g) => a + g.total, 0)).toBe(
      rep.summary.cells.find((c) => c.benchmark === 'ocrbench')?.n,
    );
    expect(sub('chartqa')).toBeUndefined();
  });

  it('after the other policies are submitted, the totals grow to the whole sweep', async () => {
    const r = await cli(['sweep', file, '--wait', '--json'], cluster.env());
    expect(r.code, r.stderr).toBe(0);
    const out = SweepJson.parse(JSON.parse(r.stdout));
    expect([out.planned, out.alreadyScored, out.added]).toEqual([42, 14, 28]);
    const s = StatusJson.parse(
      JSON.parse((await cli(['status', out.sweepId, '--json'], cluster.env())).stdout),
    ).sweeps[0]!;
    expect([s.done, s.total]).toEqual([42, 42]);
  }, 400_000);
});
