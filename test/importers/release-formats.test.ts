import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FILES_DIR } from '../../benchmarks/fixtures/write-files.ts';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import type { Item } from '../../src/core/items.ts';
import { DataStore } from '../../src/data/store.ts';
import { getImporter, importFiles } from '../../src/importers/index.ts';
import { splitInlineOptions } from '../../src/importers/inline-options.ts';
import { stringifyTsv } from '../../src/importers/tsv.ts';
import { getOfficialScorer } from '../../src/scoring/official/index.ts';

/**
 * The default importers on files in each release's own layout: the shipped fixture files
 * (benchmarks/fixtures/write-files.ts writes them with the release's columns and encodings)
 * and, for MathVista's VLMEvalKit TSV, a file written here.
 */

const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));
const fixture = (id: string, name: string) => join(FIXTURE_FILES_DIR, id, name);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'release-formats-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function load(
  id: string,
  files: string[],
  format: string,
  mapping?: Record<string, unknown>,
): Promise<{ items: Item[]; skipped: Array<{ message: string }> }> {
  const store = new DataStore(join(root, `${id}-${Math.random().toString(36).slice(2)}`));
  const r = await importFiles({
    importer: getImporter(format),
    files,
    store,
    catalog,
    benchmark: id,
    onError: 'skip',
    ...(mapping ? { mapping } : {}),
  });
  const skipped = r.skipped.map((s) => ({ message: `${s.field ?? ''}: ${s.reason}` }));
  if (r.items === 0) return { items: [], skipped };
  return { items: (await store.loadDataset(id)).items, skipped };
}

describe('options written inside the question text', () => {
  it('reads V* lines "(A) …" and drops the instruction line after them', () => {
    const q =
      "What is the color of the cup?\n(A) red\n(B) blue\n(C) green\n(D) white\nAnswer with the option's letter from the given choices directly.";
    expect(splitInlineOptions(q)).toEqual({
      stem: 'What is the color of the cup?',
      options: [
        { label: 'A', text: 'red' },
        { label: 'B', text: 'blue' },
        { label: 'C', text: 'green' },
        { label: 'D', text: 'white' },
      ],
    });
  });

  it('reads ERQA\'s inline "Choices: A. … B. …" and drops the sentence after the last option', () => {
    const q =
      'Which way should the arm move? Choices: A. Up B. Down C. Left D. Right. Please answer directly with only the letter of the correct option and nothing else.';
    const r = splitInlineOptions(q);
    expect(r?.stem).toBe('Which way should the arm move?');
    expect(r?.options.map((o) => o.text)).toEqual(['Up', 'Down', 'Left', 'Right']);
  });

  it('needs labels A, B, … in order and in one style; a lone "A." is no option list', () => {
    expect(splitInlineOptions('Is plan A. the best one?')).toBeNull();
    expect(splitInlineOptions('Pick one: (A) x B. y')).toBeNull();
    expect(splitInlineOptions('Two options\n(A) left\n(B) right')?.options).toHaveLength(2);
    // "Choices: A. yes B. no", as lmms-eval's ERQA tests write it.
    expect(splitInlineOptions('Is the door open? Choices: A. yes B. no')?.options.map((o) => o.text)).toEqual(
      ['yes', 'no'],
    );
  });
});

describe('V* test_questions.jsonl (craigwu/vstar_bench)', () => {
  it('imports the options from `text` and the letter from `label`; a row without options is a bad row', async () => {
    const dir = join(root, 'vstar');
    await mkdir(join(dir, 'direct_attributes'), { recursive: true });
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    await writeFile(join(dir, 'direct_attributes', 'sa_1.jpg'), png);
    const row = (id: number, text: string) =>
      JSON.stringify({
        image: 'direct_attributes/sa_1.jpg',
        text,
        category: 'direct_attributes',
        question_id: id,
        label: 'B',
      });
    const file = join(dir, 'test_questions.jsonl');
    await writeFile(
      file,
      `${row(0, "What is the material of the glove?\n(A) rubber\n(B) cotton\n(C) kevlar\n(D) leather\nAnswer with the option's letter from the given choices directly.")}\n${row(1, 'What is it made of?')}\n`,
    );
    const { items, skipped } = await load('vstar', [file], 'hf');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: 'vstar-0000',
      question: 'What is the material of the glove?',
      answers: ['B'],
      answerType: 'choice',
      extra: { category: 'direct_attributes' },
    });
    expect(items[0]?.options?.map((o) => o.text)).toEqual(['rubber', 'cotton', 'kevlar', 'leather']);
    expect(skipped[0]?.message).toMatch(/^text: no options/);
  });

  it('reads the shipped fixture (the release layout) with 2- and 4-option questions', async () => {
    const { items, skipped } = await load('vstar', [fixture('vstar', 'test_questions.jsonl')], 'hf');
    expect(skipped).toEqual([]);
    expect(items.map((i) => i.options?.length)).toEqual([4, 2, 4, 2]);
    expect(items.every((i) => !i.question.includes('(A)'))).toBe(true);
  });
});

describe('ERQA.tsv (VLMEvalKit)', () => {
  it('reads the JSON image list, the options inside the question and the sub-task', async () => {
    const { items, skipped } = await load('erqa', [fixture('erqa', 'ERQA.tsv')], 'vlmeval-tsv');
    expect(skipped).toEqual([]);
    expect(items.map((i) => i.images.length)).toEqual([2, 3, 3, 3]);
    expect(items[0]?.extra).toEqual({ question_type: 'Trajectory Reasoning', visual_indices: [0, 0] });
    expect(items[0]?.question).not.toMatch(/Choices|Please/);
    expect(items[0]?.options?.[3]?.text).toBe('Downwards');
    // The official scorer (lmms-eval mcq_extract) scores the imported item.
    const right = `The answer is ${items[0]?.answers[0]}`;
    expect((await getOfficialScorer('erqa').score(items[0] as Item, right)).correct).toBe(true);
  });
});

describe('HumanEval-V test parquet (HumanEval-V/HumanEval-V-Benchmark)', () => {
  it('reads qid, function_signature, test_script, diagram and task_type; the entry point is solution', async () => {
    const { items, skipped } = await load(
      'humanevalv',
      [fixture('humanevalv', 'test-00000-of-00001.parquet')],
      'hf',
    );
    expect(skipped).toEqual([]);
    const it0 = items[0] as Item;
    expect(it0.question.startsWith('def solution(x):')).toBe(true);
    expect(it0.images).toHaveLength(1);
    expect(it0.extra).toMatchObject({ entryPoint: 'solution', task_type: 'linear' });
    expect(String(it0.extra.test_script)).toContain('check(solution)');
    expect(it0.extra.function_signature).toBe(`${it0.question}\n`);
  });
});

describe('VLMs Are Blind valid parquet (XAI/vlmsareblind)', () => {
  it('keeps the task names the official parser dispatches on, so right answers score', async () => {
    const { items } = await load(
      'vlmsareblind',
      [fixture('vlmsareblind', 'valid-00000-of-00001.parquet')],
      'hf',
    );
    expect(items.map((i) => i.extra.task)).toEqual([
      'Touching Circles',
      'Line Plot Intersections',
      'Touching Circles',
      'Line Plot Intersections',
    ]);
    const scorer = getOfficialScorer('vlmsareblind');
    const line = items[1] as Item;
    expect((await scorer.score(line, `{${line.answers[0]}}`)).correct).toBe(true);
    expect((await scorer.score(items[0] as Item, items[0]?.answers[0] ?? '')).correct).toBe(true);
  });
});

describe('CharXiv TSVs (VLMEvalKit)', () => {
  it('takes question_type from the file name and refuses a file whose name tells none', async () => {
    const files = ['CharXiv_descriptive_val.tsv', 'CharXiv_reasoning_val.tsv'].map((f) =>
      fixture('charxiv', f),
    );
    const { items } = await load('charxiv', files, 'vlmeval-tsv');
    expect(items.map((i) => i.extra.question_type)).toEqual([
      'descriptive',
      'reasoning',
      'reasoning',
      'reasoning',
    ]);
    const renamed = join(root, 'charxiv_val.tsv');
    await copyFile(files[1] as string, renamed);
    await expect(load('charxiv', [renamed], 'vlmeval-tsv')).rejects.toThrow(/question_type/);
  });
});

describe('sub-split fields', () => {
  it('reach extra under the names the sub-score tables read', async () => {
    const hr = (await load('hrbench4k', [fixture('hrbench4k', 'hr_bench_4k.tsv')], 'vlmeval-tsv')).items;
    expect(hr.map((i) => i.extra.category)).toEqual(['single', 'single', 'cross', 'single']);
    expect(hr.every((i) => typeof i.extra.cycle_category === 'string')).toBe(true);
    const tally = (await load('tallyqa', [fixture('tallyqa', 'test.json')], 'hf')).items;
    expect(tally.every((i) => typeof i.extra.issimple === 'boolean')).toBe(true);
    const ocr = (await load('ocrbench', [fixture('ocrbench', 'OCRBench.tsv')], 'vlmeval-tsv')).items;
    expect(new Set(ocr.map((i) => i.extra.category))).toEqual(
      new Set(['Regular Text Recognition', 'Handwritten Mathematical Expression Recognition']),
    );
  });
});

describe('MathVista_MINI.tsv (VLMEvalKit), through the vlmeval-tsv alternate mapping', () => {
  it('reads `choices` as the options, so a letter reply scores', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const image = png.toString('base64');
    const columns = [
      'index',
      'image',
      'question',
      'answer',
      'answer_option',
      'choices',
      'question_type',
      'answer_type',
      'precision',
      'unit',
    ];
    const file = join(root, 'MathVista_MINI.tsv');
    await writeFile(
      file,
      stringifyTsv(columns, [
        {
          index: '1',
          image,
          question: 'Which shape is largest?',
          answer: 'square',
          answer_option: 'B',
          choices: "['circle', 'square', 'triangle']",
          question_type: 'multi_choice',
          answer_type: 'text',
          precision: '',
          unit: '',
        },
        {
          index: '2',
          image: '1',
          question: 'What is the length of AB?',
          answer: '2.5',
          answer_option: '',
          choices: '',
          question_type: 'free_form',
          answer_type: 'float',
          precision: '1.0',
          unit: '',
        },
      ]),
    );
    const { items, skipped } = await load('mathvista', [file], 'vlmeval-tsv');
    expect(skipped).toEqual([]);
    expect(items[0]).toMatchObject({ id: 'mathvista-0001', answers: ['B'], answerType: 'choice' });
    expect(items[0]?.options?.map((o) => o.text)).toEqual(['circle', 'square', 'triangle']);
    expect(items[1]).toMatchObject({ answers: ['2.5'], extra: { precision: 1, answer_type: 'float' } });
    expect(items[1]?.options).toBeUndefined();
    const scorer = getOfficialScorer('mathvista');
    expect((await scorer.score(items[0] as Item, 'B')).correct).toBe(true);
    expect((await scorer.score(items[0] as Item, 'A')).correct).toBe(false);
  });
});
