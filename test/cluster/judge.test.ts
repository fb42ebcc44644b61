/**
 * Judge models in the cluster: a CharXiv sweep with the simulated judge keeps each verdict's
 * judge call in its record; re-scoring asks the judge nothing (every reply is in the cache);
 * a judge that keeps failing turns its items into errors with the cause, never wrong answers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rescoreSweep } from '../../src/cli/score.ts';
import { JudgeTrace } from '../../src/core/judge.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { readGradingVerdict } from '../../src/scoring/judge/verdict.ts';
import { TestCluster } from '../helpers/cluster.ts';

const extraDir = mkdtempSync(join(tmpdir(), 'maestro-judge-reg-'));
const extra = join(extraDir, 'judges.yaml');
writeFileSync(
  extra,
  [
    'judges:',
    '  - name: sim-judge-down',
    '    model: judge-sim-down',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the registry loader interpolates it
    '    baseUrl: ${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/sim-judge-down/v1',
    '    capacity: 2',
    '    attempts: 2',
  ].join('\n'),
);

describe('judge models in the cluster', () => {
  const cluster = new TestCluster({ items: 4, benchmarks: ['charxiv'], extraRegistry: [extra] });

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
  }, 180_000);

  afterAll(async () => {
    await cluster.cleanup();
    rmSync(extraDir, { recursive: true, force: true });
  });

  it('grades CharXiv with the judge, keeps its calls in the records, and re-scores from the cache', async () => {
    const file = cluster.sweepFile('judged', ['direct:Chart-R1', 'direct:GLM-4.6V-Flash'], {
      judge: 'sim-judge',
    });
    const plan = await cluster.plan(file);
    expect(plan.meta.judge).toEqual({ name: 'sim-judge', model: 'judge-sim' });
    await cluster.submit(plan);
    await cluster.wait(plan, 300_000);

    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    const answered = records.filter((r) => r.status === 'answered');
    expect(answered.length).toBeGreaterThan(0);
    for (const r of answered) {
      const judge = JudgeTrace.parse(r.judge);
      expect(judge).toMatchObject({ judge: 'sim-judge', model: 'judge-sim', purpose: 'charxiv-grade' });
      expect(judge.inputHash).toMatch(/^[0-9a-f]{64}$/);
      // The verdict is the judge's: its raw reply says the score the record carries.
      expect(readGradingVerdict(judge.output).score).toBe(r.correct ? 1 : 0);
      expect(judge.verdict).toBe(r.correct ? '1' : '0');
      expect(r.scoreReason).toMatch(/^judge judge-sim/);
    }
    const asked = cluster.sim.stats()['sim-judge']?.requests ?? 0;
    const distinct = new Set(answered.map((r) => r.judge?.inputHash)).size;
    // One request per distinct question (two policies giving the same reply share one).
    expect(asked).toBe(distinct);

    // A second scoring pass: every judge reply comes from the cache.
    const again = await rescoreSweep(cluster.store, plan.meta.id, {
      registry: loadRegistry(cluster.registryFiles),
    });
    expect(again.failures).toEqual([]);
    expect(again.rescored).toBe(answered.length);
    expect(again.judge).toEqual({ name: 'sim-judge', model: 'judge-sim', calls: 0 });
    expect(again.rewritten).toBe(0);
    expect(cluster.sim.stats()['sim-judge']?.requests).toBe(asked);
    const report = readFileSync(again.report.files['results.md'] ?? '', 'utf8');
    expect(report).toContain('CharXiv: graded by the judge model judge-sim.');
  }, 400_000);

  it('turns items into errors with the cause when the judge keeps failing', async () => {
    cluster.sim.setFaults({ 'sim-judge-down': { error500Rate: 1 } });
    const file = cluster.sweepFile('judge-down', ['direct:Chart-R1'], { judge: 'sim-judge-down' });
    const plan = await cluster.plan(file);
    await cluster.submit(plan);
    await cluster.wait(plan, 300_000);
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(plan.rollouts.length);
    for (const r of records) {
      expect(r.status).toBe('error');
      expect(r.correct).toBe(false);
      expect(r.error).toMatch(
        /judge sim-judge-down \(judge-sim-down\) gave no readable charxiv-grade verdict after 2 attempt/,
      );
      expect(r.error).toMatch(/500/);
    }
    expect(cluster.sim.stats()['sim-judge-down']?.requests).toBe(2 * records.length);
  }, 400_000);
});
