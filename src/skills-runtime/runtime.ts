/**
 * Runs skills: builds the {@link SkillContext} an expert job hands to a skill, traces
 * every model call, enforces the budget (calls and time), reaches auxiliary services
 * through the cluster-wide limiter and caches their results per process.
 *
 * Invariant the expert pools rely on: a skill calls its chosen expert sequentially, so
 * the expert queue's global concurrency (= capacity) also caps requests in flight to the
 * expert. Auxiliary calls may run in parallel; the limiter caps them per service.
 */

import { DIRECT_SKILL, getSkillImplementation } from '../../skills/index.ts';
import type {
  AskRequest,
  AuxRequest,
  AuxResult,
  SendRequest,
  SkillBudget,
  SkillContext,
  SkillImplementation,
  SkillOutput,
} from '../../skills/types.ts';
import { imageMessage } from '../../skills/types.ts';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { sha256, stableStringify } from '../core/hash.ts';
import { CALL_OUTPUT_CHARS, type CallTrace, type ImageRef, type Item } from '../core/items.ts';
import type { Expert, Registry, Service, Skill } from '../core/registry.ts';
import { DEFAULT_MAX_PIXELS, fitPixels, ImageTools, picture } from '../data/image-tools.ts';
import type { DataStore } from '../data/store.ts';
import { type AttemptLog, attemptFields, withAttemptLog, withFetchAttemptLog } from '../models/attempts.ts';
import { type ChatResult, ClientCache, type ModelClient, SendError } from '../models/client.ts';
import { LocalLimiter, type ServiceLimiter } from '../models/limiter.ts';
import { SentImages, sentImageUrls } from './sent-images.ts';

export interface SkillRuntimeOptions {
  registry: Registry;
  store: DataStore;
  clients?: ClientCache;
  /** Caps auxiliary services; expert pools pass a RedisLimiter. Default: in-process only. */
  limiter?: ServiceLimiter;
  tools?: ImageTools;
  /** Model calls one skill run may make (router and solver together). Default 8. */
  maxCalls?: number;
  /** Wall-clock limit of one skill run (ms). Default 300 000. */
  timeoutMs?: number;
  /** Finds implementations by id. Default: skills/index.ts (tests and plug-ins may add their own). */
  implementations?: (id: string) => SkillImplementation | undefined;
}

export interface SkillRunRequest {
  expert: Expert;
  /** Registry skill name, or `direct`. */
  skill: string;
  input: string;
  item: Item;
  images: ImageRef[];
  /** Tracing headers (x-maestro-item, x-maestro-skill, x-maestro-seed). */
  headers: Record<string, string>;
  /** Served model name to send instead of the expert's own. */
  model?: string;
}

export interface SkillRunResult {
  text: string;
  calls: CallTrace[];
  latencyMs: number;
}

/** The calls a failed skill run had sent, by the error it failed with. */
const failedRuns = new WeakMap<object, CallTrace[]>();

/** The calls a skill run sent before it failed with `err` (empty when `err` is not from a run). */
export function callsBeforeFailure(err: unknown): CallTrace[] {
  return (err !== null && typeof err === 'object' && failedRuns.get(err)) || [];
}

/** How deep routers may nest (a router dispatching to a router …). */
const MAX_DEPTH = 3;

/** A cached auxiliary reply. */
interface AuxCacheEntry {
  text: string;
  promptTokens: number;
  completionTokens: number;
  sent: { width: number; height: number };
  original: { width: number; height: number };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The messages of a chat-completions body, for the images they carry. */
function messagesOf(body: Record<string, unknown>): ReadonlyArray<{ content?: unknown }> {
  return Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
}

/** Adds the stored images of a call to its trace entry (none when storing failed). */
async function keepImages(entry: CallTrace, kept: Promise<ImageRef[]> | undefined): Promise<void> {
  const refs = kept ? await kept.catch(() => []) : [];
  if (refs.length) entry.images = refs;
}

/** Resolves with the promise, or rejects when the deadline passes first. */
async function beforeDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  const left = deadline - Date.now();
  const late = () =>
    new RetryableError(`${what}: the skill's time budget ran out`, {
      hint: 'raise the skill timeout (expert pool skillTimeoutMs) or the endpoint capacity',
    });
  if (left <= 0) {
    p.catch(() => {});
    throw late();
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), left);
  });
  p.catch(() => {});
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tokens and output of a raw reply, for the trace (a reply that is not JSON leaves them 0). */
function traceReply(entry: CallTrace, res: { text: string; latencyMs: number }): void {
  entry.latencyMs = res.latencyMs;
  try {
    const body = JSON.parse(res.text) as {
      usage?: { prompt_tokens?: number; completion_tokens?: number };
      choices?: Array<{ message?: { content?: unknown } }>;
    };
    entry.promptTokens = body.usage?.prompt_tokens ?? 0;
    entry.completionTokens = body.usage?.completion_tokens ?? 0;
    const content = body.choices?.[0]?.message?.content;
    if (typeof content === 'string') entry.output = content.slice(0, CALL_OUTPUT_CHARS);
  } catch {
    // The skill reads the reply itself and words the failure.
  }
}

/** The state one skill run shares with the solvers it dispatches to. */
class Run {
  readonly trace: CallTrace[] = [];
  /** Data URLs of the item's stored images, back to their references (for the trace). */
  readonly urlRefs = new Map<string, ImageRef>();
  /** The images the run's calls sent, stored for the trace (derived ones once each). */
  readonly sentImages: SentImages;
  sent = 0;
  private pendingNotes: string[] = [];
  constructor(
    readonly budget: SkillBudget,
    readonly seed: string,
    store: DataStore,
  ) {
    this.sentImages = new SentImages(store, this.urlRefs);
  }

  note(text: string): void {
    this.pendingNotes.push(text);
  }

  /** Starts a trace entry (reserving its place, so parallel calls keep their order). */
  begin(service: string, model: string, note: string): CallTrace {
    const notes = [...this.pendingNotes, note].filter(Boolean);
    this.pendingNotes = [];
    const entry: CallTrace = {
      service,
      model,
      latencyMs: 0,
      promptTokens: 0,
      completionTokens: 0,
      ok: true,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
    this.trace.push(entry);
    return entry;
  }

  callsLeft(): number {
    return Math.max(0, this.budget.maxCalls - this.sent);
  }
}

/**
 * One per process: holds the clients, the image tools (and their caches) and the limiter,
 * and runs skills for expert jobs.
 */
export class SkillRuntime {
  readonly registry: Registry;
  readonly tools: ImageTools;
  readonly clients: ClientCache;
  readonly limiter: ServiceLimiter;
  /** Set when the options gave them; otherwise each skill's default budget, or 8 calls / 300 s. */
  private readonly maxCalls: number | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly implementation: (id: string) => SkillImplementation | undefined;

  constructor(opts: SkillRuntimeOptions) {
    this.registry = opts.registry;
    this.tools = opts.tools ?? new ImageTools(opts.store);
    this.clients = opts.clients ?? new ClientCache();
    this.limiter = opts.limiter ?? new LocalLimiter();
    this.maxCalls = opts.maxCalls;
    this.timeoutMs = opts.timeoutMs;
    this.implementation = opts.implementations ?? getSkillImplementation;
  }

  /** The registry skill and its implementation; PermanentError when either is missing. */
  resolve(skillName: string): { skill: Skill | undefined; impl: SkillImplementation } {
    if (skillName.toLowerCase() === DIRECT_SKILL) {
      const impl = this.implementation(DIRECT_SKILL);
      if (!impl) throw new PermanentError('the built-in direct skill is missing from skills/index.ts');
      return { skill: undefined, impl };
    }
    const skill = this.registry.findSkill(skillName);
    if (!skill) {
      throw new PermanentError(`unknown skill "${skillName}" in this worker's registry`, {
        hint: `registry files: ${this.registry.files.join(', ')}`,
      });
    }
    const impl = this.implementation(skill.implementation);
    if (!impl) {
      throw new PermanentError(
        `skill ${skill.name}: no implementation "${skill.implementation}" in skills/`,
        {
          hint: 'use one of the ids in skills/index.ts, or `generic` for a prompt-only skill',
        },
      );
    }
    return { skill, impl };
  }

  /** Runs one skill call of an expert job. Throws when the skill cannot answer. */
  async run(req: SkillRunRequest): Promise<SkillRunResult> {
    const started = performance.now();
    const { skill, impl } = this.resolve(req.skill);
    const maxCalls = this.maxCalls ?? impl.defaultBudget?.maxCalls ?? 8;
    const timeoutMs = this.timeoutMs ?? impl.defaultBudget?.timeoutMs ?? 300_000;
    const budget: SkillBudget = { maxCalls, timeoutMs, deadline: Date.now() + timeoutMs };
    const run = new Run(budget, req.headers['x-maestro-seed'] ?? '', this.tools.store);
    const client = this.expertClient(req.expert, req.model);
    const ctx = this.context(run, req, client, skill, req.input, req.headers, 0);
    try {
      const out = await impl.run(ctx);
      return { text: out.text, calls: run.trace, latencyMs: performance.now() - started };
    } catch (err) {
      if (err !== null && typeof err === 'object') failedRuns.set(err, run.trace);
      throw err;
    }
  }

  private expertClient(expert: Expert, model: string | undefined): ModelClient {
    return this.clients.get(model ? { ...expert, model } : expert);
  }

  private context(
    run: Run,
    req: SkillRunRequest,
    client: ModelClient,
    skill: Skill | undefined,
    input: string,
    headers: Record<string, string>,
    depth: number,
  ): SkillContext {
    const { registry, tools } = this;
    const expert = req.expert;
    const expertPixels = expert.maxPixels ?? DEFAULT_MAX_PIXELS;
    const ctx: SkillContext = {
      expert,
      client,
      skill,
      input,
      item: req.item,
      images: req.images,
      tools,
      registry,
      budget: run.budget,
      headers,
      trace: run.trace,
      callsLeft: () => run.callsLeft(),
      service: (nameOrRole) => registry.service(nameOrRole),
      expertImages: async () => {
        const urls = await Promise.all(req.images.map((r) => tools.dataUrl(r, expertPixels)));
        urls.forEach((url, i) => {
          const ref = req.images[i];
          if (ref) run.urlRefs.set(url, ref);
        });
        return urls;
      },
      expertImage: (bytes) => tools.encode(bytes, expertPixels),
      note: (text) => run.note(text),
      keepImages: (messages) => run.sentImages.refs(sentImageUrls(messages)),
      record: (entry) => run.trace.push(entry),
      send: (send) => this.send(run, ctx, send),
      ask: (ask) => this.ask(run, ctx, ask),
      aux: (nameOrRole, aux) => this.aux(run, ctx, nameOrRole, aux),
      solve: async (solverName, solverInput) => {
        if (depth + 1 > MAX_DEPTH) throw new PermanentError(`skill routing nested deeper than ${MAX_DEPTH}`);
        const { skill: solver, impl } = this.resolve(solverName);
        const solverHeaders = { ...headers, 'x-maestro-skill': solver?.name ?? solverName };
        const child = this.context(run, req, client, solver, solverInput ?? input, solverHeaders, depth + 1);
        return impl.run(child) as Promise<SkillOutput>;
      },
    };
    return ctx;
  }

  private async ask(run: Run, ctx: SkillContext, req: AskRequest): Promise<ChatResult> {
    if (run.callsLeft() <= 0) {
      throw new PermanentError(
        `skill ${ctx.skill?.name ?? DIRECT_SKILL} exceeded its budget of ${run.budget.maxCalls} model calls`,
      );
    }
    run.sent += 1;
    const entry = run.begin('expert', ctx.client.endpoint.model, req.note);
    const started = performance.now();
    let kept: Promise<ImageRef[]> | undefined;
    const { log, result } = withAttemptLog(async (attempts) => {
      const images = req.images ?? (await ctx.expertImages());
      kept = run.sentImages.refs(images);
      return beforeDeadline(
        ctx.client.chat({
          messages: [{ role: 'system', content: req.system }, imageMessage(images, req.text)],
          temperature: req.temperature ?? ctx.expert.temperature,
          maxTokens: req.maxTokens ?? ctx.expert.maxTokens,
          headers: ctx.headers,
          attempts,
        }),
        run.budget.deadline,
        ctx.expert.name,
      );
    });
    try {
      const res = await result;
      entry.latencyMs = res.latencyMs;
      entry.promptTokens = res.promptTokens;
      entry.completionTokens = res.completionTokens;
      entry.output = res.text.slice(0, CALL_OUTPUT_CHARS);
      return res;
    } catch (err) {
      entry.ok = false;
      entry.latencyMs = performance.now() - started;
      entry.error = errorText(err);
      throw err;
    } finally {
      Object.assign(entry, attemptFields(log));
      await keepImages(entry, kept);
    }
  }

  private async send(
    run: Run,
    ctx: SkillContext,
    req: SendRequest,
  ): Promise<{ text: string; latencyMs: number }> {
    const skillName = ctx.skill?.name ?? DIRECT_SKILL;
    if (run.callsLeft() <= 0) {
      throw new PermanentError(
        `skill ${skillName} exceeded its budget of ${run.budget.maxCalls} model calls`,
        {
          hint: 'raise the expert pool maxCallsPerSkill',
        },
      );
    }
    run.sent += 1;
    const service = req.to === 'expert' ? undefined : req.to;
    const client = service ? this.clients.get(service) : ctx.client;
    const entry = run.begin(service?.name ?? ctx.expert.name, String(req.body.model ?? ''), req.note ?? '');
    const started = performance.now();
    const late = () =>
      new RetryableError(`${skillName}: the skill's time budget (${run.budget.timeoutMs} ms) ran out`, {
        hint: 'raise the skill timeout (expert pool skillTimeoutMs) or the endpoint capacity',
      });
    // The run's deadline aborts the request; the call's own timeout stays the skill's.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, run.budget.deadline - Date.now()));
    let lease: Awaited<ReturnType<ServiceLimiter['acquire']>> | undefined;
    let log: AttemptLog | undefined;
    let kept: Promise<ImageRef[]> | undefined;
    try {
      if (service) {
        lease = await this.limiter.acquire(service.name, service.capacity, { deadline: run.budget.deadline });
      }
      if (abort.signal.aborted) throw late();
      // Stored beside the request, from the same strings: what is sent stays as it is.
      kept = run.sentImages.refs(sentImageUrls(messagesOf(req.body)));
      const sending = withFetchAttemptLog(() =>
        client.send(req.body, {
          timeoutMs: req.timeoutMs,
          maxRetries: req.maxRetries,
          headers: ctx.headers,
          signal: abort.signal,
        }),
      );
      log = sending.log;
      const res = await sending.result;
      traceReply(entry, res);
      return res;
    } catch (err) {
      entry.ok = false;
      entry.latencyMs = performance.now() - started;
      const over = err instanceof SendError && err.failure.kind === 'aborted';
      entry.error = over ? late().message : errorText(err);
      throw over ? late() : err;
    } finally {
      clearTimeout(timer);
      await lease?.release().catch(() => {});
      if (log) Object.assign(entry, attemptFields(log));
      await keepImages(entry, kept);
    }
  }

  private async aux(run: Run, ctx: SkillContext, nameOrRole: string, req: AuxRequest): Promise<AuxResult> {
    const service = this.registry.service(nameOrRole);
    const fail = (error: string, svc: Service | undefined): AuxResult => {
      if (req.required) {
        throw new RetryableError(`${req.note}: ${error}`, {
          hint: `skill ${ctx.skill?.name ?? ''} cannot answer without ${nameOrRole}`,
        });
      }
      return { ok: false, error, service: svc };
    };
    if (!service) {
      run.note(`${req.note}: skipped, the registry has no "${nameOrRole}" service`);
      return fail(`no "${nameOrRole}" service in the registry`, undefined);
    }

    if (run.callsLeft() <= 0) {
      run.note(`${req.note}: skipped, call budget used up`);
      return fail('call budget used up', service);
    }
    // Reserve the call and its trace entry before any await, so calls started together
    // are traced in the order the skill started them.
    run.sent += 1;
    const entry = run.begin(service.name, service.model, req.note);
    if ('ref' in req.image) entry.images = [req.image.ref];

    // The image and what the service will see.
    let bytes: Buffer;
    let hash: string;
    let ref: ImageRef | undefined;
    try {
      if ('ref' in req.image) {
        ref = req.image.ref;
        bytes = await this.tools.store.readImage(ref);
        hash = ref.sha256;
      } else {
        bytes = req.image.bytes;
        hash = sha256(bytes);
      }
    } catch (err) {
      entry.ok = false;
      entry.error = `image unavailable: ${errorText(err)}`;
      return fail(entry.error, service);
    }
    const maxPixels = service.maxPixels ?? DEFAULT_MAX_PIXELS;
    const key = sha256(
      stableStringify([
        hash,
        maxPixels,
        service.name,
        service.model,
        service.temperature,
        req.prompt,
        run.seed,
      ]),
    );
    const hit = this.tools.cachedAux<AuxCacheEntry>(key);
    if (hit) {
      // No request sent: the call does not count against the budget. It stays in the trace
      // with the original tokens so per-item accounting does not depend on which process
      // ran the item first; latency 0 and the note tell it apart.
      run.sent -= 1;
      entry.note = `${entry.note ?? req.note} (cache hit)`;
      entry.cached = true;
      entry.promptTokens = hit.promptTokens;
      entry.completionTokens = hit.completionTokens;
      entry.output = hit.text.slice(0, CALL_OUTPUT_CHARS);
      return { ok: true, text: hit.text, service, cached: true, sent: hit.sent, original: hit.original };
    }
    const started = performance.now();
    let kept: Promise<ImageRef[]> | undefined;
    let attempts: AttemptLog | undefined;
    try {
      const original = await picture(bytes);
      const fitted = await fitPixels(bytes, maxPixels);
      const url = ref ? await this.tools.dataUrl(ref, maxPixels) : await this.tools.encode(bytes, maxPixels);
      // A derived image (crop, drawn boxes) is stored as sent; a stored one is already known.
      if (!ref) kept = run.sentImages.refs([url]);
      const client = this.clients.get(service);
      // An auxiliary call may use at most half of the time left, so the skill keeps time
      // to answer without it.
      const auxDeadline = Date.now() + Math.max(0, run.budget.deadline - Date.now()) / 2;
      const lease = await this.limiter.acquire(service.name, service.capacity, { deadline: auxDeadline });
      const { log, result: call } = withAttemptLog((attempts) =>
        client.chat({
          messages: [imageMessage([url], req.prompt)],
          temperature: service.temperature,
          maxTokens: service.maxTokens,
          headers: ctx.headers,
          attempts,
        }),
      );
      attempts = log;
      // The slot is held until the request is really over, even if the skill stops waiting.
      const release = () => lease.release().catch(() => {});
      call.then(release, release);
      const res = await beforeDeadline(call, auxDeadline, service.name);
      await keepImages(entry, kept);
      if (attempts) Object.assign(entry, attemptFields(attempts));
      entry.latencyMs = res.latencyMs;
      entry.promptTokens = res.promptTokens;
      entry.completionTokens = res.completionTokens;
      entry.output = res.text.slice(0, CALL_OUTPUT_CHARS);
      const value: AuxCacheEntry = {
        text: res.text,
        promptTokens: res.promptTokens,
        completionTokens: res.completionTokens,
        sent: { width: fitted.width, height: fitted.height },
        original: { width: original.width, height: original.height },
      };
      this.tools.rememberAux(key, value);
      return { ok: true, text: res.text, service, cached: false, sent: value.sent, original: value.original };
    } catch (err) {
      entry.ok = false;
      entry.latencyMs = performance.now() - started;
      entry.error = errorText(err);
      entry.note = `${entry.note ?? req.note}; ${service.role} failed${req.required ? '' : ', continuing without it'}`;
      if (attempts) Object.assign(entry, attemptFields(attempts));
      await keepImages(entry, kept);
      return fail(errorText(err), service);
    }
  }
}
