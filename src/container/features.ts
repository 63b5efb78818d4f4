import { features } from '../plan/features.js';
import { hostCgroupMounts } from '../linux/cgroups/mounts.js';
import { TSRUN_VERSION } from '../version.js';

/** `tsrun features`: what this build really does on this host (only the cgroupfs driver so far). */
export function runtimeFeatures() {
  let cg = { v1: false, v2: false };
  try {
    const m = hostCgroupMounts();
    cg = { v1: m.v1.length > 0, v2: Boolean(m.v2) };
  } catch { /* no /proc: report nothing */ }
  return features({ cgroup: { ...cg, systemd: false, systemdUser: false, rdma: false }, version: TSRUN_VERSION });
}
