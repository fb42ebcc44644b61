import type { CallTrace, ImageRef, Item } from '../src/core/items.ts';
import type { Expert, Registry, Service, Skill } from '../src/core/registry.ts';
import type { ImageTools } from '../src/data/image-tools.ts';
import type { ChatRequest, ChatResult, ModelClient } from '../src/models/client.ts';

/** An auxiliary service role a skill calls (see `ServiceRole` in src/core/registry.ts). */
export type ServiceRoleName = 'zoom' | 'ocr' | 'detection' | 'caption';

/** A service a skill uses. Optional ones degrade the skill when they fail; required ones fail it. */
export interface ServiceNeed {
  role: ServiceRoleName;
  required?: boolean;
}

/**
 * What a skill is, next to its code: the registry names it in `implementation:`; the
 * index (skills/index.ts) gathers every definition; the policy prompt shows the
 * registry's description of Level-1 skills.
 */
export interface SkillDefinition {
  /** Implementation id, named by a registry skill's `implementation:`. */
  id: string;
  /** The registry skill name it is written for ('' for generic implementations). */
  name: string;
  /** Set for the Maestro release's own skills (registry/release.yaml), which reuse the release's names. */
  profile?: 'release';
  level: 1 | 2;
  /** When to use it (a default for the registry's `description`). */
  description: string;
  /** Auxiliary services it calls, besides the chosen expert. */
  services: ServiceNeed[];
  /** Routers: the Level-2 solvers it may dispatch to (registry names). */
  solvers?: string[];
  /**
   * The budget its call graph needs when the runtime is not given one explicitly
   * (the release's skills make more calls, with longer timeouts, than the project's).
   */
  defaultBudget?: { maxCalls: number; timeoutMs: number };
}

/** A skill implementation, gathered by skills/index.ts. */
export interface SkillImplementation extends SkillDefinition {
  run(ctx: SkillContext): Promise<SkillOutput>;
}

export interface SkillOutput {
  /** What the policy sees (its last `observationChars` characters) inside `<information>`. */
  text: string;
}

/** Limits of one skill run. */
export interface SkillBudget {
  /** Model calls (expert and auxiliary) the run may make. */
  maxCalls: number;
  /** Wall-clock limit of the run (ms). */
  timeoutMs: number;
  /** When the run must be over (ms since epoch). */
  deadline: number;
}

/** A call to the chosen expert. */
export interface AskRequest {
  /** Instruction for the expert (system message). */
  system: string;
  /** The user text (after the images). */
  text: string;
  /** Image data URLs; default: the item's images sized for the expert. */
  images?: string[];
  /** What this call is for, recorded in the trace (e.g. "classify chart type"). */
  note: string;
  temperature?: number;
  maxTokens?: number;
}

/** A request body a skill sends as it is (the `release` skills send the release's exact bodies). */
export interface SendRequest {
  /** The chosen expert, or an auxiliary service of the registry. */
  to: 'expert' | Service;
  /** The full chat-completions body (model included), sent unchanged. */
  body: Record<string, unknown>;
  /** Per-attempt timeout (ms), capped by the run's deadline. */
  timeoutMs: number;
  /** Retries inside the call (the OpenAI client's policy). */
  maxRetries: number;
  /** What this call is for, recorded in the trace. */
  note?: string;
}

/** An image given to an auxiliary service: a stored image of the item, or derived bytes. */
export type AuxImage = { ref: ImageRef } | { bytes: Buffer; label: string };

/** A call to an auxiliary service. */
export interface AuxRequest {
  image: AuxImage;
  /** The instruction (user text after the image). */
  prompt: string;
  /** What this call is for, recorded in the trace. */
  note: string;
  /** Fail the skill instead of degrading when the service fails. Default false. */
  required?: boolean;
}

export type AuxResult =
  | {
      ok: true;
      text: string;
      service: Service;
      cached: boolean;
      /** Size of the image the service saw (pixel boxes it returns refer to it). */
      sent: { width: number; height: number };
      /** Size of the image before any resizing for the service. */
      original: { width: number; height: number };
    }
  | { ok: false; error: string; service: Service | undefined };

/** Everything a skill may use while it runs. Built by src/skills-runtime/runtime.ts. */
export interface SkillContext {
  expert: Expert;
  /** Client for the chosen expert. */
  client: ModelClient;
  /** The registry skill being run (undefined for the built-in `direct` skill). */
  skill: Skill | undefined;
  /** The policy's free-text input for the call. */
  input: string;
  item: Item;
  /** The item's images, by reference; load them through `tools`. */
  images: ImageRef[];
  tools: ImageTools;
  registry: Registry;
  budget: SkillBudget;
  /** Tracing headers sent with every model call (item, skill, seed). */
  headers: Record<string, string>;
  /** The run's trace so far (shared with any Level-2 solver it dispatches to). */
  trace: readonly CallTrace[];
  /** Model calls still allowed by the budget. */
  callsLeft(): number;
  /** The auxiliary service for a name or role, if the registry has one. */
  service(nameOrRole: string): Service | undefined;
  /** The item's images as data URLs sized for the chosen expert. */
  expertImages(): Promise<string[]>;
  /** A derived image (crop, drawing) as a data URL sized for the chosen expert. */
  expertImage(bytes: Buffer): Promise<string>;
  /** Calls the chosen expert (traced, within the budget). Throws when the call fails. */
  ask(req: AskRequest): Promise<ChatResult>;
  /**
   * Calls an auxiliary service through the cluster-wide limiter, with the per-process
   * result cache. A failure is returned (and traced), not thrown, unless `required`.
   */
  aux(nameOrRole: string, req: AuxRequest): Promise<AuxResult>;
  /** Adds a note to the next trace entry (a router's choice, a skipped step). */
  note(text: string): void;
  /**
   * Stores the images of chat messages a skill sends itself (their data URLs) in the data
   * directory and gives their references, for the call's trace entry (thumbnails).
   */
  keepImages(messages: ReadonlyArray<{ content?: unknown }>): Promise<ImageRef[]>;
  /** Appends a call the skill sent itself (the `release` skills send exact request bodies). */
  record(entry: CallTrace): void;
  /**
   * Sends an exact request body through the project's model client, within the run's call
   * budget and deadline (services also through the cluster-wide limiter), traced. Returns
   * the reply's raw text. Throws SendError (src/models/client.ts) when the request fails,
   * PermanentError when the call budget is used up, RetryableError when the time budget runs out.
   */
  send(req: SendRequest): Promise<{ text: string; latencyMs: number }>;
  /** Runs a Level-2 solver by registry name, in this run's budget and trace. */
  solve(solverName: string, input?: string): Promise<SkillOutput>;
}

/** A user message with the images first, then text. */
export function imageMessage(images: string[], text: string): ChatRequest['messages'][number] {
  return {
    role: 'user',
    content: [
      ...images.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
      { type: 'text' as const, text },
    ],
  };
}

/** The question with its lettered options, as experts see it. */
export function questionWithOptions(item: Item): string {
  if (!item.options?.length) return item.question;
  return `${item.question}\n${item.options.map((o) => `${o.label}. ${o.text}`).join('\n')}`;
}
