/**
 * Tear a container down: processes, cgroups, poststop hooks, state dir. Shared by delete, run and failed creates;
 * callers make sure the init is gone first.
 *
 * Which processes are the container's (runc's destroy): with a pid namespace of its own, exactly those of that
 * namespace, and the kernel killed them all before the init could die — whatever is still in the cgroup then
 * belongs to someone else (a second container given the same cgroupsPath, a process moved in by hand) and is left
 * alone, and so is the cgroup it keeps busy (a warning, as runc logs it). Without one (the host's or a joined pid
 * namespace) nothing ends the container's other processes, so every process in the cgroup gets SIGKILL.
 */
import { destroyCgroups } from '../linux/cgroups/fs.js';
import { allCgroupPids } from '../linux/cgroups/pids.js';
import { TsrunError } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { runHooks } from './hooks.js';
import { remove, type StoredState } from './state-store.js';
import { ociState } from './status.js';
import { signalAll, waitCgroupEmpty } from './signal.js';

export async function destroy(env: RuntimeEnv, st: StoredState, opts: { runPoststop: boolean }): Promise<void> {
  const hasCgroup = Object.keys(st.cgroup.paths).length > 0;
  if (hasCgroup && st.sharedPidNs) {
    await signalAll(st, 9);
    await waitCgroupEmpty(st, 10_000);
  }
  // systemd driver: stop the unit (gone already is fine), then remove what is left like cgroupfs (runc Destroy)
  if (st.cgroup.systemd) await (await import('../linux/cgroups/systemd.js')).stopScope(st.cgroup.systemd.unit, (m) => env.log.warn(m));
  try {
    // a private pid namespace is empty once its init is gone: only the kernel's bookkeeping can lag behind
    await destroyCgroups(st.cgroup.created, Object.values(st.cgroup.paths), st.sharedPidNs ? 10_000 : 1_000);
  } catch (e) {
    const foreign = !st.sharedPidNs && e instanceof TsrunError && e.code === 'ERR_TSRUN_CGROUP' ? allCgroupPids(st.cgroup.paths) : [];
    if (!foreign.length) throw e;
    env.log.warn(`${e instanceof Error ? e.message : e}: it holds process(es) ${foreign.join(', ')} from outside the container's pid namespace; leaving it`);
  }
  if (st.hostMounts) {
    // no mount namespace: the rootfs bind and everything under it are in the caller's namespace until now
    const warning = await (await import('../linux/host-mounts.js')).releaseContainerMounts(st.hostMounts);
    if (warning) env.log.warn(warning);
  }
  if (opts.runPoststop && st.hooks.poststop?.length) {
    try {
      await runHooks('poststop', st.hooks.poststop, JSON.stringify(ociState(env.root, st, 'stopped')));
    } catch (e) {
      env.log.warn((e as Error).message);
    }
  }
  remove(env.root, st.id);
}
