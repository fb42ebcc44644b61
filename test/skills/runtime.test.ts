import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compose,
  countTarget,
  parseBox,
  parseDetections,
  parseOption,
  statedAnswer,
  toImagePixels,
} from '../../skills/evidence.ts';
import { renderTemplate } from '../../skills/generic.ts';
import { getSkillImplementation } from '../../skills/index.ts';
import type { SkillImplementation } from '../../skills/types.ts';
import { PermanentError, RetryableError } from '../../src/core/errors.ts';
import type { Item } from '../../src/core/items.ts';
import { loadRegistry, type Registry, type Service } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import {
  type ChatRequest,
  type ChatResult,
  ClientCache,
  type EndpointConfig,
  type ModelClient,
} from '../../src/models/client.ts';
import { SkillRuntime } from '../../src/skills-runtime/runtime.ts';

type Reply = (req: ChatRequest) => string | Error | Promise<never>;

/** Clients that answer from a table instead of HTTP, and record what they were sent. */
class FakeClients extends ClientCache {
  readonly sent: Array<{ name: string; req: ChatRequest }> = [];
  constructor(private readonly replies: Record<string, Reply>) {
    super();
  }
  override get(endpoint: EndpointConfig): ModelClient {
    const sent = this.sent;
    const reply = this.replies[endpoint.name];
    return {
      endpoint,
      async chat(req: ChatRequest): Promise<ChatResult> {
        sent.push({ name: endpoint.name, req });
        const r = reply ? await reply(req) : 'The answer is 1.';
        if (r instanceof Error) throw r;
        return { text: r, finishReason: 'stop', promptTokens: 11, completionTokens: 7, latencyMs: 1 };
      },
    } as unknown as ModelClient;
  }
}

const textOf = (req: ChatRequest, role: 'system' | 'user') => {
  const m = req.messages.find((x) => x.role === role);
  if (!m) return '';
  if (typeof m.content === 'string') return m.content;
  return (m.content as Array<{ type: string; text?: string }>).map((p) => p.text ?? '').join('\n');
};
const imagesOf = (req: ChatRequest) => {
  const m = req.messages.find((x) => x.role === 'user');
  return Array.isArray(m?.content)
    ? (m.content as Array<{ type: string }>).filter((p) => p.type === 'image_url').length
    : 0;
};

let dir: string;
let store: DataStore;
let registry: Registry;
let item: Item;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-skills-'));
  store = new DataStore(join(dir, 'data'));
  const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#e0e0e0' } })
    .png()
    .toBuffer();
  const ref = await store.putImage(png, 'image/png', { width: 320, height: 200 });
  item = {
    id: 'r1',
    benchmark: 'receipts',
    question: 'How many apples are on the receipt?',
    images: [ref],
    answers: ['3'],
    answerType: 'integer',
    extra: {},
  };
  const extra = join(dir, 'extra.yaml');
  writeFileSync(
    extra,
    [
      'skills:',
      '  - name: Receipt_Reader',
      '    description: reads receipts',
      '    services: [ocr, caption]',
      '    prompt: "Receipt text: {{ocr}} | Asked: {{question}} | End with The answer is X."',
      '  - name: Shop_Router',
      '    description: routes shop questions',
      '    solvers: [Chart_Problem_Solver, Receipt_Reader]',
    ].join('\n'),
  );
  registry = loadRegistry([resolve(import.meta.dirname, '../../registry/simulated.yaml'), extra], {});
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runtime(replies: Record<string, Reply>, opts: { maxCalls?: number; timeoutMs?: number } = {}) {
  const clients = new FakeClients(replies);
  return { clients, rt: new SkillRuntime({ registry, store, clients, ...opts }) };
}

const request = (skill: string, seed = 0) => ({
  expert: registry.expert('GLM-4.6V-Flash'),
  skill,
  input: 'count the apples',
  item,
  images: item.images,
  headers: { 'x-maestro-seed': String(seed), 'x-maestro-skill': skill },
});

describe('a skill defined only in YAML (generic skill + services)', () => {
  it('calls the listed services and feeds their output into the prompt template', async () => {
    const { rt, clients } = runtime({
      'GLM-OCR': () => 'APPLES x3  TOTAL 4.50',
      caption: () => 'A till receipt on a table.',
      'GLM-4.6V-Flash': () => 'Three apples are listed.\nThe answer is 3.',
    });
    const out = await rt.run(request('Receipt_Reader'));
    expect(out.calls.map((c) => c.service)).toEqual(['GLM-OCR', 'caption', 'expert']);
    // Each call's trace keeps what it returned and the stored images it saw.
    expect(out.calls.map((c) => c.output)).toEqual([
      'APPLES x3  TOTAL 4.50',
      'A till receipt on a table.',
      'Three apples are listed.\nThe answer is 3.',
    ]);
    for (const c of out.calls) expect(c.images).toEqual(item.images);
    const expertReq = clients.sent.find((s) => s.name === 'GLM-4.6V-Flash')?.req;
    if (!expertReq) throw new Error('the expert was not called');
    expect(textOf(expertReq, 'system')).toBe(
      'Receipt text: APPLES x3  TOTAL 4.50 | Asked: How many apples are on the receipt? | End with The answer is X.',
    );
    // The caption is not in the template: it comes as evidence in the user turn.
    expect(textOf(expertReq, 'user')).toContain('caption (caption): A till receipt on a table.');
    expect(imagesOf(expertReq)).toBe(1);
    expect(out.text).toBe('Three apples are listed.\nThe answer is 3.');
  });

  it('degrades when a service fails: it answers, and the trace and text say so', async () => {
    const { rt, clients } = runtime({
      'GLM-OCR': () => new RetryableError('GLM-OCR: server error 500'),
      'GLM-4.6V-Flash': () => 'The answer is 3.',
    });
    const out = await rt.run(request('Receipt_Reader'));
    expect(out.calls.map((c) => [c.service, c.ok])).toEqual([
      ['GLM-OCR', false],
      ['caption', true],
      ['expert', true],
    ]);
    expect(out.calls[0]?.error).toContain('500');
    expect(out.calls[0]?.note).toMatch(/ocr failed, continuing without it/);
    expect(out.text).toMatch(/^Note: ocr unavailable/);
    const expertReq = clients.sent.find((s) => s.name === 'GLM-4.6V-Flash')?.req;
    expect(textOf(expertReq!, 'system')).toContain('Receipt text: (unavailable: GLM-OCR: server error 500)');
  });

  it("gives every model call its own attempt log, and keeps what the client counted in the call's trace", async () => {
    // What the model client does with the log it is given (client-http.test.ts checks the real one).
    const counted = (req: ChatRequest, errors: string[]) => {
      if (!req.attempts) throw new Error('the call was sent without an attempt log');
      req.attempts.attempts += errors.length + 1;
      req.attempts.errors.push(...errors);
    };
    const { rt } = runtime({
      'GLM-OCR': (req) => {
        counted(req, []);
        req.attempts?.errors.push('HTTP 503 Service Unavailable');
        return new RetryableError('GLM-OCR: server error 503');
      },
      caption: (req) => {
        counted(req, []);
        return 'A till receipt.';
      },
      'GLM-4.6V-Flash': (req) => {
        counted(req, ['HTTP 429 Too Many Requests']);
        return 'The answer is 3.';
      },
    });
    const out = await rt.run(request('Receipt_Reader'));
    expect(out.calls.map((c) => [c.service, c.attempts, c.attemptErrors])).toEqual([
      ['GLM-OCR', undefined, ['HTTP 503 Service Unavailable']],
      ['caption', undefined, undefined],
      ['expert', 2, ['HTTP 429 Too Many Requests']],
    ]);
  });

  it('a YAML-only skill with solvers routes to the solver the expert picks and runs it', async () => {
    const { rt, clients } = runtime({
      'GLM-OCR': () => 'APPLES x3',
      'GLM-4.6V-Flash': (req) =>
        textOf(req, 'system').startsWith('You pick the specialist') ? 'Receipt_Reader' : 'The answer is 3.',
    });
    const out = await rt.run(request('Shop_Router'));
    expect(out.text).toBe('[Shop_Router → Receipt_Reader]\nThe answer is 3.');
    // Classification, then the Receipt_Reader solver's own services and answer.
    expect(out.calls.map((c) => c.service)).toEqual(['expert', 'GLM-OCR', 'caption', 'expert']);
    const answerReq = clients.sent.filter((s) => s.name === 'GLM-4.6V-Flash')[1]?.req;
    expect(textOf(answerReq!, 'system')).toContain('Receipt text: APPLES x3');
  });

  it('a YAML-only router falls back to its first solver when the classification is unclear', async () => {
    const { rt } = runtime({
      'GLM-4.6V-Flash': (req) =>
        textOf(req, 'system').startsWith('You pick the specialist') ? 'no idea' : 'The answer is 3.',
    });
    const out = await rt.run(request('Shop_Router'));
    expect(out.text.split('\n')[0]).toBe('[Shop_Router → Chart_Problem_Solver]');
  });

  it('renders placeholders by role or service name, case and separator blind', () => {
    expect(
      renderTemplate('{{ OCR }}/{{glm_ocr}}/{{missing}}/{{input}}', { ocr: 'a', 'GLM-OCR': 'b', input: 'c' }),
    ).toBe('a/b//c');
  });
});

describe('budget, cache and time limit', () => {
  it('skips the optional self-check when the call budget is short, and says so', async () => {
    const { rt } = runtime({}, { maxCalls: 4 });
    const out = await rt.run(request('Geometric_Problem_Solver'));
    expect(out.calls.map((c) => c.service)).toEqual(['caption', 'GLM-OCR', 'expert', 'expert']);
    expect(out.text).toContain('self-check skipped');
  });

  it('fails a skill that needs more calls than the budget allows', async () => {
    const { rt } = runtime({}, { maxCalls: 1 });
    await expect(rt.run(request('Chart_Problem_Solver'))).rejects.toBeInstanceOf(PermanentError);
  });

  it('serves repeated auxiliary requests from the per-process cache, traced as cache hits', async () => {
    const { rt, clients } = runtime({
      'PR1-Qwen2.5-VL-3B-Detection': () => '[{"bbox_2d": [10, 10, 100, 100], "label": "apple"}]',
      'DeepEyes-7B': () => '{"bbox_2d": [0, 0, 500, 500]}',
    });
    const first = await rt.run(request('Counting_Problem_Solver', 3));
    const second = await rt.run(request('Counting_Problem_Solver', 3));
    const third = await rt.run(request('Counting_Problem_Solver', 4)); // another seed: asked again
    const detections = clients.sent.filter((s) => s.name === 'PR1-Qwen2.5-VL-3B-Detection');
    expect(detections).toHaveLength(2);
    expect(first.calls[0]?.note).toBe('detection');
    expect(second.calls.map((c) => c.service)).toEqual(first.calls.map((c) => c.service));
    expect(second.calls[0]?.note).toBe('detection (cache hit)');
    expect([first.calls[0]?.cached, second.calls[0]?.cached]).toEqual([undefined, true]);
    expect(second.calls[0]?.promptTokens).toBe(first.calls[0]?.promptTokens);
    expect(second.calls[0]?.latencyMs).toBe(0);
    expect(third.calls[0]?.note).toBe('detection');
    // The detector prompt names what the question counts.
    expect(textOf(detections[0]!.req, 'user')).toContain('Detect every apples');
  });

  it('stops waiting for a service past the time budget and answers without it', async () => {
    const { rt } = runtime(
      { 'DeepEyes-7B': () => new Promise<never>(() => {}), 'GLM-4.6V-Flash': () => 'The answer is B.' },
      { timeoutMs: 300 },
    );
    const out = await rt.run(request('Perception_Problem_Solver'));
    expect(out.calls[0]?.ok).toBe(false);
    expect(out.calls[0]?.error).toMatch(/time budget/);
    expect(out.text).toMatch(/The answer is B\.$/);
  });

  it('fails the skill when a service it cannot work without fails', async () => {
    const mustRead: SkillImplementation = {
      id: 'must-read',
      name: 'Receipt_Reader',
      level: 1,
      description: 'test skill that needs OCR',
      services: [{ role: 'ocr', required: true }],
      async run(ctx) {
        const ref = ctx.images[0];
        if (!ref) throw new Error('no image');
        const r = await ctx.aux('ocr', { image: { ref }, prompt: 'read', note: 'ocr', required: true });
        return { text: r.ok ? r.text : 'unreachable' };
      },
    };
    const clients = new FakeClients({ 'GLM-OCR': () => new RetryableError('GLM-OCR: server error 503') });
    const rt = new SkillRuntime({
      registry,
      store,
      clients,
      implementations: (id) => (id === 'generic' ? mustRead : getSkillImplementation(id)),
    });
    await expect(rt.run(request('Receipt_Reader'))).rejects.toThrow(/cannot answer without ocr|503/);
  });

  it('refuses unknown skills and implementations as permanent errors', () => {
    const { rt } = runtime({});
    expect(() => rt.resolve('No_Such_Skill')).toThrow(PermanentError);
    expect(rt.resolve('direct').impl.id).toBe('direct');
    expect(rt.resolve('chart-problem-solver').skill?.name).toBe('Chart_Problem_Solver');
  });
});

describe('evidence parsing', () => {
  const svc = (coordinates?: 'pixel' | 'norm1000') =>
    ({ name: 's', role: 'zoom', coordinates }) as unknown as Service;

  it('reads boxes and detections from model replies', () => {
    expect(parseBox('zoom here {"bbox_2d": [12, 30.5, 400, 220]}')).toEqual([12, 30.5, 400, 220]);
    expect(parseBox('<tool_call>[1, 2, 3, 4]</tool_call>')).toEqual([1, 2, 3, 4]);
    expect(parseBox('{"bbox_2d": null}')).toBeNull();
    expect(parseDetections('[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}, {"bbox_2d": [5, 6, 7]}]')).toEqual([
      { box: [1, 2, 3, 4], label: 'cat' },
    ]);
    expect(parseDetections('found [1,2,3,4] and [5, 6, 7, 8]').length).toBe(2);
    expect(parseDetections('nothing here')).toEqual([]);
  });

  it('maps service boxes back to the original image', () => {
    const ok = (coordinates?: 'pixel' | 'norm1000') => ({
      ok: true as const,
      text: '',
      cached: false,
      service: svc(coordinates),
      sent: { width: 100, height: 50 },
      original: { width: 400, height: 200 },
    });
    // Pixel boxes refer to the shrunk image the service saw.
    expect(toImagePixels([10, 10, 50, 25], ok('pixel'))).toEqual([40, 40, 200, 100]);
    expect(toImagePixels([500, 0, 1000, 500], ok('norm1000'))).toEqual([200, 0, 400, 100]);
  });

  it('reads answers, options and count targets', () => {
    expect(statedAnswer('x\nThe answer is **12**.\nthe answer is B.')).toBe('B');
    expect(statedAnswer('no answer')).toBeNull();
    expect(parseOption('Line.', ['bar', 'line', 'pie'])).toBe('line');
    expect(parseOption('It looks like a pie chart, not a bar chart', ['bar', 'line', 'pie'])).toBe('pie');
    expect(parseOption('histogram', ['bar', 'line', 'pie'])).toBeNull();
    expect(countTarget('How many red cars are in the picture?')).toBe('red cars');
    expect(countTarget('Count them')).toBe('object');
    const text = compose({ header: 'H', notes: ['n1'], body: 'Reasoning.\nThe answer is 4.\nDone' });
    expect(text.split('\n')[0]).toBe('H');
    expect(text).toContain('Note: n1');
    expect(text.endsWith('Done\nThe answer is 4.')).toBe(true);
  });
});
