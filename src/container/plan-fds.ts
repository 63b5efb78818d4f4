import { closeSync, openSync, constants as C } from 'node:fs';
import { TsrunError, errnoText } from '../errors.js';
import type { Plan } from '../plan/steps.js';

/** An fd we hold open for the executor but do not own (console socket, seccomp listener): passed, never closed here. */
export interface PassedFd { fd: number }

export interface PlanFdSources {
  /** The console socket connection (process.terminal with --console-socket, or our own pty's peer). */
  console?: PassedFd;
  /** The seccomp agent's socket (a NOTIFY filter with listenerPath). */
  listener?: PassedFd;
  /** The --log file's fd. */
  logFd(): number;
  /** The user namespaces of idmapped mounts, by fd-table index (made beforehand: makeIdmapUsernses). */
  idmapUserns?: ReadonlyMap<number, number>;
  /** Turns an open(2) failure of a 'path' source into the caller's error (exec: a vanished /proc/<pid>/ns file
   *  means the container stopped); undefined → the generic "open PATH (what): reason". */
  onOpenError?(path: string, e: NodeJS.ErrnoException): TsrunError | undefined;
}

/**
 * Open the plan's fd table, in order: entry i of the result is fd i of the table the executor receives. Node opens
 * every fd O_CLOEXEC, so nothing here leaks into anything but the executor, which gets them by explicit stdio slots.
 * On any failure the fds opened so far are closed and nothing is left open.
 */
export function openPlanFds(plan: Plan, src: PlanFdSources): number[] {
  const fds: number[] = [];
  try {
    for (const [i, f] of plan.fds.entries()) {
      if (f.kind === 'idmapUserns') {
        const fd = src.idmapUserns?.get(i);
        if (fd === undefined) throw new TsrunError('ERR_TSRUN_IDMAP', `the plan needs ${f.what} but it was not made`);
        fds.push(fd);
      } else if (f.kind === 'consoleSocket') {
        if (!src.console) throw new TsrunError('ERR_TSRUN_CONSOLE', 'the plan needs a console socket but none was given');
        fds.push(src.console.fd);
      } else if (f.kind === 'log') {
        fds.push(src.logFd());
      } else if (f.kind === 'seccompListener') {
        if (!src.listener) throw new TsrunError('ERR_TSRUN_SECCOMP', 'the plan needs the seccomp listener socket but it is not connected');
        fds.push(src.listener.fd);
      } else {
        const flags = f.flags === 'dir' ? C.O_RDONLY | C.O_DIRECTORY : f.flags === 'write' ? C.O_WRONLY : C.O_RDONLY;
        try {
          fds.push(openSync(f.path, flags));
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          const mapped = src.onOpenError?.(f.path, err);
          if (mapped) throw mapped;
          const errno = Math.abs(err.errno ?? 0);
          throw new TsrunError('ERR_TSRUN_OPEN', `open ${f.path} (${f.what}): ${errno ? errnoText(errno) : err.message}`, { cause: e });
        }
      }
    }
  } catch (e) {
    closeOwned(plan, fds);
    throw e;
  }
  return fds;
}

/**
 * Close the fds we opened for a plan's fd table (kind 'path'); the log's, the console's and the caller's are not
 * ours to close. Kept apart from create.ts so exec does not load create's dependencies.
 */
export function closeOwned(plan: Plan, fds: number[]): void {
  fds.forEach((fd, i) => {
    if (plan.fds[i]?.kind === 'path') try { closeSync(fd); } catch { /* already closed */ }
  });
}

/**
 * Make the user namespaces the plan's `idmapUserns` entries ask for (one helper executor each), by fd-table index.
 * The caller closes them once the executor has them (the namespace lives on in the idmapped mounts). On a failure
 * the ones made so far are closed.
 */
export async function makeIdmapUsernses(plan: Plan, executorPath: string): Promise<Map<number, number>> {
  const made = new Map<number, number>();
  const wanted = plan.fds.flatMap((f, i) => (f.kind === 'idmapUserns' ? [{ i, f }] : []));
  if (!wanted.length) return made;
  const { makeIdmapUserns } = await import('../linux/idmap-userns.js');
  try {
    for (const { i, f } of wanted) made.set(i, await makeIdmapUserns(executorPath, f.uidMap, f.gidMap));
  } catch (e) {
    closeAll(made);
    throw e;
  }
  return made;
}

export function closeAll(fds: ReadonlyMap<number, number>): void {
  for (const fd of fds.values()) try { closeSync(fd); } catch { /* already closed */ }
}
