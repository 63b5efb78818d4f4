/**
 * The user namespace an idmapped mount takes its id mapping from: mount_setattr(MOUNT_ATTR_IDMAP) wants an fd of
 * one whose maps are the mount's. Made here, before the container's executor starts, so that the executor never
 * forks for it: a helper executor runs the two-step plan `unshare user` → `sync idmap`; at the sync we write its
 * uid_map and gid_map (we are root outside the namespace, so no setgroups "deny" is needed) and open
 * /proc/<pid>/ns/user; then it reaches the end of its plan and exits 0. Our fd keeps the namespace alive; it goes
 * into the container executor's fd table (an `idmapUserns` entry) and is closed once that executor has started.
 */
import { closeSync, openSync } from 'node:fs';
import { errnoText, TsrunError } from '../errors.js';
import { CLONE } from '../plan/constants.js';
import { encodePlan } from '../plan/encode.js';
import { SYNC_TOKEN, type Step } from '../plan/steps.js';
import { startExecutor } from './executor.js';
import { writeIdMapFile } from './idmap.js';

const PLAN: Step[] = [
  { kind: 'unshare', cloneFlags: CLONE.NEWUSER, label: 'unshare user (for idmapped mounts)' },
  { kind: 'sync', token: SYNC_TOKEN.idmap, label: 'sync idmap: the parent writes the maps and keeps the namespace' },
];

const fail = (why: string) => new TsrunError('ERR_TSRUN_IDMAP', `cannot make the user namespace of an idmapped mount: ${why}`);

/** An O_RDONLY fd of a new user namespace with these uid_map / gid_map texts ("containerID hostID size\n" lines). */
export async function makeIdmapUserns(executorPath: string, uidMap: string, gidMap: string): Promise<number> {
  let fd = -1;
  const run = startExecutor({
    executorPath,
    plan: encodePlan({ fds: [], slots: 0, steps: PLAN }),
    stdio: ['ignore', 'ignore', 'ignore'],
    table: [],
    onSync: async () => {
      writeIdMapFile(run.pid, 'uid_map', uidMap);
      writeIdMapFile(run.pid, 'gid_map', gidMap);
      fd = openSync(`/proc/${run.pid}/ns/user`, 'r');
    },
  });
  const done = await run.done;
  await run.exit;
  if (done.kind === 'exited' && done.code === 0 && fd >= 0) return fd;
  if (fd >= 0) closeSync(fd);
  if (done.kind === 'aborted') throw done.error instanceof TsrunError ? done.error : fail(String((done.error as Error)?.message ?? done.error));
  if (done.kind === 'failed') throw fail(`${done.op}${done.path ? ` ${done.path}` : ''}: ${errnoText(done.errno)}`);
  if (done.kind === 'rejected') throw fail(`the executor rejected the plan: ${done.reason}`);
  throw fail(`the helper ended with ${done.kind === 'exited' ? `status ${done.code ?? done.signal}` : done.kind}`);
}
