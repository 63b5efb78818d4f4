import type { Command } from '../command.js';
import { usage } from '../../errors.js';

export const list: Command = {
  name: 'list',
  describe: 'lists containers started by tsrun with the given root',
  usage: '',
  flags: {
    format: { type: 'string', alias: 'f', describe: 'select one of: table or json', default: 'table' },
    quiet: { type: 'boolean', alias: 'q', describe: 'display only container IDs' },
  },
  args: { min: 0, max: 0 },
  async run(ctx, p) {
    const { listContainers, formatTable } = await import('../../container/query.js');
    const format = String(p.flags.format);
    if (format !== 'table' && format !== 'json') throw usage(`invalid format option: ${format}`, 'use table or json');
    const states = listContainers(ctx);
    if (p.flags.quiet) {
      ctx.out(states.map((s) => s.id + '\n').join(''));
    } else if (format === 'json') {
      ctx.out(JSON.stringify(states.length ? states : null) + '\n');
    } else {
      ctx.out(formatTable(states));
    }
  },
};
