import type { Command } from '../command.js';
import { TsrunError } from '../../errors.js';

const str = (v: unknown) => (v === undefined || v === '' ? undefined : String(v));
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

/** runc exec.go: every flag runc has; the LSM and pidfd ones are refused with a clear error (container/exec.ts). */
export const exec: Command = {
  name: 'exec',
  describe: 'execute new process inside the container',
  usage: '<container-id> <command> [command options]  || -p process.json <container-id>',
  flags: {
    'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
    'pidfd-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process (not supported yet)' },
    cwd: { type: 'string', describe: 'current working directory in the container' },
    env: { type: 'array', alias: 'e', describe: 'set environment variables' },
    tty: { type: 'boolean', alias: 't', describe: 'allocate a pseudo-TTY' },
    user: { type: 'string', alias: 'u', describe: 'UID (format: <uid>[:<gid>])' },
    'additional-gids': { type: 'array', alias: 'g', describe: 'additional gids' },
    process: { type: 'string', alias: 'p', describe: 'path to the process.json' },
    detach: { type: 'boolean', alias: 'd', describe: 'detach from the container\'s process' },
    'pid-file': { type: 'string', describe: 'specify the file to write the process id to' },
    'process-label': { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' },
    apparmor: { type: 'string', describe: 'set the apparmor profile for the process' },
    'no-new-privs': { type: 'boolean', describe: 'set the no new privileges value for the process' },
    cap: { type: 'array', alias: 'c', describe: 'add a capability to the bounding set for the process' },
    'preserve-fds': { type: 'number', describe: 'pass N additional file descriptors to the container (stdio + N in total)', default: 0 },
    cgroup: { type: 'array', describe: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
    'ignore-paused': { type: 'boolean', describe: 'allow exec in a paused container' },
  },
  // `exec ID sh -c x`: everything after the id is the command, flags included.
  stopAtPositional: true,
  args: { min: 1 },
  async run(ctx, p) {
    const f = p.flags;
    const { execContainer } = await import('../../container/exec.js');
    try {
      return await execContainer(ctx, {
        id: p.positionals[0]!,
        args: p.positionals.slice(1),
        ...(str(f.process) ? { processFile: str(f.process)! } : {}),
        ...(str(f.cwd) ? { cwd: str(f.cwd)! } : {}),
        env: list(f.env),
        tty: Boolean(f.tty),
        ...(f.user !== undefined ? { user: String(f.user) } : {}),
        additionalGids: list(f['additional-gids']),
        caps: list(f.cap),
        ...(f['no-new-privs'] !== undefined ? { noNewPrivs: Boolean(f['no-new-privs']) } : {}),
        ...(str(f.apparmor) ? { apparmor: str(f.apparmor)! } : {}),
        ...(str(f['process-label']) ? { processLabel: str(f['process-label'])! } : {}),
        preserveFds: Number(f['preserve-fds'] ?? 0),
        cgroup: list(f.cgroup),
        ignorePaused: Boolean(f['ignore-paused']),
        detach: Boolean(f.detach),
        ...(str(f['pid-file']) ? { pidFile: str(f['pid-file'])! } : {}),
        ...(str(f['console-socket']) ? { consoleSocket: str(f['console-socket'])! } : {}),
        ...(str(f['pidfd-socket']) ? { pidfdSocket: str(f['pidfd-socket'])! } : {}),
      });
    } catch (e) {
      // runc: fatalWithCode(fmt.Errorf("exec failed: %w", err), 255)
      const x = e as NodeJS.ErrnoException;
      const inner = e instanceof TsrunError ? e : new TsrunError('ERR_TSRUN_INTERNAL',
        x?.code && x.syscall ? `${x.syscall}${x.path ? ' ' + x.path : ''}: ${x.message.replace(/^[A-Z]+: /, '')}` : String(x?.message ?? e), { cause: e });
      const out = new TsrunError(inner.code, `exec failed: ${inner.message}`, { ...(inner.hint ? { hint: inner.hint } : {}), cause: inner.cause ?? inner });
      out.exitCode = 255;
      throw out;
    }
  },
};
