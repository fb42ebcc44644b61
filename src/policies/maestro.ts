import { POLICY_STOP, parseTurn, restoreStopSequence } from '../core/protocol.ts';
import { buildConversation } from './prompt.ts';
import { releasePolicy } from './release.ts';
import type { PolicyDefinition } from './types.ts';

/**
 * The Maestro policy (and, with any chat model behind the endpoint, the zero-shot
 * LLM-as-router baseline): an OpenAI-compatible chat endpoint that speaks the protocol.
 */
export const maestroPolicy: PolicyDefinition = {
  kind: 'maestro',
  description: 'a chat endpoint speaking the Maestro protocol (RL policy or zero-shot LLM router)',
  usesEndpoint: true,
  create(spec, registry, deps) {
    const endpoint = registry.policy(spec.endpoint ?? 'maestro');
    if ((spec.profile ?? endpoint.profile) === 'release')
      return releasePolicy(spec, registry, endpoint, deps);
    return {
      async decide(ctx) {
        const client = ctx.clients.get(endpoint);
        const messages = buildConversation(ctx.registry, ctx.item, await ctx.images(), ctx.steps);
        const res = await client.chat({
          messages,
          temperature: spec.temperature ?? endpoint.temperature,
          topP: spec.topP ?? endpoint.topP,
          maxTokens: spec.maxTokens ?? endpoint.maxTokens,
          stop: POLICY_STOP,
          seed: ctx.seed,
          headers: ctx.headers,
        });
        const text = restoreStopSequence(res.text);
        return {
          text,
          action: parseTurn(text).action,
          latencyMs: res.latencyMs,
          promptTokens: res.promptTokens,
          completionTokens: res.completionTokens,
        };
      },
    };
  },
};
