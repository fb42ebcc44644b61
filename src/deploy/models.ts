/**
 * infra/models.yaml: what the registry does not say about serving a model: where its
 * weights come from, which GPU of a host it gets, and extra vLLM arguments. Names, served
 * model names and ports always come from the registry.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { parseWith, readYamlFile } from '../core/yaml-file.ts';

export const ServerSettings = z
  .object({
    /** `--model` of vLLM: a Hugging Face repo id or a path (e.g. under /models). */
    weights: z.string().min(1),
    /** GPU index on its host. Servers given the same index share the GPU (memory split evenly). */
    gpu: z.number().int().nonnegative().optional(),
    /** Extra vLLM arguments for this server, after the defaults. */
    args: z.array(z.string()).default([]),
  })
  .strict();
export type ServerSettings = z.infer<typeof ServerSettings>;

export const ModelsFile = z
  .object({
    version: z.literal(1).default(1),
    /** vLLM container image. */
    image: z.string().default('vllm/vllm-openai:latest'),
    /** Arguments every vLLM server gets (the release starts them with `--max-num-seqs 512`). */
    args: z.array(z.string()).default(['--max-num-seqs', '512']),
    /** Share of GPU memory one server may use; split evenly when servers share a GPU. */
    gpuMemory: z.number().gt(0).max(1).default(0.9),
    /** Per registry name (policy, expert or service). */
    servers: z.record(z.string(), ServerSettings).default({}),
  })
  .strict();
export type ModelsFile = z.infer<typeof ModelsFile>;

export function loadModels(file: string): ModelsFile {
  return parseWith(ModelsFile, readYamlFile(file), file);
}

/** Settings of one server, or an error telling where to add them. */
export function serverSettings(models: ModelsFile, name: string, file: string): ServerSettings {
  const found = models.servers[name];
  if (!found) {
    throw new ConfigError(
      file,
      `servers.${name}`,
      `no weights for "${name}", which the registry serves locally`,
      {
        hint: `add "${name}: { weights: <hf repo id or /models/path> }" under servers:`,
      },
    );
  }
  return found;
}
