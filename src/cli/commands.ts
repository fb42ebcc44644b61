import type { Command } from 'commander';
import { register as benchCommands } from './bench.ts';
import type { GlobalOptions } from './context.ts';
import { register as dashboardCommands } from './dashboard.ts';
import { register as dataCommands } from './data.ts';
import { register as deployCommands } from './deploy.ts';
import { register as promptCommands } from './prompt.ts';
import { register as scoreCommands } from './score.ts';
import { register as sweepDiscardCommands } from './sweep-discard.ts';

/**
 * Commands defined in their own files. Each module exports a `register(program, ctx)`;
 * add it to this list to make its commands appear in `maestro-eval --help`.
 */
export type RegisterCommands = (program: Command, ctx: { globals: () => GlobalOptions }) => void;

export const commandModules: RegisterCommands[] = [
  dataCommands,
  scoreCommands,
  benchCommands,
  deployCommands,
  dashboardCommands,
  promptCommands,
  sweepDiscardCommands,
];
