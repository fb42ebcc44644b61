import { questionWithOptions } from '../../skills/index.ts';
import { hashUnit } from '../core/hash.ts';
import type { Action, Item } from '../core/items.ts';
import type { Policy as PolicyEndpoint, Registry } from '../core/registry.ts';
import { loadReleaseNames, type ReleaseNames } from '../core/release-names.ts';
import type { PolicySpec } from '../core/sweep.ts';
import type { ModelClient } from '../models/client.ts';
import { parseReleaseSearch, releaseActionText } from '../rollout/release-names.ts';
import { releaseAction, releaseKeep } from '../rollout/release-turn.ts';
import { buildSystemPrompt } from './prompt.ts';
import {
  continuation,
  keptText,
  releaseMessages,
  userContent,
  VERBATIM_CHAT_TEMPLATE,
} from './release-render.ts';

import type { Policy, PolicyContext, PolicyDecision, PolicyDeps } from './types.ts';

/**
 * The Maestro policy under the `release` profile: sampled as the release evaluates it
 * (temperature 1.0, top-p 1.0, up to 8,192 tokens a step, no stop strings), its context
 * continued as raw text the way the release's agent loop continues its token stream.
 */
export const RELEASE_SAMPLING = { temperature: 1.0, topP: 1.0, maxTokens: 8_192 } as const;

/** The user turn when the item carries no prompt of its own. */
export function releaseUserText(item: Item, suffix: string): string {
  return `${'<image>'.repeat(item.images.length)}${questionWithOptions(item)}${suffix}`;
}

/** The project's own planning instruction, used when no release prompt is given. */
const OWN_SUFFIX =
  '\n\nDecide which model and skill suit this question; do not solve it yourself. Keep the thinking short.';

export function releasePolicy(
  spec: PolicySpec,
  registry: Registry,
  endpoint: PolicyEndpoint,
  deps: PolicyDeps,
): Policy {
  const names = loadReleaseNames();
  const texts = (item: Item) => releaseTexts(item, registry, deps);
  // The release skills' prompt texts: the checkout this process reads (its commit when known).
  const releaseSkills = registry.skills.some((s) => s.implementation.startsWith('release:'));
  const checkout = releaseSkills ? registry.releaseSources().checkout : undefined;
  const skillTexts: Record<string, string> = checkout
    ? { skillTexts: checkout.commit ? `${checkout.path} @ ${checkout.commit.commit}` : checkout.path }
    : {};
  return {
    profile: 'release',
    async decide(ctx) {
      const client = ctx.clients.get(endpoint);
      const { system, user, source, commit } = await texts(ctx.item);
      const cont = await continuation(ctx.steps, client);
      const res = await client.chat({
        messages: releaseMessages(system, userContent(user, await ctx.images()), cont),
        temperature: spec.temperature ?? RELEASE_SAMPLING.temperature,
        topP: spec.topP ?? RELEASE_SAMPLING.topP,
        maxTokens: spec.maxTokens ?? RELEASE_SAMPLING.maxTokens,
        // A seed per rollout and step: a thrown-away step is sampled anew, not repeated.
        seed: Math.floor(hashUnit('release-step', ctx.seed, ctx.rolloutId, ctx.turn) * 2 ** 31),
        headers: ctx.headers,
        chatTemplate: VERBATIM_CHAT_TEMPLATE,
        ...(cont
          ? { continueFinalMessage: true, addGenerationPrompt: false }
          : { addGenerationPrompt: true }),
      });
      const base = {
        latencyMs: res.latencyMs,
        promptTokens: res.promptTokens,
        completionTokens: res.completionTokens,
        meta: { prompt: source, ...(commit ? { promptCommit: commit } : {}), ...skillTexts },
      };
      return turn(ctx, client, res.text, res.finishReason === 'stop', base, names);
    },
  };
}

type Base = Pick<PolicyDecision, 'latencyMs' | 'promptTokens' | 'completionTokens' | 'meta'>;

/** Applies the loop's rules to one generation: what is kept, and what the step does. */
async function turn(
  ctx: PolicyContext,
  client: ModelClient,
  generation: string,
  stopped: boolean,
  base: Base,
  names: ReleaseNames,
): Promise<PolicyDecision> {
  const keep = releaseKeep(ctx.turn, generation);
  if (keep.kind === 'resample') {
    return {
      ...base,
      text: generation,
      action: { type: 'invalid', reason: 'thrown away' },
      turn: 'resample',
    };
  }
  const { kept, extracted } = await keptText(keep, ctx.turn, generation, stopped, client);
  const next = releaseAction(extracted, kept);
  if (next.kind === 'stop')
    return { ...base, text: kept, action: { type: 'invalid', reason: 'stop' }, turn: 'stop' };
  let action: Action;
  if (next.kind === 'answer') action = { type: 'answer', answer: next.answer };
  else {
    const call = parseReleaseSearch(releaseActionText(kept) ?? '', names);
    if (call.kind === 'call')
      action = { type: 'search', model: call.model, skill: call.skill, input: call.input };
    else action = { type: 'invalid', reason: call.kind === 'no-search' ? '' : call.observation };
  }
  return { ...base, text: kept, action };
}

/** The prompt texts of an item: its own prompt, the user's release data, or the project's own texts. */
export async function releaseTexts(
  item: Item,
  registry: Registry,
  deps: PolicyDeps,
): Promise<{ system: string; user: string; source: string; commit?: string }> {
  const own = item.prompt?.length ? undefined : await deps.releasePrompt?.();
  const system =
    item.prompt?.find((m) => m.role === 'system')?.content ?? own?.system ?? buildSystemPrompt(registry);
  const user =
    item.prompt?.find((m) => m.role === 'user')?.content ??
    releaseUserText(item, own?.userSuffix ?? OWN_SUFFIX);
  if (item.prompt?.length) return { system, user, source: 'item' };
  if (!own) return { system, user, source: 'project' };
  return { system, user, source: own.source, ...(own.commit ? { commit: own.commit } : {}) };
}
