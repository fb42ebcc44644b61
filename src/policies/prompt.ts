import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Item, Step } from '../core/items.ts';
import { formatInformation } from '../core/protocol.ts';
import type { Registry } from '../core/registry.ts';

/**
 * The policy's system prompt, generated from the registry: adding experts or skills to
 * the registry changes what the policy is offered, with no code change.
 */
export function buildSystemPrompt(registry: Registry): string {
  const experts = registry.offeredExperts();
  const skills = registry.offeredSkills();
  const example = `${experts[0]?.name ?? 'MODEL'}@@${skills[0]?.name ?? 'SKILL'}`;
  return [
    'You are a router and planner. You answer a visual question by consulting expert models through skills, then give a short final answer.',
    '',
    'Available models:',
    ...experts.map((e) => `- ${e.name}: ${e.strengths || 'general'}`),
    '',
    'Available skills:',
    ...skills.map((s) => `- ${s.name}: ${s.description || s.name}`),
    '',
    'Each turn, you may think inside <think> ... </think>, then do exactly one of:',
    '1. Call one model through one skill: <search> MODEL-NAME@@SKILL-NAME: what you want to know </search>',
    `   Example: <search> ${example}: What is the value of the tallest bar? </search>`,
    '   The images are sent to the skill automatically; do not describe them in the call.',
    '   The result comes back as <information> ... </information>.',
    '2. Give the final answer: <answer> ... </answer>',
    '   The answer is short: an option letter, a number, or a few words.',
    `You have at most ${registry.maxTurns} turns.`,
  ].join('\n');
}

/** The item's question as the policy's user turn (after its images). */
export function buildUserText(item: Item): string {
  const options = item.options?.length
    ? `\n${item.options.map((o) => `${o.label}. ${o.text}`).join('\n')}`
    : '';
  return `<image>\n${item.question}${options}\n\nPlan which model and skill to use, then answer.`;
}

function imageParts(images: string[]): ChatCompletionContentPart[] {
  return images.map((url) => ({ type: 'image_url', image_url: { url } }));
}

/**
 * The full conversation for the next policy turn. Items that carry their own prompt
 * (upstream verl rows) are used as they are; otherwise the prompt is built from the registry.
 */
export function buildConversation(
  registry: Registry,
  item: Item,
  images: string[],
  steps: Step[],
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (item.prompt?.length) {
    let imagesAttached = false;
    for (const m of item.prompt) {
      if (m.role === 'user' && !imagesAttached) {
        messages.push({ role: 'user', content: [...imageParts(images), { type: 'text', text: m.content }] });
        imagesAttached = true;
      } else {
        messages.push({ role: m.role, content: m.content });
      }
    }
  } else {
    messages.push({ role: 'system', content: buildSystemPrompt(registry) });
    messages.push({
      role: 'user',
      content: [...imageParts(images), { type: 'text', text: buildUserText(item) }],
    });
  }
  for (const step of steps) {
    messages.push({ role: 'assistant', content: step.policyText });
    const feedback = step.observation ?? step.formatError ?? '';
    messages.push({ role: 'user', content: formatInformation(feedback, registry.observationChars) });
  }
  return messages;
}
