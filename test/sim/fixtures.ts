import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Benchmark, BenchmarkCatalog } from '../../src/core/benchmarks.ts';
import type { Item } from '../../src/core/items.ts';
import { Registry, RegistryFile } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';

const url = 'http://127.0.0.1:1/unused/v1';

/** A small registry with known profiles: accuracies, capacities and latencies chosen for the tests. */
export function testRegistry(): Registry {
  const file = RegistryFile.parse({
    policies: [
      {
        name: 'maestro',
        model: 'maestro-sim',
        baseUrl: url,
        sim: { routingQuality: 1, latencyMs: { median: 5 } },
      },
      {
        name: 'noisy',
        model: 'noisy-sim',
        baseUrl: url,
        sim: { routingQuality: 0.3, latencyMs: { median: 5 } },
      },
    ],
    experts: [
      {
        name: 'Alpha',
        model: 'alpha-sim',
        baseUrl: url,
        capacity: 2,
        sim: {
          accuracy: { chart: 0.6, counting: 0.5 },
          defaultAccuracy: 0.3,
          latencyMs: { median: 100, sigma: 0.2 },
        },
      },
      {
        name: 'Beta-1.5',
        model: 'beta-sim',
        baseUrl: url,
        sim: { accuracy: { chart: 0.9, counting: 0.4 }, latencyMs: { median: 5 } },
      },
      {
        name: 'Gamma',
        model: 'gamma-sim',
        baseUrl: url,
        sim: { accuracy: { counting: 0.85, chart: 0.5 }, latencyMs: { median: 5 } },
      },
      {
        name: 'Oracle',
        model: 'oracle-sim',
        baseUrl: url,
        offered: false,
        sim: { defaultAccuracy: 0.98, latencyMs: { median: 5 } },
      },
    ],
    services: [
      { name: 'Zoomer', role: 'zoom', model: 'zoom-sim', baseUrl: url },
      { name: 'Reader', role: 'ocr', model: 'ocr-sim', baseUrl: url },
      { name: 'Finder', role: 'detection', model: 'det-sim', baseUrl: url },
      { name: 'Describer', role: 'caption', model: 'cap-sim', baseUrl: url },
    ],
    skills: [
      { name: 'Chart_Solver', domains: ['chart'] },
      { name: 'Count_Solver', domains: ['counting'] },
      { name: 'Look_Closer', domains: [] },
    ],
  });
  return new Registry({ ...file, maxTurns: 4, observationChars: 1000, files: ['(test)'] });
}

const bench = (id: string, domain: string, answerType: Benchmark['answerType']) =>
  Benchmark.parse({
    id,
    name: id,
    group: 'in-domain',
    domain,
    source: 'test',
    split: 'test',
    answerType,
    metric: 'exact',
  });

export function testCatalog(): BenchmarkCatalog {
  return new BenchmarkCatalog([
    bench('charts', 'chart', 'choice'),
    bench('tally', 'counting', 'integer'),
    bench('signs', 'ocr', 'list'),
    bench('coding', 'code', 'code'),
    bench('values', 'chart', 'number'),
  ]);
}

const LABELS = ['A', 'B', 'C', 'D'];

export const CHART_ITEMS = 300;
export const TALLY_ITEMS = 60;

export function chartItem(i: number): Item {
  return {
    id: `c${i}`,
    benchmark: 'charts',
    question: `Which bar is tallest in chart ${i}?`,
    images: [],
    options: LABELS.map((label, k) => ({ label, text: `bar ${k + 1}` })),
    answers: [LABELS[i % 4] ?? 'A'],
    answerType: 'choice',
    extra: {},
  };
}

/** Writes the test datasets into a fresh directory. */
export async function makeDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'maestro-sim-'));
  const store = new DataStore(dir);
  await store.writeDataset(
    'charts',
    Array.from({ length: CHART_ITEMS }, (_, i) => chartItem(i)),
    'test',
  );
  await store.writeDataset(
    'tally',
    Array.from({ length: TALLY_ITEMS }, (_, i) => ({
      id: `t${i}`,
      benchmark: 'tally',
      question: `How many birds are in picture ${i}?`,
      images: [],
      answers: [String(i % 7)],
      answerType: 'integer' as const,
      extra: {},
    })),
    'test',
  );
  await store.writeDataset(
    'signs',
    Array.from({ length: 40 }, (_, i) => ({
      id: `s${i}`,
      benchmark: 'signs',
      question: 'What does the sign say?',
      images: [],
      answers: [`OPEN DAILY ${i}`],
      answerType: 'list' as const,
      extra: {},
    })),
    'test',
  );
  await store.writeDataset(
    'coding',
    [
      {
        id: 'p0',
        benchmark: 'coding',
        question: 'Write the function drawn in the image.',
        images: [],
        answers: ['def area(w, h):\n    return w * h'],
        answerType: 'code',
        extra: {},
      },
    ],
    'test',
  );
  await store.writeDataset(
    'values',
    [
      {
        id: 'v0',
        benchmark: 'values',
        question: 'What is the value of the red bar?',
        images: [],
        answers: ['-4'],
        answerType: 'number',
        extra: {},
      },
    ],
    'test',
  );
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function client(baseUrl: string, endpoint: string, timeout = 10_000): OpenAI {
  return new OpenAI({ baseURL: `${baseUrl}/${endpoint}/v1`, apiKey: 'sim', maxRetries: 0, timeout });
}

export function itemHeaders(
  benchmark: string,
  itemId: string,
  skill = 'direct',
  seed = 0,
): Record<string, string> {
  return {
    'x-maestro-item': `${encodeURIComponent(benchmark)}/${encodeURIComponent(itemId)}`,
    'x-maestro-skill': skill,
    'x-maestro-seed': String(seed),
  };
}

/** A policy system prompt that offers exactly the named experts and skills. */
export function policyPrompt(experts: string[], skills: string[]): string {
  return [
    'You route questions to expert models through skills.',
    'Models:',
    ...experts.map((e) => `- ${e}: an expert`),
    'Skills:',
    ...skills.map((s) => `- ${s}: a skill`),
    'Call one with <search> MODEL@@SKILL: input </search>; answer with <answer> X </answer>.',
  ].join('\n');
}
