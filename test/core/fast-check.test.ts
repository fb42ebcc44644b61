import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fastParse, hasFastCheck } from '../../src/core/fast-check.ts';
import { mulberry32 } from '../../src/core/hash.ts';
import { Item, ItemRecord } from '../../src/core/items.ts';
import { ExpertJobData, RolloutJobData, ScoreJobData } from '../../src/core/jobs.ts';
import { ChatRequest } from '../../src/sim/request.ts';
import { itemRecord } from '../helpers/records.ts';

const ODD_VALUES: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  '',
  'x',
  '😀',
  'search',
  'answer',
  'answered',
  true,
  false,
  [],
  [1],
  ['a'],
  {},
  { type: 'text', text: 'hi' },
  { type: 'image_url', image_url: { url: 'data:' } },
];

/** Every path to a value inside `v` (objects and arrays), the root included. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A copy of `v` with one change at a random place: a value replaced, a key removed or added. */
function mutate(v: unknown, rand: () => number): unknown {
  const copy = structuredClone(v);
  const all = paths(copy);
  const path = all[Math.floor(rand() * all.length)] ?? [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  if (path.length === 0) return rand() < 0.5 ? pick(ODD_VALUES) : copy;
  let parent: Record<string | number, unknown> = copy as Record<string, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  const r = rand();
  if (r < 0.6) parent[key] = pick(ODD_VALUES);
  else if (r < 0.8 && !Array.isArray(parent)) delete parent[key];
  else if (parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key]))
    (parent[key] as Record<string, unknown>)[pick(['extra', 'v', 'type', '__proto__'])] = pick(ODD_VALUES);
  else parent[key] = structuredClone(pick(ODD_VALUES));
  return copy;
}

/** Checks the fast path against zod on `base` and `n` mutations of it; returns how often it accepted. */
function differential(schema: z.ZodType, base: unknown, n: number, seed: number): { accepted: number } {
  const rand = mulberry32(seed);
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    const value = i === 0 ? base : mutate(base, rand);
    const fast = fastParse(schema, value);
    const slow = schema.safeParse(value);
    expect(fast.success, JSON.stringify(value)).toBe(slow.success);
    if (fast.success && slow.success) {
      expect(fast.data).toStrictEqual(slow.data);
      if (fast.data === value) accepted++;
    }
  }
  return { accepted };
}

const step = {
  turn: 0,
  policyText: '<search> Solo@@direct: how many? </search>',
  policyLatencyMs: 12.5,
  policyPromptTokens: 40,
  policyCompletionTokens: 9,
  action: { type: 'search', model: 'Solo', skill: 'direct', input: 'how many?' },
  expert: 'Solo',
  skill: 'direct',
  observation: 'The answer is 3.',
  expertLatencyMs: 50,
  calls: [
    {
      service: 'expert',
      model: 'Solo',
      latencyMs: 50.2,
      promptTokens: 45,
      completionTokens: 12,
      ok: true,
      note: 'direct answer',
      output: 'The answer is 3.',
    },
  ],
};

const record = itemRecord({
  rawOutput: 'The answer is 3.',
  extracted: '3',
  scoreMode: 'official',
  steps: [
    step,
    { ...step, turn: 1, action: { type: 'answer', answer: '3' }, calls: [] },
  ] as ItemRecord['steps'],
  releaseReward: { kind: 'scored', score: 1, correct: true, fn: 'tallyqa' },
  policyMeta: { arm: 2, rule: 'counting' },
});

const rolloutJob = {
  v: 1,
  sweepId: 's',
  rolloutId: 's.tallyqa.direct.i1.s0',
  policy: 'direct:Solo',
  benchmark: 'tallyqa',
  itemId: 'i1',
  seed: 0,
  sample: 0,
  state: { phase: 'policy', turn: 1, steps: [step], pending: [], startedAt: new Date(0).toISOString() },
};

const chat = {
  model: 'Solo',
  messages: [
    { role: 'system', content: 'Answer briefly.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'How many?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
      ],
    },
  ],
  temperature: 0,
  max_tokens: 64,
  stop: ['</answer>'],
  seed: 3,
};

describe('fastParse', () => {
  it('models the hot-path schemas (else it would only ever run zod)', () => {
    for (const s of [ItemRecord, RolloutJobData, ExpertJobData, ScoreJobData, ChatRequest, Item])
      expect(hasFastCheck(s)).toBe(true);
  });

  it('accepts valid values as they are, without a copy', () => {
    expect(fastParse(ItemRecord, record).data).toBe(record);
    expect(fastParse(RolloutJobData, rolloutJob).data).toBe(rolloutJob);
    expect(fastParse(ChatRequest, chat).data).toBe(chat);
  });

  it.each([
    ['ItemRecord', ItemRecord, record],
    ['RolloutJobData', RolloutJobData, rolloutJob],
    ['ChatRequest', ChatRequest, chat],
  ] as const)('agrees with zod on %s and 3,000 mutations of it', (_, schema, base) => {
    const { accepted } = differential(schema, base, 3_000, 7);
    // The valid base and the mutations that stay valid and unchanged take the fast path.
    expect(accepted).toBeGreaterThan(100);
  });

  it('leaves to zod what it does not model, and zod decides', () => {
    const withDefault = z.object({ n: z.number().default(4) });
    expect(fastParse(withDefault, {})).toEqual({ success: true, data: { n: 4 } });
    const stripped = z.object({ a: z.string() });
    const extra = { a: 'x', b: 1 };
    const r = fastParse(stripped, extra);
    expect(r.success && r.data).toEqual({ a: 'x' });
    expect(r.success && r.data).not.toBe(extra);
    const trimmed = z.object({ s: z.string().trim() });
    expect(hasFastCheck(trimmed)).toBe(false);
    expect(fastParse(trimmed, { s: ' a ' })).toEqual({ success: true, data: { s: 'a' } });
    const transformed = z.string().transform((s) => s.length);
    expect(fastParse(transformed, 'abc')).toEqual({ success: true, data: 3 });
  });

  it('applies zod checks exactly: code points, bounds, integers, refinements', () => {
    const s = z.object({
      name: z.string().min(2),
      n: z.number().int().nonnegative(),
      p: z.number().gt(0).max(1),
      even: z.number().refine((x) => x % 2 === 0),
    });
    const ok = { name: '😀😀', n: 0, p: 1, even: 2 };
    expect(fastParse(s, ok).data).toBe(ok);
    for (const bad of [
      { ...ok, name: '😀' },
      { ...ok, n: -1 },
      { ...ok, n: 1.5 },
      { ...ok, n: 2 ** 60 },
      { ...ok, p: 0 },
      { ...ok, p: 1.01 },
      { ...ok, even: 3 },
    ]) {
      expect(fastParse(s, bad).success).toBe(false);
      expect(s.safeParse(bad).success).toBe(false);
    }
  });

  it('takes the first union option zod would take', () => {
    const u = z.union([z.string(), z.number().int(), z.array(z.string())]);
    expect(fastParse(u, 3).data).toBe(3);
    expect(fastParse(u, 3.5).success).toBe(false);
    const arr = ['a'];
    expect(fastParse(u, arr).data).toBe(arr);
    const loose = z.union([z.object({ a: z.string() }), z.object({ a: z.string(), b: z.number() })]);
    // zod's first option accepts and strips `b`: the fast path must not return the input.
    const both = { a: 'x', b: 1 };
    const r = fastParse(loose, both);
    expect(r.success && r.data).toEqual({ a: 'x' });
  });
});
