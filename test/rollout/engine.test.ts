import { describe, expect, it } from 'vitest';
import { type ExpertCall, JOB_SIZE_LIMITS, type RolloutState } from '../../src/core/jobs.ts';
import {
  advance,
  chatProfile,
  drive,
  type EngineConfig,
  initialState,
  type NameResolver,
  type PolicyDecision,
  type RolloutEvent,
  type RolloutIO,
} from '../../src/rollout/index.ts';

const EXPERTS = ['Chart-R1', 'GLM-4.6V-Flash'];
const SKILLS = ['Chart_Problem_Solver', 'Perception_Problem_Solver'];
const names: NameResolver = {
  expert: (n) => EXPERTS.find((e) => e.toLowerCase() === n.toLowerCase()),
  skill: (n) => (n === 'direct' ? 'direct' : SKILLS.find((s) => s.toLowerCase() === n.toLowerCase())),
  offeredExperts: () => EXPERTS,
  offeredSkills: () => SKILLS,
};
const cfg = (maxTurns = 4, budgetMs?: number): EngineConfig => ({
  profile: chatProfile({ maxTurns, budgetMs }),
  names,
});

const T0 = Date.parse('2026-01-01T00:00:00Z');

function turn(
  text: string,
  action: PolicyDecision['action'],
  extra: Partial<PolicyDecision> = {},
): RolloutEvent {
  return {
    type: 'policy-reply',
    reply: { text, action, latencyMs: 10, promptTokens: 100, completionTokens: 20, ...extra },
  };
}
const search = (model: string, skill: string, input = 'what is the value?') =>
  turn(`<search> ${model}@@${skill}: ${input} </search>`, { type: 'search', model, skill, input });
const answer = (a: string) => turn(`<answer> ${a} </answer>`, { type: 'answer', answer: a });
const expertOut = (text: string) => ({ kind: 'expert' as const, out: { text, calls: [], latencyMs: 42 } });

/** Activates a fresh rollout, then feeds events; returns every transition. */
function run(events: RolloutEvent[], c = cfg()) {
  let t = advance(initialState(), { type: 'activate', now: T0 }, c);
  const seen = [t];
  for (const e of events) {
    t = advance(t.state, e, c);
    seen.push(t);
  }
  return { last: t, seen };
}

describe('advance: the first activation', () => {
  it('stamps the start time and asks the policy for its first decision', () => {
    const t = advance(initialState(), { type: 'activate', now: T0 }, cfg());
    expect(t.next).toEqual({ type: 'decide', first: true });
    expect(t.state.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(t.save).toBe(false);
  });

  it('never mutates the state it is given', () => {
    const start = initialState();
    const frozen = structuredClone(start);
    const t = advance(start, { type: 'activate', now: T0 }, cfg());
    advance(t.state, answer('42'), cfg());
    expect(start).toEqual(frozen);
    expect(t.state.steps).toEqual([]);
  });
});

describe('advance: policy turns', () => {
  it('an answer at turn 0 ends the policy phase and asks for scoring', () => {
    const { last } = run([answer('42')]);
    expect(last.next).toEqual({ type: 'score' });
    expect(last.save).toBe(true);
    expect(last.state).toMatchObject({ phase: 'scoring', status: 'answered', pending: [{ kind: 'score' }] });
    expect(last.state.rawOutput).toBe('<answer> 42 </answer>');
    expect(last.state.steps).toHaveLength(1);
  });

  it("a baseline's raw output is what gets scored", () => {
    const { last } = run([
      turn('<answer>…</answer>', { type: 'answer', answer: 'x' }, { rawOutput: 'The answer is 7.' }),
    ]);
    expect(last.state.rawOutput).toBe('The answer is 7.');
  });

  it('a valid call becomes one pending expert call, resolved to registry names', () => {
    const { last } = run([search('chart-r1', 'chart_problem_solver', 'read the bar')]);
    const call: ExpertCall = {
      kind: 'expert',
      turn: 0,
      call: 0,
      expert: 'Chart-R1',
      skill: 'Chart_Problem_Solver',
      input: 'read the bar',
    };
    expect(last.next).toEqual({ type: 'call', calls: [call] });
    expect(last.save).toBe(true);
    expect(last.state.pending).toEqual([call]);
    expect(last.state.steps[0]).toMatchObject({ expert: 'Chart-R1', skill: 'Chart_Problem_Solver' });
  });

  it('a direct call carries the model override', () => {
    const { last } = run([
      turn(
        '<search> GLM-4.6V-Flash@@direct: q </search>',
        {
          type: 'search',
          model: 'GLM-4.6V-Flash',
          skill: 'direct',
          input: 'q',
        },
        { modelOverride: 'gemini-2.5-pro' },
      ),
    ]);
    expect(last.state.pending[0]).toMatchObject({ skill: 'direct', model: 'gemini-2.5-pro' });
  });

  it('an unknown model costs a turn and lists the offered models', () => {
    const { last } = run([search('gpt-9', 'Chart_Problem_Solver')]);
    expect(last.next).toEqual({ type: 'decide', first: false });
    expect(last.state.turn).toBe(1);
    expect(last.state.pending).toEqual([]);
    expect(last.state.steps[0]?.formatError).toBe(
      'error: unknown model "gpt-9". Available models: Chart-R1, GLM-4.6V-Flash.',
    );
    expect(last.state.steps[0]?.expert).toBeUndefined();
  });

  it('an unknown skill costs a turn and lists the offered skills', () => {
    const { last } = run([search('Chart-R1', 'Zoom_Skill')]);
    expect(last.state.turn).toBe(1);
    expect(last.state.steps[0]?.formatError).toBe(
      'error: unknown skill "Zoom_Skill". Available skills: Chart_Problem_Solver, Perception_Problem_Solver.',
    );
  });

  it('a malformed turn costs a turn and tells the policy the protocol', () => {
    const { last } = run([
      turn('I think it is 4', { type: 'invalid', reason: 'no <search> or <answer> tag' }),
    ]);
    expect(last.next).toEqual({ type: 'decide', first: false });
    expect(last.save).toBe(true);
    expect(last.state.steps[0]?.formatError).toMatch(/^error: no <search> or <answer> tag\. Use <search>/);
  });

  it('the turn limit ends the rollout without an answer, scoring the last turn', () => {
    const bad = turn('hmm', { type: 'invalid', reason: 'no tag' });
    const { last, seen } = run([bad, bad], cfg(2));
    expect(seen[1]?.next).toEqual({ type: 'decide', first: false });
    expect(last.next).toEqual({ type: 'score' });
    expect(last.state).toMatchObject({ phase: 'scoring', status: 'no_answer', rawOutput: 'hmm', turn: 2 });
  });

  it('bounds untrusted policy text', () => {
    const long = 'x'.repeat(20_000);
    const { last } = run([answer(long)]);
    const step = last.state.steps[0]!;
    expect(step.policyText.length).toBeLessThanOrEqual(8_000);
    expect(step.action.type === 'answer' && step.action.answer.length).toBeLessThanOrEqual(8_000);
  });

  it('a policy that failed for good makes the item an error, still scored (recorded)', () => {
    const { last } = run([{ type: 'policy-failed', error: 'policy maestro failed: 401' }]);
    expect(last.next).toEqual({ type: 'score' });
    expect(last.state).toMatchObject({ status: 'error', error: 'policy maestro failed: 401' });
  });

  it('merges the facts a policy records about its decisions', () => {
    const { last } = run([
      turn(
        '<search> Chart-R1@@Chart_Problem_Solver: q </search>',
        {
          type: 'search',
          model: 'Chart-R1',
          skill: 'Chart_Problem_Solver',
          input: 'q',
        },
        { meta: { arm: 'Chart-R1@@Chart_Problem_Solver', order: 3 } },
      ),
    ]);
    expect(last.state.policyMeta).toEqual({ arm: 'Chart-R1@@Chart_Problem_Solver', order: 3 });
  });
});

describe('advance: expert calls', () => {
  it("a child's output becomes the step's observation and the next turn starts", () => {
    const { last } = run([
      search('Chart-R1', 'Chart_Problem_Solver'),
      { type: 'children', results: [expertOut('It is 42.')] },
    ]);
    expect(last.next).toEqual({ type: 'decide', first: false });
    // Derivable from the saved call and the stored child results: not saved again.
    expect(last.save).toBe(false);
    expect(last.state.turn).toBe(1);
    expect(last.state.pending).toEqual([]);
    expect(last.state.steps[0]).toMatchObject({ observation: 'It is 42.', expertLatencyMs: 42 });
  });

  it('a child that failed for good makes the item an error naming the expert and skill', () => {
    const { last } = run([
      search('Chart-R1', 'Chart_Problem_Solver'),
      { type: 'children', results: [{ kind: 'failed', reason: 'HTTP 500' }] },
    ]);
    expect(last.next).toEqual({ type: 'score' });
    expect(last.state).toMatchObject({
      status: 'error',
      error: 'expert Chart-R1 (Chart_Problem_Solver) failed: HTTP 500',
    });
    expect(last.state.steps[0]?.observation).toBe(
      'error: the Chart_Problem_Solver call to Chart-R1 failed: HTTP 500',
    );
  });

  it('a child missing after a crash is enqueued again, without saving', () => {
    const { last, seen } = run([search('Chart-R1', 'Chart_Problem_Solver')]);
    const call = seen[1]!.state.pending[0];
    // The crash: the state was saved, the child never enqueued; a new activation resolves.
    const resumed = advance(last.state, { type: 'activate', now: T0 + 1_000 }, cfg());
    expect(resumed.next).toEqual({ type: 'resolve' });
    const again = advance(resumed.state, { type: 'children-missing', missing: [0] }, cfg());
    expect(again.next).toEqual({ type: 'call', calls: [call] });
    expect(again.save).toBe(false);
    expect(again.state.pending).toEqual([call]);
  });

  it('a scoring child missing after a crash is asked for again', () => {
    const { last } = run([answer('1')]);
    const again = advance(last.state, { type: 'children-missing', missing: [0] }, cfg());
    expect(again.next).toEqual({ type: 'score' });
  });

  it('the time budget ends the rollout at the next activation', () => {
    const { last } = run([search('Chart-R1', 'Chart_Problem_Solver')], cfg(4, 5_000));
    const early = advance(last.state, { type: 'activate', now: T0 + 4_000 }, cfg(4, 5_000));
    expect(early.next).toEqual({ type: 'resolve' });
    const late = advance(last.state, { type: 'activate', now: T0 + 6_000 }, cfg(4, 5_000));
    expect(late.next).toEqual({ type: 'score' });
    expect(late.state.error).toBe('time budget exceeded (5000 ms per item; 1 steps taken)');
  });
});

describe('advance: fan-out (oracle)', () => {
  const fanOut: RolloutEvent = {
    type: 'policy-reply',
    reply: {
      fanOut: [
        { model: 'chart-r1', skill: 'Chart_Problem_Solver', input: 'q' },
        { model: 'GLM-4.6V-Flash', skill: 'perception_problem_solver', input: 'q' },
      ],
    },
  };

  it('runs every pair at once as numbered calls of turn 0', () => {
    const { last } = run([fanOut]);
    expect(last.next.type).toBe('call');
    expect(last.state.pending.map((p) => p.kind === 'expert' && [p.expert, p.skill, p.call])).toEqual([
      ['Chart-R1', 'Chart_Problem_Solver', 1],
      ['GLM-4.6V-Flash', 'Perception_Problem_Solver', 2],
    ]);
    expect(last.state.steps).toHaveLength(2);
    expect(last.state.candidates).toEqual([]);
  });

  it('keeps each pair as a candidate; answered when any pair answered', () => {
    const { last } = run([
      fanOut,
      { type: 'children', results: [{ kind: 'failed', reason: 'timeout' }, expertOut('B')] },
    ]);
    expect(last.next).toEqual({ type: 'score' });
    expect(last.state.status).toBe('answered');
    expect(last.state.rawOutput).toBe('B');
    expect(last.state.candidates).toEqual([
      { expert: 'Chart-R1', skill: 'Chart_Problem_Solver', rawOutput: '', error: 'timeout' },
      { expert: 'GLM-4.6V-Flash', skill: 'Perception_Problem_Solver', rawOutput: 'B' },
    ]);
  });

  it('stores a 1 MB shared question once, bounded, and sends it to every pair', () => {
    const question = `${'x'.repeat(1024 * 1024)} what is the value?`;
    const pairs = Array.from({ length: 26 }, (_, i) => ({
      model: EXPERTS[i % 2]!,
      skill: SKILLS[i % 2]!,
      input: question,
    }));
    const { last } = run([{ type: 'policy-reply', reply: { fanOut: pairs } }]);
    const bytes = Buffer.byteLength(JSON.stringify(last.state));
    expect(bytes).toBeLessThan(JOB_SIZE_LIMITS.rollout / 50);
    expect(last.state.fanOutInput?.endsWith('what is the value?')).toBe(true);
    expect(last.state.steps.every((s) => s.action.type === 'search' && s.action.input === '')).toBe(true);
    expect(last.next.type).toBe('call');
    const sent = last.next.type === 'call' ? last.next.calls : [];
    expect(sent).toHaveLength(26);
    expect(sent.every((c) => c.input === last.state.fanOutInput)).toBe(true);
    // After a crash before enqueueing, the re-added calls carry the input again.
    const again = advance(last.state, { type: 'children-missing', missing: [0, 25] }, cfg());
    const resent = again.next.type === 'call' ? again.next.calls : [];
    expect(resent.map((c) => c.input === last.state.fanOutInput)).toEqual([true, true]);
  });

  it("keeps each call's own input when the inputs differ", () => {
    const { last } = run([
      {
        type: 'policy-reply',
        reply: {
          fanOut: [
            { model: 'chart-r1', skill: 'Chart_Problem_Solver', input: 'a' },
            { model: 'GLM-4.6V-Flash', skill: 'perception_problem_solver', input: 'b' },
          ],
        },
      },
    ]);
    expect(last.state.fanOutInput).toBeUndefined();
    expect(last.next.type === 'call' && last.next.calls.map((c) => c.input)).toEqual(['a', 'b']);
  });

  it('is an error when every pair failed', () => {
    const failed = { kind: 'failed' as const, reason: 'down' };
    const { last } = run([fanOut, { type: 'children', results: [failed, failed] }]);
    expect(last.state).toMatchObject({ status: 'error', error: 'every fan-out call failed; first: down' });
  });
});

describe('advance: scoring', () => {
  it('a scored rollout finishes and keeps only a small state', () => {
    const { last } = run([
      answer('42'),
      {
        type: 'children',
        results: [{ kind: 'scored', result: { status: 'answered', correct: true, score: 1 } }],
      },
    ]);
    expect(last.next).toEqual({ type: 'finish', result: { status: 'answered', correct: true, score: 1 } });
    expect(last.save).toBe(true);
    expect(last.state).toEqual({ phase: 'done', turn: 0, steps: [], pending: [], status: 'answered' });
  });

  it('a scoring child that failed for good fails the rollout', () => {
    const { last } = run([
      answer('42'),
      { type: 'children', results: [{ kind: 'failed', reason: 'disk full' }] },
    ]);
    expect(last.next).toEqual({ type: 'fail', error: 'scoring failed: disk full' });
  });

  it('a rollout saved in the scoring phase without its child asks for scoring again', () => {
    const state: RolloutState = { ...initialState(), phase: 'scoring', status: 'answered', rawOutput: 'x' };
    expect(advance(state, { type: 'activate', now: T0 }, cfg()).next).toEqual({ type: 'score' });
  });

  it('a finished rollout activated again (its completion lost) is scored again, never failed', () => {
    // Redis restored to before the completion keeps the saved "done" state: the scorer is
    // asked again (it re-uses the record) and the rollout finishes with that result.
    const state: RolloutState = { phase: 'done', turn: 1, steps: [], pending: [], status: 'answered' };
    const again = advance(state, { type: 'activate', now: T0 }, cfg());
    expect(again.next).toEqual({ type: 'score' });
    expect(again.save).toBe(true);
    // Only a lost record would be scored from this state: as an error that says so.
    expect(again.state).toMatchObject({
      phase: 'scoring',
      pending: [{ kind: 'score' }],
      status: 'error',
      error: 'scored earlier, but its record is missing',
    });
    const result = { status: 'answered' as const, correct: true, score: 1 };
    const last = advance(again.state, { type: 'children', results: [{ kind: 'scored', result }] }, cfg());
    expect(last.next).toEqual({ type: 'finish', result });
    expect(last.state.phase).toBe('done');
  });
});

describe('drive', () => {
  /** An in-memory driver: scripted policy replies, experts echo their input. */
  function scripted(replies: RolloutEvent[]) {
    const log: string[] = [];
    const io: RolloutIO = {
      save: async (s) => void log.push(`save ${s.phase}`),
      decide: async (_s, first) => {
        log.push(`decide${first ? ' first' : ''}`);
        const next = replies.shift();
        if (!next) throw new Error('script ran out');
        return next;
      },
      call: async (_s, calls) => ({
        type: 'children',
        results: calls.map((c) => expertOut(`echo ${c.input}`)),
      }),
      resolve: async () => {
        throw new Error('not expected');
      },
      score: async (s) => ({
        type: 'children',
        results: [
          {
            kind: 'scored',
            result: {
              status: s.status ?? 'error',
              correct: s.rawOutput === '<answer> 7 </answer>',
              score: 1,
            },
          },
        ],
      }),
      finish: async (r) => void log.push(`finish ${r.correct}`),
    };
    return { io, log };
  }

  it('runs a search, its observation and an answer to the outcome, telling it once', async () => {
    const { io, log } = scripted([search('Chart-R1', 'Chart_Problem_Solver', 'q'), answer('7')]);
    const { result } = await drive(initialState(), { type: 'activate', now: T0 }, cfg(), io);
    expect(result).toEqual({ status: 'answered', correct: true, score: 1 });
    // The state after the observation is not saved: it follows from the saved call and the
    // children's results.
    expect(log).toEqual([
      'decide first',
      'save policy',
      'decide',
      'save scoring',
      'save done',
      'finish true',
    ]);
  });

  it('gives up on a driver that never lets the rollout settle', async () => {
    const io: RolloutIO = {
      ...scripted([]).io,
      resolve: async () => ({ type: 'children-missing', missing: [0] }),
      call: async () => ({ type: 'children-missing', missing: [0] }),
    };
    const { state } = run([search('Chart-R1', 'Chart_Problem_Solver')]).last;
    await expect(drive(state, { type: 'activate', now: T0 }, cfg(), io)).rejects.toThrow(/did not settle/);
  });
});
