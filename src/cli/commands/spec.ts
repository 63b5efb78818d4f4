import type { Command } from '../command.js';

export const spec: Command = {
  name: 'spec',
  describe: 'create a new specification file (config.json) in the bundle directory',
  usage: '',
  flags: {
    bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory' },
    rootless: { type: 'boolean', describe: 'generate a configuration for a rootless container' },
  },
  args: { min: 0, max: 0 },
  async run(_ctx, p) {
    const { writeDefaultSpec } = await import('../../container/spec-file.js');
    writeDefaultSpec(String(p.flags.bundle ?? '.'), Boolean(p.flags.rootless));
  },
};
