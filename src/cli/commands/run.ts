import type { Command } from '../command.js';
import { CREATE_FLAGS, createOptions } from './create.js';

export const run: Command = {
  name: 'run',
  describe: 'create and run a container',
  usage: '<container-id>',
  flags: {
    ...CREATE_FLAGS,
    detach: { type: 'boolean', alias: 'd', describe: 'detach from the container\'s process' },
    keep: { type: 'boolean', describe: 'do not delete the container after it exits' },
    'no-subreaper': { type: 'boolean', describe: 'disable the use of the subreaper used to reap reparented processes' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { runContainer } = await import('../../container/run.js');
    const { mode: _m, ...opts } = createOptions(p.flags, p.positionals[0]!, 'run');
    return runContainer(ctx, { ...opts, keep: Boolean(p.flags.keep) });
  },
};
