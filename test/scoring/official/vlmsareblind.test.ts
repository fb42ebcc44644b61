import { describe, expect, it } from 'vitest';
import { vlmsareblindOfficial, vlmsareblindTaskMean } from '../../../src/scoring/official/vlmsareblind.ts';
import { vlmsareblindCases } from './cases/vlmsareblind.ts';
import { checkCases } from './helpers.ts';

describe('VLMs Are Blind official scorer (lmms-eval lmms_eval/tasks/vlmsareblind/utils.py)', () => {
  checkCases(vlmsareblindOfficial, vlmsareblindCases);

  it('averages per task group, both counting-grid tasks being one group (vlmsareblind_aggregate_by_task)', () => {
    const m = vlmsareblindTaskMean([
      { task: 'Counting Grid - Blank Grids', correct: true },
      { task: 'Counting Grid - Word Grids', correct: false },
      { task: 'Touching Circles', correct: true },
      { task: 'Touching Circles', correct: true },
      { task: 'Touching Circles', correct: true },
      { task: 'Touching Circles', correct: false },
    ]);
    expect(m.perTask).toEqual({ 'counting grid': 0.5, 'touching circles': 0.75 });
    expect(m.taskMean).toBeCloseTo(0.625, 12);
    expect(m.taskMeanAllTasks).toBeCloseTo(0.625, 12);
  });

  it('leaves a task with no right answer out of task_mean, as lmms-eval does, and keeps it in the all-task mean', () => {
    const m = vlmsareblindTaskMean([
      { task: 'Nested Squares', correct: true },
      { task: 'Circled Letter', correct: false },
    ]);
    expect(m.perTask).toEqual({ 'nested squares': 1, 'circled letter': 0 });
    expect(m.taskMean).toBe(1);
    expect(m.taskMeanAllTasks).toBe(0.5);
  });
});
