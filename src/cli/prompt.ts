import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Tokenizer } from '../policies/release-render.ts';
import { dataStore, type GlobalOptions, loadRegistryFrom, resolveEnv } from './context.ts';

/**
 * `maestro-eval prompt BENCHMARK ITEM`: prints the exact text the release-profile policy
 * reads for an item: its first step, or, with `--record`, the step after the record's last
 * (the prompt, then every kept turn and observation). Observation blocks over 1,024 tokens
 * are cut with the policy endpoint's tokenizer (`--tokenizer`); without it such a block is
 * printed whole and flagged.
 */
export function register(program: Command, ctx: { globals: () => GlobalOptions }): void {
  program
    .command('prompt <benchmark> <item>')
    .description(
      "print the release-profile policy's exact input for an item (prompt texts from MAESTRO_POLICY_PROMPT)",
    )
    .option('--record <file>', "continue from this record's steps (a records/*.json of a sweep)")
    .option('--policy-prompt <file>', "the release's verl parquet data (default MAESTRO_POLICY_PROMPT)")
    .option('--registry <files...>', 'registry files (default MAESTRO_REGISTRY or the simulated registry)')
    .option('--tokenizer', "use the registry's policy endpoint for /tokenize and /detokenize")
    .action(
      async (
        benchmark: string,
        itemId: string,
        o: { record?: string; policyPrompt?: string; registry?: string[]; tokenizer?: boolean },
      ) => {
        // Loaded here, not with the command line: the skills, the OpenAI SDK and the
        // parquet reader weigh on every other command's start-up and memory.
        const [
          { ItemRecord },
          { ImageCache },
          { loadReleasePrompt },
          { ClientCache },
          { releaseTexts },
          { continuation, releaseMessages, renderedText, userContent },
        ] = await Promise.all([
          import('../core/items.ts'),
          import('../data/images.ts'),
          import('../importers/release-prompt.ts'),
          import('../models/client.ts'),
          import('../policies/release.ts'),
          import('../policies/release-render.ts'),
        ]);
        const env = resolveEnv(ctx.globals());
        const store = dataStore(env);
        const registry = loadRegistryFrom(o.registry);
        const item = await store.item(benchmark, itemId);
        const source = o.policyPrompt ?? env.MAESTRO_POLICY_PROMPT;
        const texts = await releaseTexts(
          item,
          registry,
          source ? { releasePrompt: () => loadReleasePrompt(source) } : {},
        );
        const steps = o.record ? ItemRecord.parse(JSON.parse(readFileSync(o.record, 'utf8'))).steps : [];
        let uncut = 0;
        const tok: Tokenizer = o.tokenizer
          ? new ClientCache().get(registry.policy('maestro'))
          : {
              tokenize: async (text) => {
                uncut += 1;
                // Every block this is asked about is printed whole: one token per byte, never over the limit.
                return Array.from({ length: Math.min(Buffer.byteLength(text), 1024) }, () => 0);
              },
              detokenize: async () => '',
            };
        const images = await new ImageCache(store).dataUrls(item.images);
        const messages = releaseMessages(
          texts.system,
          userContent(texts.user, images),
          await continuation(steps, tok),
        );
        process.stdout.write(renderedText(messages));
        process.stdout.write('\n');
        console.error(
          `prompt texts: ${texts.source === 'project' ? "the project's own (no release data given)" : `${texts.source}${texts.commit ? ` (release commit ${texts.commit.slice(0, 7)})` : ''}`}`,
        );
        if (uncut > 0)
          console.error(
            `${uncut} observation block(s) over 1,024 bytes printed whole: pass --tokenizer to cut them as the policy's tokenizer would`,
          );
      },
    );
}
