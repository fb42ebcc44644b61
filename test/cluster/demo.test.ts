import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.ts';

describe('the embedded default (npm run demo)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('runs the demo sweep through worker processes and prints the results table', async () => {
    const lines: string[] = [];
    const { plan, report } = await runDemo({ items: 1, dataDir, log: (l) => lines.push(l) });
    const out = lines.join('\n');
    expect(out).toMatch(/Workers up: 3 processes/);
    expect(out).toContain(`${plan.rollouts.length}/${plan.rollouts.length} scored, 0 errors`);
    expect(out).toMatch(/\| Policy \| MathVista \|.*\| In-domain avg \| Out-of-domain avg \|/);
    for (const p of plan.meta.policies) expect(out).toContain(`| ${p.key} |`);
    expect(out).toMatch(/Peak concurrent requests per expert/);
    for (const file of Object.values(report.files)) expect(existsSync(file), file).toBe(true);
    expect(report.summary.byPolicy).toHaveLength(plan.meta.policies.length);
  }, 400_000);
});
