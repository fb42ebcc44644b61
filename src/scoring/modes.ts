import { z } from 'zod';

/**
 * Which rules score a prediction.
 * - `official`: the benchmark's scorer of record (named in `benchmarks/catalog.yaml` under
 *   `scorer:`), re-implemented in src/scoring/official from the published rules, so numbers
 *   can be put beside published ones.
 * - `lenient`: the project's own metrics (src/scoring/metrics), which extract one answer and
 *   accept harmless formatting differences.
 * A benchmark whose scorer of record is not implemented yet is scored `lenient` in either mode,
 * and its verdicts say so.
 */
export const ScoringMode = z.enum(['official', 'lenient']);
export type ScoringMode = z.infer<typeof ScoringMode>;

export const DEFAULT_SCORING_MODE: ScoringMode = 'official';

/** The mode a verdict was scored in: verdicts without one were scored by the lenient metrics. */
export function modeOf(result: { mode?: ScoringMode | undefined }): ScoringMode {
  return result.mode ?? 'lenient';
}

/** The line under a results table that says how its items were scored. */
export function scoringNote(
  records: Array<{
    status: string;
    scoreMode?: ScoringMode | undefined;
    benchmark: string;
    judge?: { model: string } | undefined;
    candidates?: Array<{ judge?: { model: string } | undefined }> | undefined;
  }>,
): string {
  const scored = records.filter((r) => r.status !== 'error');
  if (scored.length === 0) return '';
  const modes = [...new Set(scored.map((r) => r.scoreMode ?? 'lenient'))].sort();
  const what =
    modes.length > 1
      ? `mixed (${modes.join(', ')}): records from different runs; re-score with \`maestro-eval score\``
      : modes[0] === 'official'
        ? 'official (the scorers of record named in benchmarks/catalog.yaml; see docs/benchmarks.md)'
        : "lenient (the project's own metrics, not the published scorers)";
  return `Scoring: ${what}.${charxivNote(scored)}`;
}

type Judged = { judge?: { model: string; instructions?: string | undefined } | undefined };

/** The judge models behind a record's verdict: its own, or its fan-out pairs'. */
function judgesOf(r: Judged & { candidates?: Judged[] | undefined }): string[] {
  if (r.judge) return [r.judge.model];
  return (r.candidates ?? []).flatMap((c) => (c.judge ? [c.judge.model] : []));
}

/** How CharXiv's official verdicts were reached: by a judge model, or by the exact-match proxy. */
function charxivNote(
  scored: Array<
    Judged & { scoreMode?: ScoringMode | undefined; benchmark: string; candidates?: Judged[] | undefined }
  >,
): string {
  const charxiv = scored.filter((r) => r.benchmark === 'charxiv' && r.scoreMode === 'official');
  if (charxiv.length === 0) return '';
  const judged = charxiv.filter((r) => judgesOf(r).length > 0);
  const models = [...new Set(judged.flatMap(judgesOf))].sort().join(', ');
  if (judged.length === 0) return ' CharXiv: an exact-match proxy of its judge-based scorer.';
  const texts = judged.every(
    (r) => (r.judge ?? r.candidates?.find((c) => c.judge)?.judge)?.instructions === 'upstream',
  )
    ? " with CharXiv's own instruction texts"
    : '';
  if (judged.length === charxiv.length) return ` CharXiv: graded by the judge model ${models}${texts}.`;
  return ` CharXiv: ${judged.length} of ${charxiv.length} items graded by the judge model ${models}, the rest by the exact-match proxy (records of runs with and without a judge; re-score with maestro-eval score --judge NAME).`;
}
