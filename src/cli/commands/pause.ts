import type { Command } from '../command.js';

export const pause: Command = {
  name: 'pause',
  describe: 'pause suspends all processes inside the container',
  usage: '<container-id>',
  flags: {},
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { pauseContainer } = await import('../../container/pause.js');
    await pauseContainer(ctx, p.positionals[0]!);
  },
};
