import { normalizeName } from '../src/core/registry.ts';
import { drawBoxes } from '../src/data/image-tools.ts';
import { ANSWER_RULE, clip, countTarget, describe, detect, readText, taskText, zoomIn } from './evidence.ts';
import { chooseSolver } from './router.ts';
import type { SkillContext, SkillImplementation, SkillOutput } from './types.ts';
import { questionWithOptions } from './types.ts';

/** What one listed service contributed: text for the template, maybe an extra image, maybe a note. */
interface Evidence {
  role: string;
  name: string;
  text: string;
  image?: string;
  note?: string;
}

/** Calls one service the registry skill lists (by name or role) on the item's first image. */
async function gather(ctx: SkillContext, nameOrRole: string): Promise<Evidence> {
  const service = ctx.service(nameOrRole);
  const role = service?.role ?? nameOrRole;
  const name = service?.name ?? nameOrRole;
  const failed = (why: string): Evidence => ({
    role,
    name,
    text: `(unavailable: ${clip(why, 80)})`,
    note: `${role} unavailable (${clip(why, 80)}); answered without it`,
  });
  if (!ctx.images[0]) return { role, name, text: '(no image)' };
  switch (role) {
    case 'ocr': {
      const r = await readText(ctx, 0, `ocr (${name})`);
      if (!r?.ok) return failed(r && !r.ok ? r.error : 'no result');
      return { role, name, text: clip(r.text, 1200) };
    }
    case 'caption': {
      const r = await describe(ctx, 0, `caption (${name})`);
      if (!r?.ok) return failed(r && !r.ok ? r.error : 'no result');
      return { role, name, text: clip(r.text, 800) };
    }
    case 'zoom': {
      const z = await zoomIn(ctx, 0, `zoom decision (${name})`);
      if (!z.view) return z.result && !z.result.ok ? failed(z.result.error) : { role, name, text: z.reason };
      const b = z.view.box.map((v) => Math.round(v)).join(', ');
      return { role, name, text: `region [${b}], shown enlarged as an extra image`, image: z.view.url };
    }
    case 'detection': {
      const d = await detect(ctx, countTarget(ctx.item.question), 0, `detection (${name})`);
      if (!d.boxes) return failed(d.result && !d.result.ok ? d.result.error : 'no result');
      const ref = ctx.images[0];
      const drawn = await drawBoxes(
        await ctx.tools.store.readImage(ref),
        d.boxes.map((box, i) => ({ box, label: i + 1 })),
        { space: 'pixel' },
      );
      return {
        role,
        name,
        text: `${d.boxes.length} box(es), numbered on an extra image`,
        image: await ctx.expertImage(drawn.bytes),
      };
    }
    default:
      return failed(`unknown service "${nameOrRole}"`);
  }
}

/**
 * Fills `{{name}}` placeholders: input, question, options, and each service's output by
 * role (ocr, caption, zoom, detection) or by its registry name. Unknown names become ''.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  const byKey = new Map(Object.entries(vars).map(([k, v]) => [normalizeName(k), v]));
  return template.replace(
    /\{\{\s*([A-Za-z0-9_.\- ]+?)\s*\}\}/g,
    (_m, key: string) => byKey.get(normalizeName(key)) ?? '',
  );
}

/**
 * A skill defined only by data that lists `solvers:` is a router: it picks one solver (a
 * classification call to the expert over the solvers' descriptions; the first listed solver
 * when that is unclear or the budget is short) and returns that solver's answer.
 */
async function dispatch(ctx: SkillContext, solvers: string[]): Promise<SkillOutput> {
  const name = ctx.skill?.name ?? 'router';
  const spec = { id: 'generic', name, description: '', solvers, rules: [], fallback: solvers[0]! };
  const { solver, why } = await chooseSolver(ctx, spec);
  ctx.note(`routed to ${solver} (${why})`);
  const out = await ctx.solve(solver);
  return { text: `[${name} → ${solver}]\n${out.text}` };
}

/**
 * Runs any skill defined only by data: a router when it lists solvers (see `dispatch`), else it calls the auxiliary services the registry entry
 * lists (in parallel, traced in listed order), feeds their output into the entry's
 * `prompt` template, and asks the expert once. Evidence the template does not place is
 * appended to the question.
 */
export const genericSkill: SkillImplementation = {
  id: 'generic',
  name: '',
  level: 1,
  description: 'a skill defined in the registry: its prompt template and the services it lists',
  services: [],
  async run(ctx) {
    const skill = ctx.skill;
    if (skill?.solvers.length) return dispatch(ctx, skill.solvers);
    const evidence = await Promise.all((skill?.services ?? []).map((s) => gather(ctx, s)));
    const vars: Record<string, string> = {
      input: ctx.input,
      question: ctx.item.question,
      options: (ctx.item.options ?? []).map((o) => `${o.label}. ${o.text}`).join('\n'),
      task: taskText(ctx),
    };
    for (const e of evidence) {
      vars[e.role] = e.text;
      vars[e.name] = e.text;
    }
    const template =
      skill?.prompt ??
      `You are solving a visual question with the ${skill?.name ?? 'general'} skill` +
        `${skill?.description ? ` (${skill.description})` : ''}. Reason briefly from the image(s). ${ANSWER_RULE}`;
    const system = renderTemplate(template, vars);
    const placed = (e: Evidence) =>
      new RegExp(
        `\\{\\{\\s*(${e.role}|${e.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})\\s*\\}\\}`,
        'i',
      ).test(template);
    const extra = evidence.filter((e) => !placed(e)).map((e) => `${e.role} (${e.name}): ${e.text}`);
    const asksTask = /\{\{\s*(task|question)\s*\}\}/i.test(template);
    const text = [extra.length ? `Evidence:\n${extra.join('\n')}` : '', asksTask ? '' : taskText(ctx)]
      .filter(Boolean)
      .join('\n\n');
    const images = await ctx.expertImages();
    for (const e of evidence) if (e.image) images.push(e.image);
    const res = await ctx.ask({
      system,
      text: text || questionWithOptions(ctx.item),
      images,
      note: evidence.length ? `answer with ${evidence.map((e) => e.role).join(' + ')}` : 'answer',
    });
    const notes = evidence.flatMap((e) => (e.note ? [`Note: ${e.note}`] : []));
    return { text: notes.length ? `${notes.join('\n')}\n${res.text}` : res.text };
  },
};
