import type { Context } from './context.js';
import type { FlagTable, Parsed } from './flags.js';

/** One subcommand: its flags and a handler that loads what it needs lazily. Registered only when it works. */
export interface Command {
  name: string;
  describe: string;
  /** Positional part of the usage line, e.g. "<container-id>". */
  usage: string;
  flags: FlagTable;
  /** exec, kill, ps: stop flag parsing at the first positional (runc SkipArgReorder). */
  stopAtPositional?: boolean;
  /** Exactly/at least this many positionals; errors use runc's wording. */
  args: { min: number; max?: number };
  run(ctx: Context, p: Parsed): Promise<number | void>;
}

/** runc's checkArgs wording: `"state" requires exactly 1 argument(s)`. */
export function checkArgs(cmd: Command, n: number): string | undefined {
  const { min, max } = cmd.args;
  if (max === min && n !== min) return `"${cmd.name}" requires exactly ${min} argument(s)`;
  if (n < min) return `"${cmd.name}" requires a minimum of ${min} argument(s)`;
  if (max !== undefined && n > max) return `"${cmd.name}" requires a maximum of ${max} argument(s)`;
  return undefined;
}
