import { parseSignal } from '../plan/signals.js';
import { notRunning } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { containerDir, load } from './state-store.js';
import { deriveStatus } from './status.js';
import { signalAll, signalInit } from './signal.js';

export async function killContainer(env: RuntimeEnv, id: string, signal: string | undefined, all: boolean): Promise<void> {
  validateId(id);
  const sig = parseSignal(signal ?? 'SIGTERM');
  await withLock(containerDir(env.root, id), async () => {
    const st = load(env.root, id);
    const status = deriveStatus(env.root, st);
    if (status === 'stopped' || status === 'creating') {
      if (all && status === 'stopped') return; // runc: --all on a stopped container is success
      throw notRunning();
    }
    // Without its own pid namespace the container's processes outlive the init: SIGKILL goes to all of them
    // (runc ≥ 1.2 does this even without --all).
    if (all || (st.sharedPidNs && sig === 9)) await signalAll(st, sig);
    else signalInit(st, sig);
  });
}
