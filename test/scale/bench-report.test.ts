import { describe, expect, it } from 'vitest';
import { origin } from '../../src/bench/profile.ts';
import { markdownTable, renderMarkdown, type ScenarioResult, summaryTable } from '../../src/bench/report.ts';
import { commandDelta } from '../../src/bench/scenarios/common.ts';
import { wallPhases } from '../../src/bench/scenarios/peer-meter.ts';
import { machineInfo, quantile } from '../../src/bench/stats.ts';

const scenario = (over: Partial<ScenarioResult>): ScenarioResult => ({
  id: 'x',
  title: 'X',
  target: 't',
  pass: true,
  headline: 'h',
  figures: {},
  tables: [],
  notes: [],
  durationS: 1,
  ...over,
});

describe('benchmark report helpers', () => {
  it('interpolates quantiles between order statistics', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });

  it('names where profiled code comes from', () => {
    expect(origin('file:///w/node_modules/bullmq/dist/esm/classes/worker.js', 'run')).toBe('bullmq');
    expect(origin('file:///w/node_modules/@scope/pkg/x.js', 'f')).toBe('@scope/pkg');
    expect(origin('node:internal/streams/readable', 'push')).toBe('node internals');
    expect(origin('file:///w/src/workers/orchestrator.ts', 'process')).toBe('project src/workers');
    expect(origin('', '(garbage collector)')).toBe('GC');
    expect(origin('', '(idle)')).toBe('idle');
  });

  it('subtracts Redis command statistics and sorts by server time', () => {
    const before = new Map([['evalsha', { calls: 10, usec: 100 }]]);
    const after = new Map([
      ['evalsha', { calls: 40, usec: 1000 }],
      ['hgetall', { calls: 5, usec: 10 }],
      ['ping', { calls: 0, usec: 0 }],
    ]);
    expect(commandDelta(before, after)).toEqual([
      { command: 'evalsha', calls: 30, usec: 900 },
      { command: 'hgetall', calls: 5, usec: 10 },
    ]);
  });

  it('reports verdicts: met, MISSED, or no target', () => {
    const t = summaryTable([
      scenario({ title: 'A', pass: true }),
      scenario({ title: 'B', pass: false }),
      scenario({ title: 'C', pass: null }),
    ]);
    expect(t.rows.map((r) => r[3])).toEqual(['met', 'MISSED', '—']);
  });

  it('renders Markdown tables with escaped pipes and the machine it ran on', () => {
    expect(markdownTable({ columns: ['a', 'n'], rows: [['x|y', 2]] })).toBe(
      '| a | n |\n| --- | ---: |\n| x\\|y | 2 |',
    );
    const md = renderMarkdown({
      kind: 'quick',
      startedAt: 's',
      finishedAt: 'f',
      command: 'maestro-eval bench --quick',
      machine: machineInfo(),
      redis: { version: '7', ownServer: true, maxmemoryPolicy: 'noeviction' },
      environmentNote: 'shared machine',
      scenarios: [
        scenario({
          title: 'Overhead',
          headline: 'p50 1 ms',
          tables: [{ title: 'T', columns: ['c'], rows: [[1]] }],
        }),
      ],
    });
    expect(md).toContain('## Machine');
    expect(md).toContain('shared machine');
    expect(md).toContain('## Overhead');
    expect(md).toContain('**p50 1 ms**');
  });

  it('splits a sweep --wait wall into start-up, rollouts, end seen and report', () => {
    const at = (ms: number) => new Date(1_000_000 + ms).toISOString();
    const records = [
      { startedAt: at(400), finishedAt: at(460) },
      { startedAt: at(420), finishedAt: at(1_300) },
      { startedAt: at(900), finishedAt: at(1_250) },
    ];
    const marks = { spawnedAt: 1_000_000, scoredAt: 1_001_320, exitedAt: 1_001_450, sweepId: 's' };
    // The endpoint was busy 45,000 request-ms over the 900 ms from the first start to the last end.
    expect(wallPhases(records, marks, 45_000)).toEqual({
      startMs: 400,
      spanMs: 900,
      inFlight: 50,
      endSeenMs: 20,
      reportMs: 130,
    });
    expect(wallPhases([], marks, 1)).toBeNull();
    expect(wallPhases(records, { ...marks, scoredAt: 0 }, 1)).toBeNull();
  });
});
