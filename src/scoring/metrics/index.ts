import { NotFoundError } from '../../core/errors.ts';
import type { MetricDefinition } from '../types.ts';
import { choice } from './choice.ts';
import { codePass } from './code-pass.ts';
import { exact } from './exact.ts';
import { integer } from './integer.ts';
import { math } from './math.ts';
import { mathvista } from './mathvista.ts';
import { ocrbench } from './ocrbench.ts';
import { relaxed } from './relaxed.ts';
import { slake } from './slake.ts';

export type { MetricDefinition } from '../types.ts';

/** Every metric, by the id benchmarks name in `benchmarks/catalog.yaml`. */
export const metrics: Record<string, MetricDefinition> = Object.fromEntries(
  [choice, mathvista, math, integer, relaxed, exact, slake, ocrbench, codePass].map((m) => [m.id, m]),
);

/** The metric with this id; throws naming the unknown id and the known ones. */
export function getMetric(id: string): MetricDefinition {
  const m = Object.hasOwn(metrics, id) ? metrics[id] : undefined;
  if (!m) {
    throw new NotFoundError(
      `unknown metric "${id}" (known metrics: ${Object.keys(metrics).sort().join(', ')})`,
      {
        hint: 'metric ids are set per benchmark in benchmarks/catalog.yaml and implemented in src/scoring/metrics',
      },
    );
  }
  return m;
}
