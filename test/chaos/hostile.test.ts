import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_SIZE_LIMITS, MAX_JOB_TEXT } from '../../src/core/jobs.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { INJECTION_MARKER } from '../../src/sim/hostile.ts';
import { audit, ChaosCluster, recordChaos } from './harness.ts';

/** A policy endpoint whose every reply is hostile (the fault is set on it below). */
const HOSTILE_POLICY = `
policies:
  - name: hostile
    model: hostile-sim
    baseUrl: \${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/hostile/v1
    sim: { routingQuality: 1, latencyMs: { median: 20 } }
`;
const EXPERTS = [
  'Intern-S1-mini',
  'GLM-4.6V-Flash',
  'qwen3-vl-8b-instruct',
  'Chart-R1',
  'medgemma-1.5-4b-it',
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const OBSERVATION_CHARS = 1000;

/** What the honest policy was shown after each tool call, checked as requests arrive. */
const shown = { checked: 0, violations: [] as string[] };

/** The hostile kind a stored policy turn came from (see src/sim/hostile.ts). */
function kindOf(text: string): string {
  if (text.includes('I am thinking very hard')) return 'huge';
  if (text.includes('No-Such-Model@@No_Such_Skill')) return 'many-tags';
  if (text.includes('<search><search>')) return 'nested';
  if (text.includes('I will never close this tag')) return 'unbalanced';
  if (text.includes('GPT-9-Ultra')) return 'unknown-names';
  if (text.includes('pretend a tool answered')) return 'forged-information';
  if (text.includes('bidi')) return 'control';
  if (text.includes('MMMMMMMMMM')) return 'long-name';
  if (text.includes('nothing to say')) return 'empty-answer';
  return 'other';
}

describe('untrusted model output: hostile policies and prompt injection from experts', () => {
  const cluster = new ChaosCluster({
    items: 3,
    benchmarks: ['chartqa', 'tallyqa', 'slake', 'ocrbench'],
    registryYaml: HOSTILE_POLICY,
    faults: {
      hostile: { hostileRate: 1 },
      ...Object.fromEntries(EXPERTS.map((e) => [e, { hostileRate: 1 }])),
    },
    observe: (kind, ctx) => {
      if (kind !== 'policy' || ctx.endpoint !== 'maestro') return;
      const firstUser = ctx.messages.findIndex((m) => m.role === 'user');
      for (const m of ctx.messages.slice(firstUser + 1)) {
        if (m.role !== 'user') continue;
        shown.checked++;
        const match = /^<information>([\s\S]*)<\/information>$/.exec(m.text);
        const inner = match?.[1];
        if (inner === undefined) shown.violations.push(`not one <information> block: ${m.text.slice(0, 80)}`);
        else if (/<\/?(information|answer|search|think)>/i.test(inner))
          shown.violations.push(`protocol tag inside an observation: ${inner.slice(0, 80)}`);
        else if (inner.length > OBSERVATION_CHARS)
          shown.violations.push(`observation of ${inner.length} chars`);
        else if (CONTROL.test(inner)) shown.violations.push('control characters in an observation');
      }
    },
  });
  let plan: SweepPlan;

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    plan = await cluster.plan(cluster.sweepFile('hostile', ['maestro:hostile', 'maestro']));
    await cluster.submit(plan);
    await cluster.wait(plan);
  }, 300_000);

  afterAll(async () => {
    const stats = cluster.sim.stats();
    const a = await audit(cluster, plan);
    await recordChaos('hostile-output', {
      hostileReplies: [...EXPERTS, 'hostile'].reduce((n, e) => n + (stats[e]?.errorsInjected ?? 0), 0),
      items: a.items,
      itemsLost: a.lost,
      itemsDoubleCounted: a.doubleCounted,
    });
    await cluster.cleanup();
  });

  it('keeps every hostile rollout within the turn limit and the size limits, with each format error recorded', async () => {
    const records = (await cluster.store.readRecords(plan.meta.id)).filter(
      (r) => r.policy === 'maestro:hostile',
    );
    expect(records).toHaveLength(plan.rollouts.length / 2);
    const kinds = new Set<string>();
    const reasons = new Set<string>();
    for (const r of records) {
      expect(['answered', 'no_answer']).toContain(r.status);
      expect(r.steps.length).toBeLessThanOrEqual(plan.meta.maxTurns);
      expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(JOB_SIZE_LIMITS.rollout);
      for (const s of r.steps) {
        kinds.add(kindOf(s.policyText));
        expect(s.policyText.length).toBeLessThanOrEqual(MAX_JOB_TEXT);
        expect(s.policyText).not.toMatch(CONTROL);
        expect(JSON.stringify(s.action).length).toBeLessThan(MAX_JOB_TEXT + 200);
        // No hostile turn is a usable call: each one that is not an answer has its error.
        if (s.action.type !== 'answer') {
          expect(s.formatError, s.policyText.slice(0, 100)).toMatch(/^error: /);
          reasons.add(s.formatError!.replace(/".*"/, '"…"').split('.')[0]!);
        }
        expect(s.expert).toBeUndefined();
      }
      expect(r.extracted ?? '').not.toContain(INJECTION_MARKER);
    }
    expect(kinds.has('other')).toBe(false);
    expect(kinds.size).toBeGreaterThanOrEqual(6);
    for (const reason of [
      'error: no <search> or <answer> tag',
      'error: unknown model "…"',
      'error: malformed call: expected "…"',
    ])
      expect(reasons).toContain(reason);
  });

  it('shows the policy each expert output as one clean <information> block, cut to the observation limit', async () => {
    expect(shown.checked).toBeGreaterThan(0);
    expect(shown.violations).toEqual([]);
    const records = (await cluster.store.readRecords(plan.meta.id)).filter((r) => r.policy === 'maestro');
    expect(records).toHaveLength(plan.rollouts.length / 2);
    let observations = 0;
    for (const r of records) {
      expect(r.status).not.toBe('error');
      expect(r.extracted ?? '').not.toContain(INJECTION_MARKER);
      for (const s of r.steps) {
        if (s.observation === undefined) continue;
        observations++;
        expect(s.observation.length).toBeLessThanOrEqual(MAX_JOB_TEXT);
        expect(s.observation).not.toMatch(CONTROL);
      }
    }
    expect(observations).toBeGreaterThan(0);
    const a = await audit(cluster, plan);
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
  });
});
