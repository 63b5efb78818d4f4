import type { Command } from '../command.js';
import type { FlagTable } from '../flags.js';

/** Flags shared by create and run (runc create.go). */
export const CREATE_FLAGS: FlagTable = {
  bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory, defaults to the current directory' },
  'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
  'pid-file': { type: 'string', describe: 'specify the file to write the process id to' },
  'no-pivot': { type: 'boolean', describe: 'do not use pivot root to jail process inside rootfs (for ramdisk hosts)' },
  'no-new-keyring': { type: 'boolean', describe: 'do not create a new session keyring for the container' },
  'preserve-fds': { type: 'number', describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
};

export const create: Command = {
  name: 'create',
  describe: 'create a container (the process waits for `start`)',
  usage: '<container-id>',
  flags: CREATE_FLAGS,
  args: { min: 1, max: 1 },
  async run(ctx, p) {
    const { createContainer } = await import('../../container/create.js');
    await createContainer(ctx, createOptions(p.flags, p.positionals[0]!, 'create'));
  },
};

export function createOptions(f: Record<string, unknown>, id: string, mode: 'create' | 'run') {
  return {
    id,
    ...(f.bundle !== undefined ? { bundle: String(f.bundle) } : {}),
    ...(f['pid-file'] ? { pidFile: String(f['pid-file']) } : {}),
    ...(f['console-socket'] ? { consoleSocket: String(f['console-socket']) } : {}),
    noPivot: Boolean(f['no-pivot']),
    noNewKeyring: Boolean(f['no-new-keyring']),
    preserveFds: Number(f['preserve-fds'] ?? 0),
    mode,
    foreground: mode === 'run' && !f.detach,
    subreaper: !f['no-subreaper'],
  } as const;
}
