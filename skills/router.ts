import { normalizeName } from '../src/core/registry.ts';
import { classifyPrompt, clip, parseOption } from './evidence.ts';
import type { SkillContext, SkillDefinition, SkillImplementation } from './types.ts';

/** A routing rule: when the pattern matches the question (and the planner's input), pick the solver. */
export interface RouteRule {
  solver: string;
  pattern: RegExp;
  /** Applies only to items with at least this many images. */
  minImages?: number;
  why: string;
}

export interface RouterSpec extends Omit<SkillDefinition, 'level' | 'services'> {
  solvers: string[];
  rules: RouteRule[];
  /** Solver used when no rule matches and classification gives nothing usable. */
  fallback: string;
}

/**
 * Picks a solver: the first rule that matches (among the solvers the registry entry
 * lists, so YAML can add or drop solvers), else a classification call to the expert over
 * the solvers' descriptions, else the fallback.
 */
export async function chooseSolver(
  ctx: SkillContext,
  spec: RouterSpec,
): Promise<{ solver: string; why: string }> {
  const listed = ctx.skill?.solvers.length ? ctx.skill.solvers : spec.solvers;
  const offered = new Map(listed.map((s) => [normalizeName(s), s]));
  const text = `${ctx.item.question}\n${ctx.input}`;
  for (const rule of spec.rules) {
    const solver = offered.get(normalizeName(rule.solver));
    if (!solver) continue;
    if ((rule.minImages ?? 0) > ctx.images.length) continue;
    if (rule.pattern.test(text)) return { solver, why: `rule: ${rule.why}` };
  }
  const names = [...offered.values()];
  const fallback = offered.get(normalizeName(spec.fallback)) ?? names[0] ?? spec.fallback;
  if (names.length > 1 && ctx.callsLeft() > 1) {
    const lines = names.map((n) => `- ${n}: ${ctx.registry.findSkill(n)?.description || n}`);
    const reply = await ctx.ask({
      system: 'You pick the specialist best suited to a visual question. Do not answer the question.',
      text: `Question: ${clip(ctx.item.question, 600)}\n\nSpecialists:\n${lines.join('\n')}\n\n${classifyPrompt(names)}`,
      note: 'route: classify the question',
      maxTokens: 24,
      temperature: 0,
    });
    const picked = parseOption(reply.text, names);
    if (picked) return { solver: picked, why: 'classified by the expert' };
    return { solver: fallback, why: `classification unclear ("${clip(reply.text, 30)}"), default solver` };
  }
  return { solver: fallback, why: 'no rule matched, default solver' };
}

/** A Level-1 router skill over Level-2 solvers. */
export function defineRouter(spec: RouterSpec): SkillImplementation {
  return {
    id: spec.id,
    name: spec.name,
    level: 1,
    description: spec.description,
    services: [],
    solvers: spec.solvers,
    async run(ctx) {
      const { solver, why } = await chooseSolver(ctx, spec);
      ctx.note(`routed to ${solver} (${why})`);
      const out = await ctx.solve(solver);
      return { text: `[${ctx.skill?.name ?? spec.name} → ${solver}]\n${out.text}` };
    },
  };
}
