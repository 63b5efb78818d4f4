import type { Command } from '../command.js';

export const resume: Command = {
  name: 'resume',
  describe: 'resumes all processes that have been previously paused',
  usage: '<container-id>',
  flags: {},
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { resumeContainer } = await import('../../container/pause.js');
    await resumeContainer(ctx, p.positionals[0]!);
  },
};
