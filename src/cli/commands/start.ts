import type { Command } from '../command.js';

export const start: Command = {
  name: 'start',
  describe: 'executes the user defined process in a created container',
  usage: '<container-id>',
  flags: {},
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { startContainer } = await import('../../container/start.js');
    await startContainer(ctx, p.positionals[0]!);
  },
};
