/**
 * --help text, rendered by yargs from the same flag tables the parser uses, so help can never disagree with
 * what is accepted. Loaded only for --help: yargs costs 20+ ms to load, more than the rest of a `state` call.
 */
import type { Command } from './command.js';
import { commands } from './commands/index.js';
import { GLOBAL_FLAGS } from './context.js';
import type { FlagTable } from './flags.js';
import { createRequire } from 'node:module';

type Y = any; // yargs' own types fight its CJS build under NodeNext; the surface used here is tiny.

function addOptions(y: Y, table: FlagTable): Y {
  for (const [name, def] of Object.entries(table)) {
    if (def.hidden) continue;
    y = y.option(name, { type: def.type, describe: def.describe, ...(def.alias ? { alias: def.alias } : {}), ...(def.default !== undefined ? { default: def.default } : {}) });
  }
  return y;
}

export async function renderHelp(cmd: Command | undefined): Promise<string> {
  const yargs = createRequire(import.meta.url)('yargs/yargs') as (a: string[]) => Y;
  let y: Y = yargs([]).scriptName('tsrun').help(false).version(false).wrap(110);
  if (cmd) {
    y = y.usage(`tsrun ${cmd.name} [command options] ${cmd.usage}\n\n${cmd.describe}`);
    y = addOptions(y, cmd.flags);
  } else {
    y = y.usage('tsrun [global options] command [command options] [arguments...]\n\nAn OCI runtime: a drop-in replacement for runc.');
    for (const c of commands) y = y.command(c.name + (c.usage ? ' ' + c.usage : ''), c.describe);
    y = addOptions(y, GLOBAL_FLAGS);
  }
  return (await y.getHelp()) + '\n';
}
