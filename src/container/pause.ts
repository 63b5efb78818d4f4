/** pause / resume: freeze or thaw the container's cgroup (runc Container.Pause / Resume). */
import { notRunning, TsrunError } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { containerDir, load } from './state-store.js';
import { deriveStatus } from './status.js';
import { setFrozen } from '../linux/cgroups/fs.js';

export async function pauseContainer(env: RuntimeEnv, id: string): Promise<void> {
  validateId(id);
  await withLock(containerDir(env.root, id), async () => {
    const st = load(env.root, id);
    const status = deriveStatus(env.root, st);
    // runc pauses running and created containers; anything else is "not running".
    if (status !== 'running' && status !== 'created') throw notRunning();
    await setFrozen(st.cgroup.paths, true);
  });
}

export async function resumeContainer(env: RuntimeEnv, id: string): Promise<void> {
  validateId(id);
  await withLock(containerDir(env.root, id), async () => {
    const st = load(env.root, id);
    if (deriveStatus(env.root, st) !== 'paused') throw new TsrunError('ERR_TSRUN_NOT_PAUSED', 'container not paused');
    await setFrozen(st.cgroup.paths, false);
  });
}
