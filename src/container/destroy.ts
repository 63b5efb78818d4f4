/** Tear a container down: processes, cgroups, poststop hooks, state dir. Shared by delete, run and failed creates. */
import { destroyCgroups } from '../linux/cgroups/fs.js';
import type { RuntimeEnv } from './env.js';
import { runHooks } from './hooks.js';
import { remove, type StoredState } from './state-store.js';
import { ociState } from './status.js';
import { signalAll, waitCgroupEmpty } from './signal.js';

export async function destroy(env: RuntimeEnv, st: StoredState, opts: { runPoststop: boolean }): Promise<void> {
  if (Object.keys(st.cgroup.paths).length) {
    await signalAll(st, 9);
    await waitCgroupEmpty(st, 10_000);
  }
  // systemd driver: stop the unit (gone already is fine), then remove what is left like cgroupfs (runc Destroy)
  if (st.cgroup.systemd) await (await import('../linux/cgroups/systemd.js')).stopScope(st.cgroup.systemd.unit, (m) => env.log.warn(m));
  await destroyCgroups(st.cgroup.created, Object.values(st.cgroup.paths));
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
