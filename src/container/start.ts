import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { badState } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { containerDir, EXEC_FIFO, load, save } from './state-store.js';
import { deriveStatus, ociState } from './status.js';
import { releaseFifo } from './fifo.js';
import { isSameLiveProcess } from '../linux/proc.js';
import { runHooks } from './hooks.js';

export async function startContainer(env: RuntimeEnv, id: string): Promise<void> {
  validateId(id);
  const dir = containerDir(env.root, id);
  await withLock(dir, async () => {
    const st = load(env.root, id);
    const status = deriveStatus(env.root, st);
    // runc's sentences (caller-contract.md §6.1).
    if (status === 'stopped') throw badState('cannot start a container that has stopped');
    if (status === 'running') throw badState('cannot start an already running container');
    if (status !== 'created') throw badState(`cannot start a container in the ${status} state`);
    const fifo = join(dir, EXEC_FIFO);
    env.log.phase?.('start: lock, load, status');
    await releaseFifo(fifo, () => isSameLiveProcess(st.pid, st.startTime));
    env.log.phase?.('start: fifo released');
    unlinkSync(fifo); // from now on the status derives as running
    st.recorded = 'running';
    save(env.root, st);
    if (st.hooks.poststart?.length) {
      try {
        await runHooks('poststart', st.hooks.poststart, JSON.stringify(ociState(env.root, st, 'running')));
      } catch (e) {
        env.log.warn((e as Error).message);
      }
    }
  });
}
