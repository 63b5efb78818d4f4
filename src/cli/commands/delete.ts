import type { Command } from '../command.js';

export const del: Command = {
  name: 'delete',
  describe: 'delete any resources held by the container (often used with detached containers)',
  usage: '<container-id>',
  flags: {
    force: { type: 'boolean', alias: 'f', describe: 'forcibly deletes the container if it is still running (uses SIGKILL)' },
  },
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { deleteContainer } = await import('../../container/delete.js');
    await deleteContainer(ctx, p.positionals[0]!, Boolean(p.flags.force));
  },
};
