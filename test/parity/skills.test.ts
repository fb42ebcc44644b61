/**
 * Differential tests of the `release` skills: each case runs the release's own Python skill
 * (through its orchestrator's request_skill_task, from the shared release copy) and this
 * project's release skill (through the SkillRuntime) on the same inputs against one
 * recording server, and requires identical request streams (order, model, messages with
 * images as decoded pixels, parameters) and the same observation text.
 *
 * Needs Debian's python3 with python3-pil, python3-numpy and python3-opencv (env
 * MAESTRO_PYTHON overrides /usr/bin/python3).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseObservation, releaseSettings } from '../../skills/release/run.ts';
import { processCaches } from '../../skills/release/services.ts';
import type { CallTrace, ImageRef, Item } from '../../src/core/items.ts';
import { loadRegistry, type Registry } from '../../src/core/registry.ts';
import { DataStore } from '../../src/data/store.ts';
import { SkillRuntime } from '../../src/skills-runtime/runtime.ts';
import { MAX_CALL_IMAGES } from '../../src/skills-runtime/sent-images.ts';
import { type Recorded, Recorder } from './recorder.ts';
import { EXPERTS, type ParityCase, skillCases } from './skill-cases.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
const UPSTREAM = join(SHARED, 'data/upstream-maestro');
const RELEASE = join(UPSTREAM, 'release');
const PYTHON = process.env.MAESTRO_PYTHON ?? '/usr/bin/python3';
const DRIVER = join(import.meta.dirname, 'release_skill_driver.py');
const FIX = (p: string) => join(ROOT, 'benchmarks/fixtures/files', p);

let recorder: Recorder;
let dir: string;
let store: DataStore;
let registry: Registry;
let runtime: SkillRuntime;
const refs = new Map<string, ImageRef>();

async function putImage(path: string): Promise<ImageRef> {
  let ref = refs.get(path);
  if (!ref) {
    const bytes = readFileSync(path);
    const meta = await sharp(bytes).metadata();
    const mime = meta.format === 'png' ? 'image/png' : 'image/jpeg';
    ref = await store.putImage(bytes, mime, { width: meta.width!, height: meta.height! });
    refs.set(path, ref);
  }
  return ref;
}

function registryYaml(url: string): string {
  const ep = (name: string, model: string, extra = '') =>
    `  - { name: ${name}, model: ${model}, baseUrl: "${url}", capacity: 4${extra} }`;
  const skill = (name: string) => `  - { name: ${name}, implementation: "release:${name}" }`;
  return [
    'version: 1',
    `upstream: "${RELEASE}"`,
    'experts:',
    ep('GLM-4.6V-Flash', 'GLM-4.6V-Flash'),
    ep('Chart-R1', 'Chart-R1'),
    ep('Intern-S1-mini', 'Intern-S1-mini'),
    ep('qwen3-vl-8b-instruct', 'qwen3-VL-8B-Instruct'),
    ep('Qwen3.5-9B', 'Qwen3.5-9B'),
    ep('Step3-VL-10B', 'Step3-VL-10B'),
    'services:',
    ep('DeepEyes-7B', 'DeepEyes-7B', ', role: zoom'),
    ep('GLM-OCR', 'GLM-OCR', ', role: ocr'),
    ep('PR1-Qwen2.5-VL-3B-Detection', 'PR1-Qwen2.5-VL-3B-Detection', ', role: detection'),
    ep('caption', 'gpt-5', ', role: caption, apiKeyEnv: OPENAI_API_KEY'),
    'skills:',
    ...[
      'none',
      'zoom',
      'Geometric_Problem_Solver',
      'Chart_Problem_Solver',
      'Counting_Problem_Solver',
      'Code_Problem_Solver',
      'OCRBench_Master_Router_Skill',
      'OCRBench_Text_Recognition_Skill',
      'OCRBench_Key_Information_Extraction_Skill',
      'OCRBench_Scene_Text_QA_Skill',
      'OCRBench_Document_Chart_QA_Skill',
      'OCRBench_Formula_Recognition_Skill',
      'VLMsAreBlind_Master_Router_Skill',
      'VLMsAreBlind_Circle_Contact_Overlap_Judge_Skill',
      'VLMsAreBlind_Intersection_Route_Counting_Skill',
      'VLMsAreBlind_Grid_Structure_Parsing_Skill',
      'VLMsAreBlind_Highlighted_Character_Recognition_Skill',
      'VLMsAreBlind_Geometric_Shape_Counting_Skill',
      'ERQA_Embodied_Scene_QA_Skill',
      'ERQA_Trajectory_Outcome_Solver',
      'ERQA_Action_Adjustment_Solver',
      'ERQA_Spatial_Mechanics_Solver',
      'ERQA_Pointing_Localization_Solver',
      'ERQA_Multi_View_Task_Solver',
      'Science_Problem_Solver',
      'Perception_Problem_Solver',
    ].map(skill),
  ].join('\n');
}

beforeAll(async () => {
  recorder = new Recorder();
  await recorder.start();
  dir = mkdtempSync(join(tmpdir(), 'maestro-parity-'));
  store = new DataStore(join(dir, 'data'));
  const file = join(dir, 'registry.yaml');
  writeFileSync(file, registryYaml(recorder.url));
  registry = loadRegistry([file], {});
  runtime = new SkillRuntime({ registry, store });
  python = new PythonDriver();
  releaseSettings.retryDelayMs = 0;
  // The Code skill runs Python as the release does (with the interpreter the release runs on).
  process.env.MAESTRO_PYTHON ??= PYTHON;
});

afterAll(async () => {
  python.stop();
  await recorder.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The release's side: one Python process for the whole file (release_skill_driver.py). It
 * imports the release once and runs each case in a forked child, so every case starts from
 * the state of a fresh import; it answers each case with one line on file descriptor 3.
 */
class PythonDriver {
  private child: ChildProcess | undefined;
  private readonly waiting: Array<(line: string) => void> = [];
  private stderr = '';

  private start(): ChildProcess {
    const child = spawn(PYTHON, [DRIVER], {
      env: {
        PATH: process.env.PATH,
        PYTHONDONTWRITEBYTECODE: '1',
        MAESTRO_RECORDER_URL: recorder.url,
      },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    child.stdout?.resume();
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    const replies = child.stdio[3] as Readable;
    createInterface({ input: replies }).on('line', (line) => this.waiting.shift()?.(line));
    child.on('exit', (code) => {
      this.child = undefined;
      for (const w of this.waiting.splice(0)) w(`exited ${code}`);
    });
    return child;
  }

  /** Runs one case; resolves with the release's observation text. */
  async run(c: ParityCase): Promise<string> {
    this.child ??= this.start();
    const out = join(dir, `${c.id}.json`);
    const reply = new Promise<string>((r) => this.waiting.push(r));
    const input = {
      release: RELEASE,
      skill: c.skill,
      model: c.model,
      port: EXPERTS[c.model].port,
      input: c.input,
      image_paths: c.images,
      out,
      env: { OPENAI_API_KEY: c.caption ? 'sk-test' : null },
    };
    this.child.stdin?.write(`${JSON.stringify(input)}\n`);
    const line = await reply;
    if (line !== `0 ${out}`) {
      const err = existsSync(`${out}.err`) ? readFileSync(`${out}.err`, 'utf8') : this.stderr;
      throw new Error(`python driver: ${line}: ${err.slice(-2000)}`);
    }
    return (JSON.parse(readFileSync(out, 'utf8')) as { response: string }).response;
  }

  stop(): void {
    this.child?.stdin?.end();
  }
}

let python: PythonDriver;

/** Runs this project's release skill through the SkillRuntime: its observation and trace. */
async function runProject(c: ParityCase): Promise<{ text: string; calls: CallTrace[] }> {
  processCaches.clear();
  const images = await Promise.all(c.images.map(putImage));
  const item: Item = {
    id: c.id,
    benchmark: 'parity',
    question: 'the item question (release experts never see it)',
    images,
    answers: ['x'],
    answerType: 'text',
    extra: {},
  } as Item;
  const hadKey = process.env.OPENAI_API_KEY;
  if (c.caption) process.env.OPENAI_API_KEY = 'sk-test';
  else delete process.env.OPENAI_API_KEY;
  try {
    const res = await runtime.run({
      expert: registry.expert(EXPERTS[c.model].registry),
      skill: c.skill,
      input: c.input,
      item,
      images,
      headers: {},
    });
    return { text: res.text, calls: res.calls };
  } finally {
    if (hadKey === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = hadKey;
  }
}

/** Both runs of a case: the recorded streams and the observations. */
async function runBoth(c: ParityCase) {
  recorder.reset(c.script());
  const pyText = await python.run(c);
  const py = await recorder.recorded();
  recorder.reset(c.script());
  const project = await runProject(c);
  const ts = await recorder.recorded();
  return { py, ts, pyText, tsText: releaseObservation(project.text), calls: project.calls };
}

const IMG = {
  chart1: join(UPSTREAM, '1691.jpg'),
  chart2: join(UPSTREAM, '2511.jpg'),
  slake: FIX('slake/imgs/xmlab1/source.png'),
  tally: FIX('tallyqa/images/tallyqa-0001.png'),
  vstar: FIX('vstar/direct_attributes/vstar-0001.png'),
};

/** Images the fixtures lack: a greyscale PNG (crops stay greyscale) and one with alpha (crops fail). */
async function extraImages(): Promise<{ grey: string; rgba: string }> {
  const grey = join(dir, 'grey.png');
  const rgba = join(dir, 'rgba.png');
  if (!existsSync(grey)) {
    await sharp(IMG.tally).greyscale().toColourspace('b-w').png().toFile(grey);
    await sharp(IMG.tally).ensureAlpha(0.5).png().toFile(rgba);
  }
  return { grey, rgba };
}

const cases: ParityCase[] = skillCases(IMG);

/** Image parts of a recorded request. */
const imagesIn = (r: Recorded) =>
  (r.messages as Array<{ content?: unknown }>).reduce(
    (n, m) =>
      n +
      (Array.isArray(m.content)
        ? m.content.filter((p: { type?: string }) => p.type === 'image_url').length
        : 0),
    0,
  );

describe('release skills: request streams equal the release code', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    if (c.images.some((p) => p.startsWith('@'))) {
      const extra = await extraImages();
      c.images = c.images.map((p) => (p === '@grey' ? extra.grey : p === '@rgba' ? extra.rgba : p));
    }
    const { py, ts, pyText, tsText, calls } = await runBoth(c);
    expect(py.length, 'the release sent requests').toBeGreaterThan(0);
    c.expectStream?.(py);
    c.expectText?.(pyText);
    expect(ts).toEqual(py);
    expect(tsText).toBe(pyText);
    // The trace accounts for every request (retries included) and keeps every image sent.
    const attempts = (call: CallTrace) => call.attempts ?? 1;
    expect(calls.reduce((n, call) => n + attempts(call), 0)).toBe(ts.length);
    const sentImages = ts.reduce((n, r) => n + Math.min(MAX_CALL_IMAGES, imagesIn(r)), 0);
    expect(calls.reduce((n, call) => n + attempts(call) * (call.images?.length ?? 0), 0)).toBe(sentImages);
  });
});
