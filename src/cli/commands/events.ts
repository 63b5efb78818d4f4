import type { Command } from '../command.js';

export const events: Command = {
  name: 'events',
  describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  usage: '<container-id>',
  flags: {
    interval: { type: 'string', describe: 'set the stats collection interval', default: '5s' },
    stats: { type: 'boolean', describe: "display the container's stats then exit" },
  },
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { containerEvents, parseDuration } = await import('../../container/events.js');
    await containerEvents(ctx, p.positionals[0]!, { stats: Boolean(p.flags.stats), intervalMs: parseDuration(String(p.flags.interval)) });
  },
};
