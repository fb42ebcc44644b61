import {
  ANSWER_RULE,
  classifyPrompt,
  clip,
  compose,
  okText,
  parseOption,
  readText,
  taskText,
  unavailable,
} from './evidence.ts';
import type { SkillImplementation } from './types.ts';

/** Chart types the skill tells apart, and how to read each. */
export const CHART_TYPES = ['bar', 'line', 'pie'] as const;
type ChartType = (typeof CHART_TYPES)[number];

const BY_TYPE: Record<ChartType, string> = {
  bar:
    'You read bar charts. Match each bar to its category on the axis and its series in the legend, read ' +
    'its height against the value axis (use gridlines and printed values), then compute what is asked.',
  line:
    'You read line charts. Follow each line by its colour or marker from the legend, read its value at the ' +
    'x positions the question names against the y axis, and compare or compute across points.',
  pie:
    'You read pie charts. Match each slice to its label, use printed percentages when present, otherwise ' +
    'estimate the angle share; slices sum to 100 %.',
};

/**
 * Chart_Problem_Solver: OCR of the chart's text and a chart-type classification (bar,
 * line, pie), then an answer with the reading instructions of that chart type.
 */
export const chartSkill: SkillImplementation = {
  id: 'chart',
  name: 'Chart_Problem_Solver',
  level: 1,
  description: 'bar, line and pie charts; reads the chart text and answers by chart type',
  services: [{ role: 'ocr' }],
  async run(ctx) {
    const ocrCall = readText(ctx);
    const kind = await ctx.ask({
      system: 'You classify charts by their type.',
      text: `What type of chart is this?\n${classifyPrompt([...CHART_TYPES])}`,
      note: 'classify chart type',
      maxTokens: 16,
      temperature: 0,
    });
    const ocr = ocrCall ? await ocrCall : null;
    const notes: string[] = [];
    let type = parseOption(kind.text, [...CHART_TYPES]) as ChartType | null;
    if (!type) {
      type = 'bar';
      notes.push(`chart type unclear ("${clip(kind.text, 40)}"), read as a bar chart`);
    }
    if (ocr && !ocr.ok) notes.push(unavailable('ocr', ocr));
    const text = okText(ocr);
    const answer = await ctx.ask({
      system: `${BY_TYPE[type]} ${ANSWER_RULE}`,
      text: `${text ? `Text read from the chart: ${clip(text, 1200)}\n\n` : ''}${taskText(ctx)}`,
      note: `answer as a ${type} chart`,
    });
    return {
      text: compose({ header: `[Chart_Problem_Solver] chart type: ${type}.`, notes, body: answer.text }),
    };
  },
};
