import type { Command } from '../command.js';
import { usage } from '../../errors.js';

export const ps: Command = {
  name: 'ps',
  describe: 'ps displays the processes running inside a container',
  usage: '<container-id> [ps options]',
  flags: {
    format: { type: 'string', alias: 'f', describe: 'select one of: table or json', default: 'table' },
  },
  // Everything after the id belongs to ps (`ps ID -o pid,comm`).
  stopAtPositional: true,
  args: { min: 1 },
  async run(ctx, p) {
    const { containerPids, psJson, psTable } = await import('../../container/ps.js');
    const format = String(p.flags.format);
    if (format !== 'table' && format !== 'json') throw usage('invalid format option', 'use table or json');
    const pids = containerPids(ctx, p.positionals[0]!);
    ctx.out(format === 'json' ? psJson(pids) : psTable(pids, p.positionals.slice(1)));
  },
};
