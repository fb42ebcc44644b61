/**
 * How the release's orchestrator runs a skill (Maestro/model_skill_orchestrator.py,
 * request_skill_task): the skill is built once (its service calls happen then), `generate`
 * is tried up to twice (6 s apart) until it returns a completion with choices, and every
 * failure becomes the observation text instead of an error.
 */
import { MaestroError } from '../../src/core/errors.ts';
import { pilJpegBase64 } from './images.ts';
import { pyTail } from './pytext.ts';
import type { ReleaseCaches } from './services.ts';
import type { ReleaseTexts } from './upstream.ts';
import type { Completion, ContentPart, Endpoint, Message, ReleaseWire } from './wire.ts';

/** Sampling the release's orchestrator gives every skill's expert calls. */
export const EXPERT_PARAMS = { temperature: 0.2, top_p: 1.0 } as const;
export const EXPERT_TIMEOUT_MS = 900_000;

/** Process settings of the release runs (tests shorten the pause between attempts). */
export const releaseSettings = { retryDelayMs: 6000 };

/** Observation texts of the release's orchestrator. */
export const SKILL_FAILED = 'Skill execution error';

/** What one release skill run may use. */
export interface ReleaseEnv {
  texts: ReleaseTexts;
  wire: ReleaseWire;
  caches: ReleaseCaches;
  expert: Endpoint;
  services: { ocr?: Endpoint; caption?: Endpoint; zoom?: Endpoint; detection?: Endpoint };
  /** Pause between the two `generate` attempts (the release sleeps 6 s). */
  retryDelayMs: number;
}

/** The policy's call: its free-text input and the item's image files. */
export interface ReleaseCall {
  question: string;
  /** Original bytes of each image file, in order. */
  images: Buffer[];
}

/** A built skill instance: `generate` gives a completion, or null where the release gets none. */
export interface ReleaseInstance {
  generate(): Promise<Completion | null>;
}

/** What the run hands a skill when building it. */
export interface ReleaseInputs extends ReleaseCall {
  env: ReleaseEnv;
  /** The orchestrator's data URLs of the images (PIL-style JPEG). */
  imageUrls: string[];
  /** The services' base64 JPEGs of the image files (the same encoding). */
  imagesBase64: string[];
}

/** A release skill: its names and how to build it. */
export interface ReleaseSkillCode {
  /** The release's class name (the registry name). */
  name: string;
  /** Other names the release's factory accepts for it. */
  aliases: string[];
  /** The release file it follows (prompt texts are read from it). */
  file: string;
  /** Service roles it calls besides the expert. */
  services: Array<'ocr' | 'caption' | 'zoom' | 'detection'>;
  build(inputs: ReleaseInputs): Promise<ReleaseInstance>;
}

/** A user message with the images first, then the text; text only without images. */
export function userMessage(images: string[], text: string): Message {
  if (images.length === 0) return { role: 'user', content: text };
  const content: ContentPart[] = images.map((url) => ({ type: 'image_url', image_url: { url } }));
  content.push({ type: 'text', text });
  return { role: 'user', content };
}

/** One expert call as the skills' `_call_model` makes it (no system prompt, no max_tokens). */
export function callExpert(env: ReleaseEnv, messages: Message[]): Promise<Completion> {
  return env.wire.create(env.expert, messages, { ...EXPERT_PARAMS }, EXPERT_TIMEOUT_MS);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a release skill as the orchestrator does; returns the full observation text. */
export async function runReleaseSkill(
  code: ReleaseSkillCode,
  env: ReleaseEnv,
  call: ReleaseCall,
): Promise<string> {
  try {
    const imagesBase64 = await Promise.all(call.images.map((b) => pilJpegBase64(b)));
    const imageUrls = imagesBase64.map((b) => `data:image/jpeg;base64,${b}`);
    const instance = await code.build({ ...call, env, imageUrls, imagesBase64 });
    let out: Completion | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      out = await instance.generate();
      if (out?.hasChoices) break;
      out = null;
      await sleep(env.retryDelayMs);
    }
    if (!out) return SKILL_FAILED;
    if (out.content === null) return `${SKILL_FAILED}: object of type 'NoneType' has no len()`;
    return out.content;
  } catch (err) {
    if (err instanceof MaestroError) throw err; // configuration, not the skill's failure
    return `${SKILL_FAILED}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** What the policy sees of an observation in the release: its last 1,000 characters. */
export function releaseObservation(text: string): string {
  return pyTail(text, 1000);
}
