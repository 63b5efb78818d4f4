import type { Command } from '../command.js';

export const state: Command = {
  name: 'state',
  describe: 'output the state of a container',
  usage: '<container-id>',
  flags: {},
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { containerState } = await import('../../container/query.js');
    // runc prints the object indented by two spaces with no trailing newline.
    ctx.out(JSON.stringify(containerState(ctx.root, p.positionals[0]!), null, 2));
  },
};
