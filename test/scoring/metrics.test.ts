import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.ts';
import { getMetric, metrics } from '../../src/scoring/metrics/index.ts';
import { ABCD, makeItem } from './helpers.ts';

async function verdict(metricId: string, item: Item, prediction: string | null): Promise<boolean> {
  const r = await getMetric(metricId).score(item, prediction);
  expect(r.score).toBe(r.correct ? 1 : 0);
  expect(r.reason.length).toBeGreaterThan(0);
  return r.correct;
}

describe('metric registry', () => {
  it('registers one definition per metric file, and every catalog metric id', () => {
    const dir = join(import.meta.dirname, '../../src/scoring/metrics');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(Object.keys(metrics)).toHaveLength(files.length);
    for (const id of [
      'choice',
      'mathvista',
      'math',
      'integer',
      'relaxed',
      'exact',
      'slake',
      'ocrbench',
      'code_pass',
    ]) {
      const m = metrics[id];
      expect(m?.id).toBe(id);
      expect(m?.requiresModel).toBe(false);
      expect(m?.description).toBeTruthy();
    }
  });

  it('names the unknown id and the known ones', () => {
    expect(() => getMetric('bleu')).toThrow(/unknown metric "bleu".*choice.*relaxed/);
    expect(() => getMetric('toString')).toThrow(/unknown metric "toString"/);
  });

  it('scores a null prediction as wrong in every rule-based metric', async () => {
    for (const id of [
      'choice',
      'mathvista',
      'math',
      'integer',
      'relaxed',
      'exact',
      'slake',
      'ocrbench',
      'code_pass',
    ]) {
      const r = await getMetric(id).score(makeItem({ options: ABCD, answers: ['B'] }), null);
      expect(r).toMatchObject({ correct: false, score: 0, extracted: null });
    }
  });
});

describe('choice', () => {
  const item = makeItem({ options: ABCD, answers: ['B'], answerType: 'choice' });
  it.each([
    ['B', true],
    ['b', true],
    ['(B)', true],
    ['[B]', true],
    ['B.', true],
    ['B)', true],
    ['Option B', true],
    ['B. dog', true],
    ['(B) dog', true],
    ['B: dog', true],
    ['dog', true],
    ['DOG.', true],
    ['I pick (B) because it barks', true],
    ['A', false],
    ['(C)', false],
    ['cat', false],
    ['fox', false], // option D exactly, although "red fox" contains it
    ['E', false], // not an option
    ['(A) or (B)', false], // two labels: ambiguous
    ['a fox or a dog', false], // two option texts: ambiguous
    ['none of these', false],
  ])('%s → %s', async (prediction, expected) => {
    expect(await verdict('choice', item, prediction)).toBe(expected);
  });

  it('accepts the gold given as option text or "(B)" instead of a label', async () => {
    expect(await verdict('choice', makeItem({ options: ABCD, answers: ['dog'] }), 'B')).toBe(true);
    expect(await verdict('choice', makeItem({ options: ABCD, answers: ['(C)'] }), 'red fox')).toBe(true);
  });

  it('takes a bare label followed by its own option text ("A cat")', async () => {
    expect(await verdict('choice', makeItem({ options: ABCD, answers: ['A'] }), 'A cat')).toBe(true);
  });

  it('works without options by label and by accepted answer', async () => {
    expect(await verdict('choice', makeItem({ answers: ['C'] }), '(c)')).toBe(true);
    expect(await verdict('choice', makeItem({ answers: ['C'] }), 'D')).toBe(false);
  });

  it('throws on an item whose gold is not an option (bad data is an item error)', () => {
    expect(() => getMetric('choice').score(makeItem({ options: ABCD, answers: ['zebra'] }), 'A')).toThrow(
      /zebra/,
    );
  });
});

describe('mathvista', () => {
  const choiceItem = makeItem({
    options: [
      { label: 'A', text: '3' },
      { label: 'B', text: '5' },
    ],
    answers: ['B'],
    answerType: 'choice',
  });
  const free = (answer: string, extra: Record<string, unknown> = {}) =>
    makeItem({ answers: [answer], answerType: 'number', extra });
  it.each([
    ['choice by letter', choiceItem, 'B', true],
    ['choice by option text', choiceItem, '5', true],
    ['choice wrong letter', choiceItem, '(A)', false],
    ['precision 1: 1.45 rounds to 1.5', free('1.5', { precision: 1 }), '1.45', true],
    ['precision 1: 1.44 rounds to 1.4', free('1.5', { precision: 1 }), '1.44', false],
    ['precision 2 given as a string', free('0.33', { precision: '2' }), '0.3333', true],
    ['precision 2, off in the second decimal', free('0.33', { precision: 2 }), '0.34', false],
    ['integer: 3.0 equals 3', free('3', { precision: 0 }), '3.0', true],
    ['unit stripped', free('12', { unit: 'cm' }), '12 cm', true],
    ['unit stripped, wrong value', free('12', { unit: 'cm' }), '13cm', false],
    ['no precision: exact value', free('2.5'), '2.50', true],
    ['no precision: close is not equal', free('2.5'), '2.51', false],
    ['thousands separators', free('1234.5', { precision: 1 }), '1,234.5', true],
    ['number gold, text answer', free('7'), 'seven', false],
    ['text, normalised', free('Yes'), 'yes.', true],
    ['list ignores spacing', free('[1, 2, 3]'), '[1,2,3]', true],
    ['list order matters', free('[1, 2, 3]'), '[3,2,1]', false],
  ])('%s', async (_name, item, prediction, expected) => {
    expect(await verdict('mathvista', item, prediction)).toBe(expected);
  });
});

describe('math (geometry3k)', () => {
  const gold = (answer: string, over: Partial<Item> = {}) =>
    makeItem({ answers: [answer], answerType: 'expression', ...over });
  it.each([
    ['1234.5', '1,234.5', true],
    ['3/4', '\\frac{3}{4}', true],
    ['\\frac{3}{4}', '0.75', true],
    ['\\frac{3}{4}', '\\dfrac34', true],
    ['2\\sqrt{3}', '2√3', true],
    ['2\\sqrt{3}', '2 \\sqrt 3', true],
    ['2\\sqrt{3}', '3.46', true],
    ['2\\sqrt{3}', '3.47', false],
    ['2\\sqrt{3}', '3\\sqrt{2}', false],
    ['60', '60°', true],
    ['60', '60^{\\circ}', true],
    ['60', 'x = 60', true],
    ['12', '12 cm', true],
    ['24', '24 square units', true],
    ['5\\pi', '15.71', true],
    ['5\\pi', '5π', true],
    ['\\frac{7\\sqrt{2}}{2}', '4.95', true],
    ['\\sqrt[3]{8}', '2', true],
    ['7.5', '7.49', false], // 0.01 apart: not equal to 2 decimals
    ['7.5', '7.504', true],
    ['4', 'four', false],
    ['x+1', 'x + 1', true], // non-numeric expressions compare as normalised text
    ['x+1', 'x+2', false],
  ])('%s vs %s → %s', async (g, prediction, expected) => {
    expect(await verdict('math', gold(g), prediction)).toBe(expected);
  });

  it('maps a bare label to its option text when the item has options', async () => {
    const item = gold('2\\sqrt{3}', {
      options: [
        { label: 'A', text: '2\\sqrt{3}' },
        { label: 'B', text: '4' },
      ],
    });
    expect(await verdict('math', item, '(A)')).toBe(true);
    expect(await verdict('math', item, 'B')).toBe(false);
  });
});

describe('integer', () => {
  const gold = (answer: string) => makeItem({ answers: [answer], answerType: 'integer' });
  it.each([
    ['3', '3', true],
    ['3', 'three', true],
    ['3', 'Three.', true],
    ['3', '3 apples', true],
    ['3', 'There are three apples.', true],
    ['12', 'a dozen', true],
    ['6', 'half a dozen', true],
    ['0', 'none', true],
    ['0', 'zero', true],
    ['20', 'twenty', true],
    ['1000', '1,000', true],
    ['3', '3.0', true],
    ['3', '4', false],
    ['3', '3.5', false],
    ['3', '3 or 4', false],
    ['3', 'some', false],
    ['3', 'thirty', false],
    ['two', '2', true], // gold given as a word
  ])('gold %s, answer %s → %s', async (g, prediction, expected) => {
    expect(await verdict('integer', gold(g), prediction)).toBe(expected);
  });
});

describe('relaxed (ChartQA)', () => {
  const gold = (...answers: string[]) => makeItem({ answers, answerType: 'number' });
  it.each([
    [['50'], '52', true], // 4 %
    [['50'], '52.5', true], // exactly 5 %
    [['50'], '52.6', false], // 5.2 %
    [['50'], '47.5', true],
    [['50'], '47.4', false],
    [['0'], '0', true],
    [['0'], '0.0', true],
    [['0'], '0.01', false], // gold 0 needs exactly 0
    [['45'], '45%', true],
    [['45%'], '45', true],
    [['1234'], '1,234', true],
    [['1200000'], '1,190,000', true],
    [['$3.5'], '3.5', true],
    [['-10'], '-10.4', true],
    [['-10'], '10', false],
    [['Brazil'], 'brazil', true],
    [['Brazil'], 'Brazil.', true],
    [['Brazil'], 'Brasil', false],
    [['12'], 'twelve', false],
    [['Yes', 'No'], 'no', true], // any accepted answer
  ])('%j vs %s → %s', async (golds, prediction, expected) => {
    expect(await verdict('relaxed', gold(...golds), prediction)).toBe(expected);
  });
});

describe('exact', () => {
  const gold = (...answers: string[]) => makeItem({ answers });
  it.each([
    [['Yes'], 'yes', true],
    [['Yes'], 'Yes.', true],
    [['yes'], 'TRUE', true],
    [['No'], 'false', true],
    [['Yes'], 'Y', false],
    [['Yes'], 'no', false],
    [['3'], '3.0', true],
    [['1000'], '1,000', true],
    [['{3}'], '3', true],
    [['3'], '4', false],
    [['Red circle'], '  red   CIRCLE ', true],
    [['red circle'], 'red', false],
    [['B'], '(B)', true],
    [['0.25'], '.25', true],
    [['ten'], '10', false],
  ])('%j vs %s → %s', async (golds, prediction, expected) => {
    expect(await verdict('exact', gold(...golds), prediction)).toBe(expected);
  });
});

describe('slake', () => {
  const closed = (answer: string) => makeItem({ answers: [answer], extra: { answerType: 'CLOSED' } });
  const open = (answer: string) => makeItem({ answers: [answer], extra: { answer_type: 'OPEN' } });
  it.each([
    ['closed yes', closed('Yes'), 'yes', true],
    ['closed Yes.', closed('Yes'), 'Yes.', true],
    ['closed leading yes', closed('Yes'), 'Yes, in the left lung', true],
    ['closed true', closed('No'), 'False', true],
    ['closed wrong', closed('No'), 'yes', false],
    ['closed named alternative', closed('MRI'), 'mri', true],
    ['closed no containment', closed('MRI'), 'It is an MRI scan', false],
    ['open answer contains gold', open('Left Lung'), 'the left lung', true],
    ['open gold contains answer', open('brain, lung'), 'brain', true],
    ['open unrelated', open('liver'), 'kidney', false],
    ['open partial word is not containment', open('brain'), 'b', false],
    ['open "a" is not inside "brain"', open('brain'), 'a', false],
    ['inferred closed from a yes/no gold', makeItem({ answers: ['no'] }), 'No', true],
  ])('%s', async (_name, item, prediction, expected) => {
    expect(await verdict('slake', item, prediction)).toBe(expected);
  });
});

describe('ocrbench', () => {
  const gold = (answers: string[], extra: Record<string, unknown> = {}) =>
    makeItem({ answers, answerType: 'list', extra });
  it.each([
    ['exact', gold(['STOP']), 'STOP', true],
    ['case-insensitive', gold(['Stop']), 'the sign says STOP', true],
    ['collapsed whitespace', gold(['New  York']), 'New\nYork city', true],
    ['any accepted answer', gold(['colour', 'color']), 'Color', true],
    ['not contained', gold(['stop']), 'go', false],
    ['prediction inside gold is not enough', gold(['stop sign']), 'stop', false],
    ['empty accepted answers are ignored', gold(['', 'exit']), 'enter', false],
    [
      'formula by category: whitespace removed',
      gold(['x^{2} + 1'], { category: 'Formula recognition' }),
      'x^{2}+1',
      true,
    ],
    ['formula by flag', gold(['\\frac { a } { b }'], { formula: true }), '\\frac{a}{b}', true],
    [
      'HME category is a formula category',
      gold(['a + b'], { category: 'Handwritten Mathematical Expression Recognition' }),
      'a+b',
      true,
    ],
    ['formula keeps case', gold(['X+1'], { formula: true }), 'x+1', false],
    ['non-formula keeps single spaces', gold(['x + 1']), 'x+1', false],
  ])('%s', async (_name, item, prediction, expected) => {
    expect(await verdict('ocrbench', item, prediction)).toBe(expected);
  });
});
