/**
 * delete, with runc's table (caller-contract.md §6.3): a created container is killed and removed even without
 * --force (containerd's shim relies on it); a running or paused one needs --force; a missing one is an error
 * unless --force.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { badState, isErrno, TsrunError } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { containerDir, load, remove, STATE_FILE } from './state-store.js';
import { deriveStatus } from './status.js';
import { signalAll, signalInit, waitInitGone } from './signal.js';
import { destroy } from './destroy.js';
import { setFrozen } from '../linux/cgroups/fs.js';

export async function deleteContainer(env: RuntimeEnv, id: string, force: boolean): Promise<void> {
  validateId(id);
  const dir = containerDir(env.root, id);
  await withLock(dir, async () => {
    let st;
    try {
      st = load(env.root, id);
    } catch (e) {
      // A directory without state.json is debris from a create killed early: remove it either way (runc does).
      if (e instanceof TsrunError && e.code === 'ERR_TSRUN_NOT_EXIST') {
        if (existsSync(dir) && !existsSync(join(dir, STATE_FILE))) remove(env.root, id);
        if (force) return;
      }
      if (force && e instanceof TsrunError && e.code === 'ERR_TSRUN_STATE_CORRUPT') {
        // Without a readable state there is no pid or cgroup to act on: say what may be left, then drop the record.
        env.log.warn(`${e.message}: removing ${dir} only; the container's processes and cgroups, if any, are not known and are left as they are`);
        remove(env.root, id);
        return;
      }
      throw e;
    }
    const status = deriveStatus(env.root, st);
    env.log.phase?.(`delete: lock, load, status ${status}`);
    switch (status) {
      case 'stopped':
        break;
      case 'created':
        signalInit(st, 9);
        await waitInitGone(st, 10_000);
        break;
      case 'creating':
      case 'running':
      case 'paused':
        if (!force) throw badState(`cannot delete container ${id} that is not stopped: ${status}`);
        if (status === 'paused') await setFrozen(st.cgroup.paths, false).catch(() => {});
        if (st.sharedPidNs) await signalAll(st, 9);
        else signalInit(st, 9);
        if (st.pid > 0 && !(await waitInitGone(st, 10_000))) throw badState('container init still running');
        break;
    }
    env.log.phase?.('delete: init gone');
    try {
      await destroy(env, st, { runPoststop: true });
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
  });
}
