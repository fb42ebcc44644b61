import { type Benchmark, BenchmarkCatalog, type Suite } from '../../src/core/benchmarks.ts';
import type { Item, ItemRecord } from '../../src/core/items.ts';

/** A canonical item with defaults; override what the test is about. */
export function makeItem(over: Partial<Item> = {}): Item {
  return {
    id: 'item-1',
    benchmark: 'test',
    question: 'What is it?',
    images: [],
    answers: ['A'],
    answerType: 'text',
    extra: {},
    ...over,
  };
}

export const ABCD = [
  { label: 'A', text: 'cat' },
  { label: 'B', text: 'dog' },
  { label: 'C', text: 'red fox' },
  { label: 'D', text: 'fox' },
];

export function bench(id: string, metric: string, group: Benchmark['group'] = 'in-domain'): Benchmark {
  return {
    id,
    name: id.toUpperCase(),
    group,
    domain: 'test',
    source: 'test',
    split: 'test',
    answerType: 'text',
    metric,
  };
}

export const catalog = new BenchmarkCatalog([
  { ...bench('alpha', 'exact'), name: 'Alpha' },
  { ...bench('beta', 'exact'), name: 'Beta' },
  { ...bench('gamma', 'exact', 'out-of-domain'), name: 'Gamma' },
  { ...bench('delta', 'exact', 'out-of-domain'), name: 'Delta' },
  { ...bench('extra', 'exact'), name: 'Extra' },
]);

export const suite: Suite = { name: 'mini', inDomain: ['alpha', 'beta'], outOfDomain: ['gamma', 'delta'] };

let counter = 0;

/** A record with defaults; `correct` and `status` are the usual overrides. */
export function rec(
  over: Partial<ItemRecord> & Pick<ItemRecord, 'policy' | 'benchmark' | 'itemId'>,
): ItemRecord {
  counter++;
  const status = over.status ?? 'answered';
  return {
    v: 1,
    sweepId: 'sweep-1',
    rolloutId: `${over.policy}/${over.benchmark}/${over.itemId}/${over.seed ?? 0}`,
    seed: 0,
    sample: 0,
    status,
    rawOutput: '<answer>x</answer>',
    extracted: status === 'answered' ? 'x' : null,
    correct: false,
    score: over.correct ? 1 : 0,
    scoreReason: '',
    steps: [],
    latencyMs: 100 + (counter % 7),
    policyLatencyMs: 50,
    expertLatencyMs: 50,
    expertCalls: 1,
    promptTokens: 10,
    completionTokens: 5,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    ...over,
  };
}
