/**
 * The `release` profile against golden trajectories derived from the release's agent loop
 * (verl_tool/agent_loop/verltool_agent_loop.py, `run`): each case scripts the policy's raw
 * generations and the skills' outputs, and states the stream the loop would have built and
 * how the trajectory ends. Tokens are a reversible character-level tokenizer (one code
 * point a token, `<|im_end|>`-style specials one token each), so token counts are exact.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.ts';
import type { ExpertJobResult, RolloutState } from '../../src/core/jobs.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { parsePolicyKey } from '../../src/core/sweep.ts';
import { loadReleasePrompt } from '../../src/importers/release-prompt.ts';
import type { ChatRequest } from '../../src/models/client.ts';
import { contextFor, createPolicy } from '../../src/policies/index.ts';
import { releaseUserText } from '../../src/policies/release.ts';
import { continuation, type Tokenizer } from '../../src/policies/release-render.ts';
import {
  type ChildResult,
  drive,
  initialState,
  namesFromRegistry,
  type RolloutIO,
  releaseProfile,
} from '../../src/rollout/index.ts';

const SPECIALS = ['<|im_start|>', '<|im_end|>', '<|endoftext|>'];
const charTokenizer: Tokenizer = {
  async tokenize(text) {
    const ids: number[] = [];
    for (let i = 0; i < text.length; ) {
      const special = SPECIALS.findIndex((s) => text.startsWith(s, i));
      if (special >= 0) {
        ids.push(0x110000 + special);
        i += SPECIALS[special]!.length;
      } else {
        const cp = text.codePointAt(i)!;
        ids.push(cp);
        i += cp > 0xffff ? 2 : 1;
      }
    }
    return ids;
  },
  async detokenize(ids) {
    return ids.map((id) => (id >= 0x110000 ? SPECIALS[id - 0x110000]! : String.fromCodePoint(id))).join('');
  },
};

const registry = loadRegistry(['registry/simulated.yaml'], {});
const expert = registry.offeredExperts()[0]!.name;
const skill = registry.offeredSkills()[0]!.name;
const item: Item = {
  id: 'c1',
  benchmark: 'chartqa',
  question: 'What is the value of Pears?',
  images: [],
  answers: ['47'],
  answerType: 'number',
  extra: {},
};

type Gen = string | { text: string; stopped: boolean };

/** Runs one rollout: scripted generations for the policy, scripted skill outputs. */
async function rollout(gens: Gen[], outputs: Array<string | Error> = []) {
  const requests: ChatRequest[] = [];
  const client = {
    ...charTokenizer,
    async chat(req: ChatRequest) {
      requests.push(req);
      const g = gens.shift();
      if (g === undefined) throw new Error('script ran out of generations');
      const { text, stopped } = typeof g === 'string' ? { text: g, stopped: true } : g;
      return {
        text,
        finishReason: stopped ? 'stop' : 'length',
        promptTokens: 1,
        completionTokens: 1,
        latencyMs: 1,
      };
    },
  };
  const policy = createPolicy(parsePolicyKey('maestro{profile: release}'), registry);
  const context = contextFor({
    spec: parsePolicyKey('maestro{profile: release}'),
    registry,
    item,
    domain: 'chart',
    seed: 0,
    sweepId: 's',
    rolloutId: 'r',
    images: async () => [],
    clients: { get: () => client } as never,
  });
  const calls: string[] = [];
  const io: RolloutIO = {
    save: async () => {},
    decide: async (state) => ({ type: 'policy-reply', reply: await policy.decide(context(state)) }),
    call: async (_s, cs) => ({
      type: 'children',
      results: cs.map((c): ChildResult => {
        calls.push(`${c.expert}@@${c.skill}: ${c.input}`);
        const out = outputs.shift() ?? 'no output scripted';
        if (out instanceof Error) return { kind: 'failed', reason: out.message };
        const value: ExpertJobResult = { text: out, calls: [], latencyMs: 1 };
        return { kind: 'expert', out: value };
      }),
    }),
    resolve: async () => {
      throw new Error('not expected');
    },
    score: async () => ({
      type: 'children',
      results: [{ kind: 'scored', result: { status: 'answered', correct: true, score: 1 } }],
    }),
    finish: async () => {},
  };
  let last: RolloutState | undefined;
  const cfg = { profile: releaseProfile({ maxTurns: 4 }), names: namesFromRegistry(registry, 'direct') };
  const spy: RolloutIO = {
    ...io,
    score: async (s) => {
      last = s;
      return io.score(s);
    },
  };
  await drive(initialState(), { type: 'activate', now: 0 }, cfg, spy);
  const state = last!;
  return { state, requests, calls, stream: await continuation(state.steps, charTokenizer) };
}

const call = (input = 'What is the value of Pears?') => `<search> ${expert}@@${skill}: ${input} </search>`;
const info = (obs: string) => `<|im_start|>user<information>${obs}</information><|im_end|>`;
const E = '<|im_end|>';

describe('release profile: golden trajectories from the agent loop', () => {
  it('1. search at step 0, answer at step 1', async () => {
    const r = await rollout([`<think>a chart</think>\n${call()}`, '<answer> 47 </answer>'], ['It is 47.']);
    expect(r.stream).toBe(
      `<think>a chart</think>\n${call()}${E}${info('It is 47.')}<answer> 47 </answer>${E}`,
    );
    expect(r.state).toMatchObject({ status: 'answered' });
    expect(r.calls).toEqual([`${expert}@@${skill}: What is the value of Pears?`]);
    // First request: generation prompt; then the continuation, continued as it is.
    expect(r.requests[0]).toMatchObject({
      addGenerationPrompt: true,
      temperature: 1,
      topP: 1,
      maxTokens: 8192,
    });
    expect(r.requests[0]?.stop).toBeUndefined();
    expect(r.requests[1]).toMatchObject({ continueFinalMessage: true, addGenerationPrompt: false });
    expect(r.requests[1]?.messages.at(-1)).toEqual({
      role: 'assistant',
      content: `<think>a chart</think>\n${call()}${E}${info('It is 47.')}`,
    });
  });

  it('2. step 0 keeps only the last 200 tokens of the reasoning before <search>', async () => {
    const reasoning = `${'x'.repeat(150)}${'y'.repeat(200)}`;
    const r = await rollout([`${reasoning}${call()}`, '<answer> 47 </answer>'], ['ok']);
    expect(r.stream.startsWith(`${'y'.repeat(200)}${call()}${E}`)).toBe(true);
  });

  it('3. step 0 drops text after the last </search>, keeps every block from the first <search>', async () => {
    const two = `${call('first')} and ${call('second')}`;
    const r = await rollout([`t ${two} trailing words`, '<answer> 47 </answer>'], ['ok']);
    expect(r.stream.startsWith(`t ${two}${E}`)).toBe(true);
    // The call is the first block.
    expect(r.calls).toEqual([`${expert}@@${skill}: first`]);
  });

  it('4. step 0 without a complete search block is thrown away and its step used up', async () => {
    const r = await rollout(['<think>hmm', `<answer>x</answer>`, call(), '<answer> 47 </answer>'], ['ok']);
    // Step 0 and step 1 (neither search nor answer at step 1 is a throw-away too; here step 1 answers)
    expect(r.state.steps.map((s) => s.resampled ?? false)).toEqual([true, false]);
    expect(r.state.status).toBe('answered');
    expect(r.stream).toBe(`<answer>x</answer>${E}`);
    expect(r.requests[1]).toMatchObject({ addGenerationPrompt: true });
  });

  it('5. step 1 with neither tag is thrown away; step 2 with no tag ends the trajectory', async () => {
    const r = await rollout([call(), 'I need to think more', 'the answer is probably 47'], ['obs']);
    expect(r.state.steps.map((s) => s.resampled ?? false)).toEqual([false, true, false]);
    expect(r.state.status).toBe('no_answer');
    expect(r.stream).toBe(`${call()}${E}${info('obs')}the answer is probably 47${E}`);
  });

  it("6. step 1 keeps as many of the generation's last tokens as the block has (the loop's tail rule)", async () => {
    const block = call('zoom');
    const gen = `<think>more</think>${block}\nok`;
    const r = await rollout([call(), gen, '<answer> 47 </answer>'], ['a', 'b']);
    // block + end-of-turn is n tokens: the last n-1 generated tokens, then the end of turn.
    // Text after the block shifts that window: the kept text is not the block, and as it no
    // longer holds "<search>", the loop runs no call and the trajectory ends there.
    const kept = `${gen.slice(-block.length)}${E}`;
    expect(kept.includes('<search>')).toBe(false);
    expect(r.state.steps[1]?.policyText).toBe(kept);
    expect(r.calls).toHaveLength(1);
    expect(r.state.status).toBe('no_answer');
    expect(r.stream).toBe(`${call()}${E}${info('a')}${kept}`);
  });

  it('6b. step 1 ending with its block keeps exactly the block', async () => {
    const r = await rollout(
      [call(), `<think>more</think>${call('zoom')}`, '<answer> 47 </answer>'],
      ['a', 'b'],
    );
    expect(r.state.steps[1]?.policyText).toBe(`${call('zoom')}${E}`);
    expect(r.calls).toHaveLength(2);
    expect(r.stream).toBe(
      `${call()}${E}${info('a')}${call('zoom')}${E}${info('b')}<answer> 47 </answer>${E}`,
    );
  });

  it('7. steps 2+ prefer the answer block; reasoning before </think> is not searched', async () => {
    const r = await rollout(
      [call(), call('again'), `<think><search> x </search></think><answer> 47 </answer>`],
      ['one', 'two'],
    );
    expect(r.state.status).toBe('answered');
    expect(r.calls).toHaveLength(2);
    expect(r.state.steps[2]?.policyText).toBe(`<answer> 47 </answer>${E}`);
  });

  it('8. the turn limit: four calls at most, a search at the last step is not run', async () => {
    const r = await rollout([call('a'), call('b'), call('c'), call('d'), call('e')], ['1', '2', '3', '4']);
    expect(r.calls).toHaveLength(4);
    expect(r.state.steps).toHaveLength(5);
    expect(r.state.status).toBe('no_answer');
    expect(r.stream.endsWith(`${info('4')}${call('e')}${E}`)).toBe(true);
  });

  it('9. name errors and failed calls are observations; the rollout goes on', async () => {
    const r = await rollout(
      [
        `<search> nobody@@${skill}: q </search>`,
        `<search> ${expert}@@nothing: q </search>`,
        call(),
        '<answer> 1 </answer>',
      ],
      [new Error('HTTP 500')],
    );
    expect(r.state.steps.map((s) => s.observation)).toEqual([
      'Model Name Error',
      'Skill Name Error',
      'Skill execution error: HTTP 500',
      undefined,
    ]);
    expect(r.state.status).toBe('answered');
  });

  it("10. a malformed call is the loop's format error, still an observation", async () => {
    const r = await rollout(['<search> just a question </search>', '<answer> 1 </answer>']);
    expect(r.state.steps[0]?.observation).toBe('Format Error: Invalid skill call format');
    expect(r.stream).toBe(
      `<search> just a question </search>${E}${info('Format Error: Invalid skill call format')}<answer> 1 </answer>${E}`,
    );
  });

  it('11. an observation is the last 1,000 characters of the skill output', async () => {
    const out = `${'a'.repeat(500)}${'b'.repeat(1000)}`;
    const r = await rollout([call(), '<answer> 1 </answer>'], [out]);
    expect(r.state.steps[0]?.observation).toBe('b'.repeat(1000));
  });

  it('12. an observation block over 1,024 tokens loses its start (left truncation)', async () => {
    const out = 'é'.repeat(1000);
    const r = await rollout([call(), '<answer> 1 </answer>'], [out]);
    const block = info(out);
    const ids = await charTokenizer.tokenize(block);
    expect(ids.length).toBeGreaterThan(1024);
    const expected = `<|im_start|>user<information>${await charTokenizer.detokenize(ids.slice(-1024))}`;
    expect(r.stream).toBe(`${call()}${E}${expected}<answer> 1 </answer>${E}`);
  });

  it('13. a generation cut by the length limit keeps no end-of-turn token', async () => {
    const r = await rollout([call(), call('b'), { text: 'still thinking and', stopped: false }], ['x', 'y']);
    expect(r.state.status).toBe('no_answer');
    expect(r.stream.endsWith(`${info('y')}still thinking and`)).toBe(true);
  });

  it('14. an answer inside step 0 is not taken: step 0 must search', async () => {
    const r = await rollout(['<answer> 47 </answer>', call(), '<answer> 47 </answer>'], ['x']);
    expect(r.state.steps[0]?.resampled).toBe(true);
    expect(r.calls).toHaveLength(1);
  });
});

describe("release prompt from the user's copy of the release data", () => {
  const parquet = resolve(
    import.meta.dirname,
    '../../../shared/data/upstream-maestro/val_data_example.parquet',
  );
  const shared = (p: string) => (existsSync(p) ? p : p.replace(/^.*\/shared\//, '/work/shared/'));

  it('reads the system prompt and the user template; an item rendered with it is the row itself', async () => {
    const { readParquet } = await import('../../src/importers/parquet.ts');
    const file = shared(parquet);
    const prompt = await loadReleasePrompt(file);
    const row = (await readParquet(file, 'row')).rows[0] as {
      prompt: Array<{ content: unknown }>;
      extra_info: { question: unknown };
    };
    const text = (v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));
    expect(prompt.system).toBe(text(row.prompt[0]?.content));
    const question = text(row.extra_info.question);
    expect(question.startsWith('<image>')).toBe(true);
    const asItem: Item = {
      ...item,
      question: question.slice('<image>'.length),
      images: [{ sha256: 'a'.repeat(64), ext: 'jpg' } as never],
    };
    expect(releaseUserText(asItem, prompt.userSuffix)).toBe(text(row.prompt[1]?.content));
  });

  it('carries the release commit of the data into the texts a policy records', async () => {
    const prompt = await loadReleasePrompt(shared(parquet));
    expect(prompt.commit).toBe('5b8257c94a060fb0134acaf5f5853480ff0695ce');
    const { releaseTexts } = await import('../../src/policies/release.ts');
    const { Registry } = await import('../../src/core/registry.ts');
    const registry = new Registry({
      experts: [],
      services: [],
      skills: [],
      policies: [],
      maxTurns: 4,
      observationChars: 1000,
      files: [],
    });
    const texts = await releaseTexts(item, registry, { releasePrompt: async () => prompt });
    expect(texts).toMatchObject({ source: prompt.source, commit: prompt.commit });
    expect((await releaseTexts(item, registry, {})).commit).toBeUndefined();
  });

  it('names the file when it has no prompt rows', async () => {
    await expect(
      loadReleasePrompt(resolve(import.meta.dirname, '../../benchmarks/catalog.yaml')),
    ).rejects.toThrow(/catalog\.yaml/);
  });
});

describe('the rendered policy input', () => {
  it('is the verbatim chat template: prompt with a generation header, then the continuation without an end of turn', async () => {
    const { renderedText, releaseMessages, userContent } = await import(
      '../../src/policies/release-render.ts'
    );
    const first = releaseMessages('SYS', userContent('<image>Q?\n\nPlan.', ['data:image/png;base64,AA']), '');
    expect(renderedText(first)).toBe(
      '<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Q?\n\nPlan.<|im_end|>\n<|im_start|>assistant\n',
    );
    const later = releaseMessages('SYS', userContent('Q?', []), `${call()}${E}${info('x')}`);
    expect(renderedText(later)).toBe(
      `<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n${call()}${E}${info('x')}`,
    );
  });
});
