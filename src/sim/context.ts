import type { Item } from '../core/items.ts';
import type { ItemRef, SimMessage } from './request.ts';

/** Everything a simulated model looks at to produce one reply. */
export interface SimContext {
  /** Registry name of the endpoint answering. */
  endpoint: string;
  /** Seed of the request (`x-maestro-seed`, else the server seed); a suffix marks extra samples when n > 1. */
  seed: number | string;
  /** Skill named in `x-maestro-skill` (registry spelling when known), `direct` when absent. */
  skill: string;
  ref: ItemRef | null;
  /** The item, when `ref` names one that is in the data directory. */
  item: Item | null;
  /** Domain of the item's benchmark from the catalog; '' when unknown. */
  domain: string;
  /** Hash of the item, skill and seed headers and the message texts. */
  requestKey: string;
  messages: SimMessage[];
  /** Set for `release` profile requests (see isReleaseRequest in request.ts). */
  release?: ReleaseTurn;
}

/** What a `release` profile request carries beyond the messages. */
export interface ReleaseTurn {
  /** The final assistant message being continued ('' on the first step). */
  continuation: string;
  /** The request's sampling `seed`; a caller that resamples a step changes it. */
  sampleSeed: number | null;
}

/** Phrases used to make replies read like a model looked at the image. */
export const DOMAIN_SCENES: Record<string, string> = {
  chart: 'a chart with labelled axes, a legend and several data series',
  math: 'a mathematical figure with labelled quantities',
  geometry: 'a geometric figure with labelled points, segments and angle marks',
  counting: 'a scene with several similar objects spread across the frame',
  perception: 'a large, detailed scene with many small objects',
  medical: 'a greyscale medical scan',
  microscopy: 'a microscopy image of stained cells',
  'earth-science': 'a map with coloured regions and a legend',
  ocr: 'a photograph of printed text',
  'low-level-vision': 'simple shapes and lines drawn on a plain background',
  embodied: "a robot's view of a table-top scene",
  code: 'a diagram that illustrates a programming task',
};

export function scene(domain: string): string {
  return DOMAIN_SCENES[domain] ?? 'an image related to the question';
}
