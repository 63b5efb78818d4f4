import type { Command } from '../command.js';

export const kill: Command = {
  name: 'kill',
  describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
  usage: '<container-id> [signal]',
  flags: {
    all: { type: 'boolean', alias: 'a', describe: 'send the specified signal to all processes inside the container' },
  },
  stopAtPositional: true,
  args: { min: 1, max: 2 },
  async run(ctx, p) {
    const { killContainer } = await import('../../container/kill.js');
    await killContainer(ctx, p.positionals[0]!, p.positionals[1], Boolean(p.flags.all));
  },
};
