import { planFixtureItem } from '../../benchmarks/fixtures/generate.ts';
import { Item } from '../core/items.ts';
import { DataStore } from '../data/store.ts';

/**
 * Writes `n` text items (no images) of `benchmark` into a data directory of their own, from
 * the fixture planner (`plan(i)` picks the planned item behind the i-th one), and returns
 * the store. Bench scenarios use it where images would only measure the image path.
 */
export async function writeTextItems(
  dir: string,
  benchmark: string,
  n: number,
  source: string,
  plan: (i: number) => number = (i) => i,
): Promise<DataStore> {
  const store = new DataStore(dir);
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    const p = planFixtureItem(benchmark, plan(i));
    items.push(
      Item.parse({
        id: `text-${String(i + 1).padStart(5, '0')}`,
        benchmark,
        question: p.question,
        answers: p.answers,
        answerType: p.answerType,
        extra: p.extra,
      }),
    );
  }
  await store.writeDataset(benchmark, items, source);
  return store;
}
