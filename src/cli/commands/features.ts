import type { Command } from '../command.js';

export const features: Command = {
  name: 'features',
  describe: 'show the enabled features (runtime-spec features.md)',
  usage: '',
  flags: {},
  args: { min: 0, max: 0 },
  async run(ctx) {
    const { runtimeFeatures } = await import('../../container/features.js');
    // runc indents with 4 spaces and ends with a newline.
    ctx.out(JSON.stringify(runtimeFeatures(), null, 4) + '\n');
  },
};
