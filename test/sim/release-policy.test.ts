import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimContext } from '../../src/sim/context.ts';
import { policyReply } from '../../src/sim/policy.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';
import { detokenize, tokenize } from '../../src/sim/tokenizer.ts';
import {
  CHART_ITEMS,
  chartItem,
  itemHeaders,
  makeDataDir,
  policyPrompt,
  testCatalog,
  testRegistry,
} from './fixtures.ts';

let data: Awaited<ReturnType<typeof makeDataDir>>;
let sim: SimServer;
const seen: SimContext[] = [];

beforeAll(async () => {
  data = await makeDataDir();
  sim = await startSimServer({
    registry: testRegistry(),
    catalog: testCatalog(),
    dataDir: data.dir,
    latencyScale: 0,
    observe: (kind, ctx) => {
      if (kind === 'policy') seen.push(ctx);
    },
  });
});

afterAll(async () => {
  await sim?.close();
  await data?.cleanup();
});

const TEMPLATE = '{%- for m in messages %}{{ m.content }}{%- endfor %}';
const SYSTEM = policyPrompt(['Alpha', 'Beta-1.5', 'Gamma'], ['Chart_Solver', 'Count_Solver', 'Look_Closer']);

interface Reply {
  status: number;
  text: string;
  finish: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  error: string;
}

async function post(path: string, body: object, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${sim.url}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as {
    choices?: Array<{ message: { content: string }; finish_reason: string }>;
    usage?: Reply['usage'];
    error?: { message: string };
  };
  return {
    status: res.status,
    text: json.choices?.[0]?.message.content ?? '',
    finish: json.choices?.[0]?.finish_reason ?? '',
    usage: json.usage ?? { prompt_tokens: 0, completion_tokens: 0 },
    error: json.error?.message ?? '',
  };
}

/** One release-profile step for chart item i: the first step when `continuation` is ''. */
function step(i: number, seed: number, continuation = '', sampleSeed = seed, extra: object = {}) {
  const messages: Array<{ role: string; content: string }> = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: chartItem(i).question },
  ];
  const flags = continuation
    ? { continue_final_message: true, add_generation_prompt: false }
    : { add_generation_prompt: true };
  if (continuation) messages.push({ role: 'assistant', content: continuation });
  return post(
    'maestro/v1/chat/completions',
    { model: 'maestro-sim', messages, seed: sampleSeed, chat_template: TEMPLATE, ...flags, ...extra },
    itemHeaders('charts', `c${i}`, 'policy', seed),
  );
}

const SEARCH = /<search>([\s\S]*?)<\/search>/;
const wellFormed = (text: string) => SEARCH.test(text);
const observation = (text: string) => `<|im_start|>user<information>${text}</information><|im_end|>`;
/** What the release's loop keeps of a well-formed first step: up to its search block, then <|im_end|>. */
const kept = (text: string) => `${text.slice(0, text.indexOf('</search>') + '</search>'.length)}<|im_end|>`;

describe('release profile: first step', () => {
  it('routes like the chat policy and ends as at end-of-sequence', async () => {
    const r = await step(0, 1);
    const good = wellFormed(r.text) ? r : await step(0, 1, '', 1001);
    expect(good.status).toBe(200);
    expect(good.finish).toBe('stop');
    expect(good.text).toMatch(
      /^<think> [^<]+ <\/think>\n\n<search> Beta-1\.5@@Chart_Solver: Which bar is tallest in chart 0\? <\/search>$/,
    );
    expect(good.text).not.toContain('<|im_end|>');
  });

  it('is malformed for about 15% of items, with no complete search block', async () => {
    const replies = await Promise.all(Array.from({ length: CHART_ITEMS }, (_, i) => step(i, 3)));
    const bad = replies.filter((r) => !wellFormed(r.text));
    expect(bad.length / CHART_ITEMS).toBeGreaterThan(0.08);
    expect(bad.length / CHART_ITEMS).toBeLessThan(0.22);
    for (const r of bad) {
      expect(r.status).toBe(200);
      expect(r.finish).toBe('stop');
      expect(r.text.startsWith('<think>')).toBe(true);
      expect(r.text).not.toContain('<|im_end|>');
    }
    // All three malformed shapes occur: a run-on think, an answer without a call, an unclosed search.
    expect(bad.some((r) => !r.text.includes('</think>'))).toBe(true);
    expect(bad.some((r) => r.text.includes('<answer>'))).toBe(true);
    expect(bad.some((r) => r.text.includes('<search>'))).toBe(true);
  });

  it('resamples to a malformed first step for some rollout seeds of an item and not others', async () => {
    const replies = await Promise.all(Array.from({ length: 80 }, (_, seed) => step(7, seed)));
    const bad = replies.filter((r) => !wellFormed(r.text)).length;
    expect(bad).toBeGreaterThan(0);
    expect(bad).toBeLessThan(80);
  });

  it('repeats a step for the same sampling seed and draws anew for another', async () => {
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => step(i, 5)));
    const i = replies.findIndex((r) => !wellFormed(r.text));
    expect(i).toBeGreaterThanOrEqual(0);
    expect((await step(i, 5)).text).toBe(replies[i]?.text);
    const resampled = await Promise.all(Array.from({ length: 20 }, (_, k) => step(i, 5, '', 100 + k)));
    expect(resampled.some((r) => wellFormed(r.text))).toBe(true);
  });
});

describe('release profile: after an observation', () => {
  async function firstSearch(i: number, seed: number): Promise<string> {
    for (let s = 0; s < 50; s += 1) {
      const r = await step(i, seed, '', seed * 1000 + s);
      if (wellFormed(r.text)) return kept(r.text);
    }
    throw new Error('no well-formed first step in 50 draws');
  }

  it('answers with the stated answer, sometimes after </think>, or now and then searches again', async () => {
    const items = Array.from({ length: 120 }, (_, i) => i);
    const replies = await Promise.all(
      items.map(async (i) => {
        const cont = (await firstSearch(i, 2)) + observation(`Looking at the bars... The answer is D.`);
        return step(i, 2, cont);
      }),
    );
    const answers = replies.filter((r) => r.text.includes('<answer>'));
    const searches = replies.filter((r) => wellFormed(r.text));
    expect(answers.length + searches.length).toBe(items.length);
    for (const r of answers) {
      expect(r.text).toMatch(/^(<think> [^<]+ <\/think>\n\n)?<answer> D <\/answer>$/);
      expect(r.finish).toBe('stop');
    }
    expect(answers.some((r) => r.text.includes('</think>'))).toBe(true);
    expect(answers.some((r) => !r.text.includes('</think>'))).toBe(true);
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.length / items.length).toBeLessThan(0.2);
  });

  it('always answers after two observations, guessing when none states an answer', async () => {
    const cont =
      (await firstSearch(4, 9)) +
      observation('The answer is B.') +
      '<search> Gamma@@Look_Closer: Which bar is tallest in chart 4? </search><|im_end|>' +
      observation('I cannot tell from this image.');
    const r = await step(4, 9, cont);
    expect(r.text).toMatch(/<answer> A <\/answer>$/);
  });

  it('calls the best pair again after a failed call', async () => {
    const cont = (await firstSearch(5, 1)) + observation('Error: unknown model "Delta".');
    const r = await step(5, 1, cont);
    expect(r.text).toMatch(/<search> Beta-1\.5@@Chart_Solver: Which bar is tallest in chart 5\? <\/search>$/);
  });

  it('is deterministic', async () => {
    const cont = (await firstSearch(11, 4)) + observation('The answer is C.');
    const a = await step(11, 4, cont);
    const b = await step(11, 4, cont);
    expect(a.text).toBe(b.text);
    expect(a.text).toContain('<answer> C </answer>');
  });

  it('counts usage and max_tokens with its own tokenizer', async () => {
    const cont = (await firstSearch(12, 4)) + observation('The answer is C.');
    const full = await step(12, 4, cont);
    expect(full.usage.completion_tokens).toBe(tokenize(full.text).length);
    const cut = await step(12, 4, cont, 4, { max_tokens: 5 });
    expect(cut.finish).toBe('length');
    expect(cut.text).toBe(detokenize(tokenize(full.text).slice(0, 5)));
    expect(cut.usage.completion_tokens).toBe(5);
  });
});

describe('release profile: request checks', () => {
  const messages = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: 'q' },
  ];
  const chat = (body: object) =>
    post(
      'maestro/v1/chat/completions',
      { model: 'maestro-sim', messages, ...body },
      itemHeaders('charts', 'c0'),
    );

  it('refuses the flag combinations vLLM refuses, and wrong types', async () => {
    const both = await chat({ continue_final_message: true, add_generation_prompt: true });
    expect(both.status).toBe(400);
    expect(both.error).toContain('Cannot set both `continue_final_message` and `add_generation_prompt`');
    expect((await chat({ continue_final_message: true, add_generation_prompt: false })).status).toBe(400);
    const afterAssistant = await post(
      'maestro/v1/chat/completions',
      {
        model: 'maestro-sim',
        messages: [...messages, { role: 'assistant', content: 'x' }],
        add_generation_prompt: true,
      },
      itemHeaders('charts', 'c0'),
    );
    expect(afterAssistant.status).toBe(400);
    expect((await chat({ chat_template: 42 })).status).toBe(400);
    expect((await chat({ continue_final_message: 'yes' })).status).toBe(400);
    expect((await chat({ add_generation_prompt: true, chat_template: TEMPLATE })).status).toBe(200);
    expect((await chat({ add_generation_prompt: false })).status).toBe(200);
  });
});

describe('chat mode is unaffected', () => {
  it('answers exactly as the chat policy when no template is sent, or no template flag', async () => {
    const registry = testRegistry();
    const policy = registry.policy('maestro');
    const messages = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: chartItem(3).question },
    ];
    const bodies = [
      { model: 'maestro-sim', messages },
      { model: 'maestro-sim', messages, chat_template: TEMPLATE },
      { model: 'maestro-sim', messages, add_generation_prompt: false, chat_template: TEMPLATE },
    ];
    for (const body of bodies) {
      seen.length = 0;
      const r = await post('maestro/v1/chat/completions', body, itemHeaders('charts', 'c3', 'policy', 6));
      const ctx = seen[0];
      expect(ctx?.release).toBeUndefined();
      if (!ctx) throw new Error('not observed');
      expect(r.text).toBe(policyReply(registry, policy, ctx));
      expect(r.text).toMatch(/^<think>[^<]+<\/think>\n<search> /);
    }
  });
});

describe('tokenizer endpoints', () => {
  it('serves /tokenize and /detokenize for policies only, POST only', async () => {
    const t = await fetch(`${sim.url}/maestro/tokenize`, {
      method: 'POST',
      body: JSON.stringify({ model: 'maestro-sim', prompt: 'x<|endoftext|>', add_special_tokens: false }),
    });
    expect(await t.json()).toEqual({ tokens: [120, 0x110002], count: 2, max_model_len: 32768 });
    const d = await fetch(`${sim.url}/maestro/detokenize`, {
      method: 'POST',
      body: JSON.stringify({ model: 'maestro', tokens: [0x110000, 121] }),
    });
    expect(await d.json()).toEqual({ prompt: '<|im_start|>y' });
    expect((await fetch(`${sim.url}/maestro/tokenize`)).status).toBe(405);
    expect((await post('Alpha/tokenize', { model: 'alpha-sim', prompt: 'x' })).status).toBe(404);
    expect((await post('maestro/tokenize', { model: 'maestro-sim' })).status).toBe(400);
    expect((await post('maestro/detokenize', { model: 'maestro-sim', tokens: [1.5] })).status).toBe(400);
  });

  it('round-trips every string it is given', () => {
    const pieces = [
      'a',
      ' ',
      '\n',
      'é',
      '🙂',
      '\ud800',
      '\udfff',
      '<|',
      '|>',
      '<|im_end|>',
      '<|im_start|>',
      '<|image_pad|>',
    ];
    for (let k = 0; k < 500; k += 1) {
      let s = '';
      for (let j = 0; j < (k % 17) + 1; j += 1) s += pieces[(k * 7 + j * 13 + j * k) % pieces.length];
      expect(detokenize(tokenize(s))).toBe(s);
    }
  });
});
