import { describe, expect, it } from 'vitest';
import { STATUS_LINES, type StatusSnapshot, statusFrame } from '../../src/cli/status.ts';

const sweep = (id: string, benchmarks: number): StatusSnapshot['sweeps'][number] => ({
  id,
  name: id,
  createdAt: '2026-01-01T00:00:00Z',
  total: benchmarks * 8,
  done: benchmarks * 4,
  errors: 1,
  failed: 0,
  paused: null,
  benchmarks: Array.from({ length: benchmarks }, (_, i) => ({
    benchmark: `bench${i}`,
    total: 8,
    done: 4,
    correct: 2,
    errors: 0,
  })),
  cells: [],
});

describe('status frame', () => {
  it('puts every headline first and cuts to 40 lines, saying where the rest is', () => {
    const snap: StatusSnapshot = {
      redis: 'redis://127.0.0.1:6379/',
      prefix: '{maestro}',
      sweeps: [sweep('new-1', 30), sweep('old-2', 3)],
      queues: Array.from({ length: 20 }, (_, i) => ({
        queue: `expert.E${i}`,
        counts: { waiting: i + 1, active: 1, completed: 5 },
      })),
    };
    const live = Array.from({ length: 15 }, (_, i) => `  live ${i}`);
    // 2 headlines, redis, 2 + 30 benchmark lines, 2 + 20 queue lines, 15 live lines: 72.
    const lines = statusFrame(snap, live);
    expect(lines).toHaveLength(STATUS_LINES);
    expect(lines[0]).toBe('sweep new-1: 120/240 scored (50 %), 1 errors, 0 failed outright');
    expect(lines[1]).toMatch(/^sweep old-2: 12\/24 scored/);
    expect(lines.at(-1)).toBe('… 33 more lines: `maestro-eval status --json` shows everything');
  });

  it('shows a paused sweep in its headline, and idle queues as one line', () => {
    const paused = { ...sweep('p-1', 2), paused: { reason: '5 of the last 10 items are errors', at: 'now' } };
    const lines = statusFrame(
      {
        redis: 'r',
        prefix: 'p',
        sweeps: [paused],
        queues: [
          { queue: 'rollouts', counts: { completed: 3 } },
          { queue: 'scoring', counts: { active: 2 } },
        ],
      },
      [],
    );
    expect(lines[0]).toMatch(
      /PAUSED since now: 5 of the last 10 items are errors; resume with `maestro-eval sweep FILE --resume`/,
    );
    expect(lines.filter((l) => l.includes('scoring'))).toHaveLength(1);
    expect(lines).toContain('  (1 idle queues not shown)');
    expect(lines.length).toBeLessThan(STATUS_LINES);
  });
});
