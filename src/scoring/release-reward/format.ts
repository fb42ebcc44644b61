import { pyStrip } from './py.ts';

/**
 * The release reward manager's format reward (added to the function's reward in training,
 * recorded but not used as the validation reward): 0 for a well-formed trajectory, -1
 * otherwise. Well-formed means: at least one closed `<search>`, `<answer>` or
 * `<information>` block; as many `<answer>` as `</answer>` and as many `<information>` as
 * `</information>`; exactly one closed answer block and at least one closed search block;
 * every search of the form `Model@@Skill:input` with a known model and skill name and no
 * template words, or of the old form `LLM:query` with exactly one ':' and a query that is
 * neither empty nor contains the LLM part.
 */

/** The release's model-name matching: the canonical model name, or "" when unknown. */
export function releaseModelName(name: string): string {
  const n = pyStrip(name).toLowerCase();
  const rules: Array<[boolean, string]> = [
    [n.includes('chart-r1'), 'Chart-R1'],
    [n.includes('glm-4.6v'), 'GLM-4.6V-Flash'],
    [n.includes('qwen3-vl'), 'qwen3-VL-8B-Instruct'],
    [n.includes('qwen3.5-9b') || n.includes('qwen35-9b'), 'Qwen3.5-9B'],
    [n.includes('intern-s1-mini'), 'Intern-S1-mini'],
    [n.includes('medgemma-1.5-4b'), 'medgemma-1.5-4b-it'],
    [n.includes('step3'), 'Step3-VL-10B'],
  ];
  return rules.find(([hit]) => hit)?.[1] ?? '';
}

/** Skill names the release accepts verbatim (lower case, with '_', '-' or no separator). */
const SKILL_ALIASES: Array<[string, string]> = [
  ...[
    'Geometric_Problem_Solver',
    'Chart_Problem_Solver',
    'Science_Problem_Solver',
    'Counting_Problem_Solver',
    'Perception_Problem_Solver',
    'Perception_Problem_Solver_Eval',
    'Code_Problem_Solver',
    'ERQA_Trajectory_Outcome_Solver',
    'ERQA_Action_Adjustment_Solver',
    'ERQA_Spatial_Mechanics_Solver',
    'ERQA_Pointing_Localization_Solver',
    'ERQA_Multi_View_Task_Solver',
    'Embodied_Scene_QA_Skill',
    'ERQA_Embodied_Scene_QA_Skill',
    'Compositional_Visual_Reasoning_Skill',
    'clevr_problem_solver',
    'CLEVR_Master_Router_Skill',
    'OCRBench_Text_Recognition_Skill',
    'OCRBench_Key_Information_Extraction_Skill',
    'OCRBench_Scene_Text_QA_Skill',
    'OCRBench_Document_Chart_QA_Skill',
    'OCRBench_Formula_Recognition_Skill',
    'ocr_problem_solver',
    'OCRBench_Master_Router_Skill',
    'Diagram_Reasoning_Skill',
  ].map((name): [string, string] => [name.toLowerCase(), name]),
  ['diagram_reasoning_router_skill', 'Diagram_Reasoning_Skill'],
  ['vlmsareblind_master_router_skill', 'Diagram_Reasoning_Skill'],
];

const EXACT_SKILLS = new Map<string, string>(
  SKILL_ALIASES.flatMap(([base, canonical]) => [
    [base, canonical],
    [base.replaceAll('_', '-'), canonical],
    [base.replaceAll('_', ''), canonical],
  ]),
);

/** Keyword fallbacks, in the release's order: every listed word must occur. */
const SKILL_KEYWORDS: Array<[string[][], string]> = [
  [[['geometric'], ['solver']], 'Geometric_Problem_Solver'],
  [[['chart'], ['solver']], 'Chart_Problem_Solver'],
  [[['science'], ['solver']], 'Science_Problem_Solver'],
  [[['count'], ['solver']], 'Counting_Problem_Solver'],
  [[['perception'], ['solver']], 'Perception_Problem_Solver'],
  [[['code', 'python', 'generator']], 'Code_Problem_Solver'],
  [[['trajectory']], 'ERQA_Trajectory_Outcome_Solver'],
  [[['action']], 'ERQA_Action_Adjustment_Solver'],
  [[['spatial']], 'ERQA_Spatial_Mechanics_Solver'],
  [[['point']], 'ERQA_Pointing_Localization_Solver'],
  [[['embodied'], ['skill']], 'Embodied_Scene_QA_Skill'],
  [[['compositional'], ['reasoning'], ['skill']], 'Compositional_Visual_Reasoning_Skill'],
  [[['clevr'], ['problem'], ['solver']], 'clevr_problem_solver'],
  [[['clevr'], ['router']], 'CLEVR_Master_Router_Skill'],
  [[['ocr'], ['problem'], ['solver']], 'ocr_problem_solver'],
  [[['ocrbench'], ['router']], 'OCRBench_Master_Router_Skill'],
  [[['diagram'], ['reason'], ['skill']], 'Diagram_Reasoning_Skill'],
  [[['vlmsareblind'], ['router']], 'Diagram_Reasoning_Skill'],
  [[['ocrbench'], ['formula']], 'OCRBench_Formula_Recognition_Skill'],
  [[['ocrbench'], ['key', 'information']], 'OCRBench_Key_Information_Extraction_Skill'],
  [[['ocrbench'], ['scene']], 'OCRBench_Scene_Text_QA_Skill'],
  [[['ocrbench'], ['document', 'chart']], 'OCRBench_Document_Chart_QA_Skill'],
  [[['ocrbench'], ['text']], 'OCRBench_Text_Recognition_Skill'],
  [[['ocr']], 'ocr'],
  [[['multi', 'task']], 'ERQA_Multi_View_Task_Solver'],
];

/** The release's skill-name matching: the canonical skill name, or "" when unknown. */
export function releaseSkillName(name: string): string {
  const n = pyStrip(name).toLowerCase();
  const exact = EXACT_SKILLS.get(n);
  if (exact) return exact;
  for (const [groups, canonical] of SKILL_KEYWORDS) {
    // Each group is a set of alternatives; every group needs one of its words.
    if (groups.every((words) => words.some((w) => n.includes(w)))) {
      if (canonical === 'Perception_Problem_Solver' && n.includes('eval'))
        return 'Perception_Problem_Solver_Eval';
      return canonical;
    }
  }
  return '';
}

type SearchCheck = 'ok' | 'query' | 'name';

function checkNewForm(content: string): SearchCheck {
  const colon = content.indexOf(':');
  const modelSkill = pyStrip(content.slice(0, colon));
  const input = pyStrip(content.slice(colon + 1));
  const at = modelSkill.indexOf('@@');
  if (at < 0) return 'query';
  const model = pyStrip(modelSkill.slice(0, at));
  const skill = pyStrip(modelSkill.slice(at + 2));
  const badName = releaseModelName(model) === '' || releaseSkillName(skill) === '';
  if (!model || !skill || !input) return 'query';
  const template =
    model.toLowerCase().includes('model-name') ||
    skill.toLowerCase().includes('skill-name') ||
    input.toLowerCase().includes('your-input');
  if (template) return 'query';
  return badName ? 'name' : 'ok';
}

function checkOldForm(content: string): SearchCheck {
  const parts = content.split(':');
  if (parts.length !== 2) return 'query';
  const lower = pyStrip(content).toLowerCase();
  const query = pyStrip(parts[1]!);
  const bad =
    query === '' ||
    lower.includes('llm-name') ||
    lower.includes('your-query') ||
    query.toLowerCase().includes(pyStrip(parts[0]!).toLowerCase());
  return bad ? 'query' : 'ok';
}

function checkSearch(content: string): SearchCheck {
  if (content.includes('@@') && content.includes(':')) return checkNewForm(content);
  if (content.includes(':')) return checkOldForm(content);
  return 'query';
}

/** Python's str.count for a non-empty `sub`: occurrences that do not overlap, from the left. */
function count(s: string, sub: string): number {
  let n = 0;
  for (let at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length)) n++;
  return n;
}

/** The release's compute_format_reward: 0 or -1. */
export function releaseFormatReward(completion: string): number {
  const blocks = [...completion.matchAll(/<(search|answer|information)>([\s\S]*?)<\/\1>/g)];
  if (blocks.length === 0) return -1;
  if (count(completion, '<answer>') !== count(completion, '</answer>')) return -1;
  if (count(completion, '<information>') !== count(completion, '</information>')) return -1;
  let searches = 0;
  let answers = 0;
  let query = false;
  let name = false;
  for (const block of blocks) {
    if (block[1] === 'answer') answers++;
    if (block[1] !== 'search') continue;
    searches++;
    const check = checkSearch(pyStrip(block[2] ?? ''));
    if (check === 'query') query = true;
    if (check === 'name') name = true;
  }
  if (answers !== 1 || searches < 1) return -1;
  return query || name ? -1 : 0;
}
