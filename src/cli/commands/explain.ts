import type { Command } from '../command.js';

export const explain: Command = {
  name: 'explain',
  describe: 'print the setup plan tsrun would carry out for a bundle, without running anything',
  usage: '[container-id]',
  flags: {
    bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory, defaults to the current directory' },
    'show-env': { type: 'boolean', describe: 'show environment values (hidden by default)' },
    json: { type: 'boolean', describe: 'print the plan as JSON' },
  },
  args: { min: 0, max: 1 },
  async run(ctx, p) {
    const { explainBundle } = await import('../../container/explain.js');
    ctx.out(explainBundle(ctx, {
      bundle: String(p.flags.bundle ?? '.'), id: p.positionals[0] ?? 'explain',
      showEnv: Boolean(p.flags['show-env']), json: Boolean(p.flags.json),
    }));
  },
};
