/** Signalling the container: the init alone, or every process of its cgroup. */
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameLiveProcess } from '../linux/proc.js';
import { freezerState, setFrozen } from '../linux/cgroups/fs.js';
import { allCgroupPids } from '../linux/cgroups/pids.js';
import type { StoredState } from './state-store.js';

export function signalInit(st: StoredState, sig: number): void {
  // The start-time check makes sure a recycled pid never receives our signal.
  if (!isSameLiveProcess(st.pid, st.startTime)) return;
  try {
    process.kill(st.pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Every process in the container's cgroup. A frozen v1 cgroup would hold SIGKILL back: thaw after sending. */
export async function signalAll(st: StoredState, sig: number): Promise<void> {
  const frozen = freezerState(st.cgroup.paths);
  for (const pid of allCgroupPids(st.cgroup.paths)) {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  if (frozen && frozen !== 'THAWED' && sig === 9) await setFrozen(st.cgroup.paths, false);
}

/**
 * Poll delays: every millisecond for the first 20 ms (a SIGKILLed process is usually gone in under one), then
 * a back-off. Doubling from the start made a typical `delete` sleep 3-7 ms after the process was already gone.
 */
const pollDelay = (i: number, max: number) => (i < 20 ? 1 : Math.min(2 ** (i - 19), max));

/** Wait until the init is gone (or a zombie): poll with a short back-off, up to timeoutMs. */
export async function waitInitGone(st: StoredState, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < end; i++) {
    const d = pollDelay(i, 100);
    if (!isSameLiveProcess(st.pid, st.startTime)) return true;
    await sleep(d);
  }
  return !isSameLiveProcess(st.pid, st.startTime);
}

/** Wait until the cgroup has no process left. */
export async function waitCgroupEmpty(st: StoredState, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < end; i++) {
    const d = pollDelay(i, 50);
    if (allCgroupPids(st.cgroup.paths).length === 0) return true;
    await sleep(d);
  }
  return allCgroupPids(st.cgroup.paths).length === 0;
}
