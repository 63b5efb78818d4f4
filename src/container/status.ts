/**
 * Live status, derived from the kernel on every read (runc refreshState): never trusted from state.json.
 *   creating — the `tsrun create` building it is still alive;
 *   stopped  — the init is gone, a zombie, or its pid was reused (start time differs);
 *   paused   — the freezer says frozen;
 *   created  — the exec fifo still exists (the init blocks on it until `start`);
 *   running  — otherwise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isSameLiveProcess } from '../linux/proc.js';
import { freezerState } from '../linux/cgroups/fs.js';
import { EXEC_FIFO, containerDir, type StoredState } from './state-store.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export function deriveStatus(root: string, st: StoredState): Status {
  if (st.recorded === 'creating') {
    if (st.creator && isSameLiveProcess(st.creator.pid, st.creator.startTime)) return 'creating';
    return 'stopped';
  }
  if (!isSameLiveProcess(st.pid, st.startTime)) return 'stopped';
  const fz = freezerState(st.cgroup.paths);
  if (fz === 'FROZEN' || fz === 'FREEZING') return 'paused';
  if (existsSync(join(containerDir(root, st.id), EXEC_FIFO))) return 'created';
  return 'running';
}

/** The OCI state object as runc prints it (caller-contract.md §10.1); pid 0 when stopped. */
export function ociState(root: string, st: StoredState, status: Status = deriveStatus(root, st)) {
  return {
    ociVersion: st.ociVersion,
    id: st.id,
    pid: status === 'stopped' ? 0 : st.pid,
    status,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    owner: st.owner,
    ...(st.annotations && Object.keys(st.annotations).length ? { annotations: st.annotations } : {}),
  };
}
