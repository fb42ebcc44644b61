import { NotFoundError } from '../../core/errors.ts';
import { chartqaOfficial } from './chartqa.ts';
import { charxivOfficial } from './charxiv.ts';
import { erqaOfficial } from './erqa.ts';
import { humanevalvOfficial } from './humanevalv.ts';
import { mathrulerOfficial } from './mathruler.ts';
import { mathvistaOfficial } from './mathvista.ts';
import { microvqaOfficial } from './microvqa.ts';
import { ocrbenchOfficial } from './ocrbench.ts';
import { slakeOfficial } from './slake.ts';
import { tallyqaOfficial } from './tallyqa.ts';
import type { OfficialScorer } from './types.ts';
import { hrbenchOfficial, msearthOfficial } from './vlmeval-mcq.ts';
import { vlmsareblindOfficial } from './vlmsareblind.ts';
import { vstarOfficial } from './vstar.ts';

export { officialPrediction } from './prediction.ts';
export type { OfficialScorer } from './types.ts';

const ALL: OfficialScorer[] = [
  ocrbenchOfficial,
  chartqaOfficial,
  mathvistaOfficial,
  tallyqaOfficial,
  slakeOfficial,
  vlmsareblindOfficial,
  erqaOfficial,
  hrbenchOfficial,
  msearthOfficial,
  vstarOfficial,
  microvqaOfficial,
  mathrulerOfficial,
  charxivOfficial,
  humanevalvOfficial,
];

/** Every implemented scorer of record, by the name catalog entries give in `scorer.name`. */
export const officialScorers: Record<string, OfficialScorer> = Object.fromEntries(
  ALL.map((s) => [s.name, s]),
);

/** Names sweeps planned by earlier versions give in their stored catalog. */
const FORMER_NAMES: Record<string, string> = { 'charxiv-proxy': 'charxiv' };

/** The implemented scorer of record with this name, or undefined when it is not implemented yet. */
export function findOfficialScorer(name: string): OfficialScorer | undefined {
  const current = Object.hasOwn(FORMER_NAMES, name) ? (FORMER_NAMES[name] as string) : name;
  return Object.hasOwn(officialScorers, current) ? officialScorers[current] : undefined;
}

/** Like findOfficialScorer, but throws naming the known scorers. */
export function getOfficialScorer(name: string): OfficialScorer {
  const s = findOfficialScorer(name);
  if (!s) {
    throw new NotFoundError(
      `no official scorer "${name}" (implemented: ${Object.keys(officialScorers).sort().join(', ') || 'none'})`,
      {
        hint: 'scorers of record are named in benchmarks/catalog.yaml and implemented in src/scoring/official',
      },
    );
  }
  return s;
}
