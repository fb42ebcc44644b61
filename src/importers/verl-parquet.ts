import { dirname } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { type AnswerType, ChatMessage, type ImageRef, Item } from '../core/items.ts';
import { cellImages } from './images.ts';
import {
  getPath,
  isEmpty,
  itemId,
  jsonSafe,
  mergeMapping,
  scalarText,
  stripImageTokens,
  toList,
} from './mapping.ts';
import { readParquet } from './parquet.ts';
import { type ImporterDefinition, RowError, type SourceRow } from './types.ts';

/**
 * verl parquet, the format of the upstream Maestro release (and of verl RL datasets):
 *
 * - `data_source`: the source benchmark (`chartqa`), used as the benchmark id when the
 *   catalog has it, unless `--benchmark` says otherwise;
 * - `prompt`: the chat messages `{role, content}` the policy was trained on, kept as the
 *   item's own prompt (`item.prompt`);
 * - `images`: a list of `{bytes, path}`; bytes win, else the path relative to the file;
 * - `reward_model.ground_truth`: the accepted answers (a list, or one string);
 * - `extra_info`: `question` (the question, without its `<image>` placeholder), `index`
 *   (the item id; may be a BigInt), `split`, `answer`;
 * - `ability`: kept in `extra`.
 */

const COLUMNS = ['prompt', 'reward_model', 'extra_info'] as const;

function readPrompt(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new RowError('prompt', 'expected a non-empty list of messages');
  return v.map((m, i) => {
    const parsed = ChatMessage.safeParse(m);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RowError(
        `prompt[${i}]${issue?.path.length ? `.${issue.path.join('.')}` : ''}`,
        `not a chat message: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data;
  });
}

function answerTypeFor(declared: AnswerType, answers: string[]): AnswerType {
  const numeric = answers.every((a) => a.trim() !== '' && Number.isFinite(Number(a.replace(/[,%]/g, ''))));
  if ((declared === 'number' || declared === 'integer') && !numeric) return 'text';
  if (declared === 'choice') return 'text'; // verl rows carry no structured options
  return declared;
}

export const verlParquet: ImporterDefinition = {
  id: 'verl-parquet',
  description:
    'verl RL parquet (upstream Maestro release): data_source, prompt, images [{bytes, path}], reward_model.ground_truth, extra_info {question, index, split}',
  fileKinds: ['.parquet'],
  benchmarkFromRows: true,

  async open(ctx) {
    const { columns, rows } = await readParquet(ctx.path, ctx.file);
    const have = new Set(columns);
    for (const c of COLUMNS) {
      if (!have.has(c)) {
        throw new ConfigError(
          ctx.file,
          '',
          `missing column "${c}" of the verl format (columns: ${columns.join(', ')})`,
        );
      }
    }
    if (!ctx.benchmark && !have.has('data_source')) {
      throw new ConfigError(ctx.file, '', 'no "data_source" column: pass --benchmark <id>');
    }
    const mapping = mergeMapping('verl-parquet', ctx.benchmark, ctx.mapping);
    const template = mapping.idTemplate ?? '{value}';
    const baseDir = dirname(ctx.path);
    return rows.map(
      (row, i): SourceRow => ({
        row: i + 1,
        async convert() {
          let benchmark = ctx.benchmark;
          if (!benchmark) {
            const ds = row.data_source;
            if (isEmpty(ds)) throw new RowError('data_source', 'is empty: pass --benchmark <id>');
            benchmark = ctx.catalog.find(scalarText(ds, 'data_source')) ?? null;
            if (!benchmark) {
              throw new RowError(
                'data_source',
                `"${String(ds)}" is not a benchmark id of the catalog: pass --benchmark <id>`,
              );
            }
          }
          const index = getPath(row, 'extra_info.index');
          const id = itemId(isEmpty(index) ? '{file}-{row}' : template, {
            ...(isEmpty(index) ? {} : { value: scalarText(index, 'extra_info.index') }),
            row: i + 1,
            benchmark: benchmark.id,
            file: ctx.file,
          });
          const q = getPath(row, 'extra_info.question');
          if (isEmpty(q)) throw new RowError('extra_info.question', 'question is missing');
          const raw = scalarText(q, 'extra_info.question');
          const question = (mapping.stripImageTokens ?? true) ? stripImageTokens(raw) : raw.trim();
          if (!question) throw new RowError('extra_info.question', 'question is empty');
          const prompt = readPrompt(row.prompt);
          const gt = getPath(row, 'reward_model.ground_truth');
          if (isEmpty(gt)) throw new RowError('reward_model.ground_truth', 'ground truth is missing');
          const answers = toList(gt, 'reward_model.ground_truth').filter((a) => a.trim() !== '');
          if (answers.length === 0) throw new RowError('reward_model.ground_truth', 'ground truth is empty');
          const images: ImageRef[] = await cellImages(
            row.images,
            { store: ctx.store, baseDir, limits: ctx.limits, encoding: 'path' },
            'images',
          );
          const extra: Record<string, unknown> = {};
          const keep: Array<[string, string]> = [
            ['data_source', 'data_source'],
            ['ability', 'ability'],
            ['split', 'extra_info.split'],
            ['reward_style', 'reward_model.style'],
          ];
          for (const [key, path] of keep) {
            const v = getPath(row, path);
            if (!isEmpty(v)) extra[key] = jsonSafe(v, path);
          }
          const parsed = Item.safeParse({
            id,
            benchmark: benchmark.id,
            question,
            images,
            answers,
            answerType: mapping.answerType ?? answerTypeFor(benchmark.answerType, answers),
            extra,
            prompt,
          });
          if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new RowError(issue?.path.join('.') || null, issue?.message ?? 'not a valid item');
          }
          return { item: parsed.data, idField: 'extra_info.index' };
        },
      }),
    );
  },
};
