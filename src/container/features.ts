import { features } from '../plan/features.js';
import { hostCgroupMounts } from '../linux/cgroups/mounts.js';
import { seccompFeatures } from '../linux/seccomp.js';
import { release } from 'node:os';
import { TSRUN_VERSION } from '../version.js';

/**
 * `tsrun features`: what this build really does. Cgroups (features-linux.md asks what the runtime supports, as
 * runc answers it, not what this host mounts): the cgroupfs drivers for v1 (and hybrid) and v2 — resources,
 * freezer, stats — with rdma.max on both; and the systemd driver (--systemd-cgroup: a transient scope over D-Bus,
 * linux/cgroups/systemd.ts), reported like runc as built-in support, not as "systemd is reachable now" — runc says
 * systemd: true on hosts without systemd too; systemdUser is false (no rootless user-manager support). Device rules are enforced on both: v1
 * devices.allow/deny, v2 an eBPF BPF_CGROUP_DEVICE program (linux/cgroups/devices-bpf.ts), as runc. A host with
 * no cgroup mount at all gets false for both.
 */
export function runtimeFeatures() {
  let any = true;
  try {
    any = hostCgroupMounts().mode !== 'none';
  } catch { /* no /proc: say what the build supports */ }
  // seccomp: only when libseccomp loads (koffi, ~15 ms; runc links it)
  const seccomp = seccompFeatures(release());
  return features({ cgroup: { v1: any, v2: any, systemd: any, systemdUser: false, rdma: any }, version: TSRUN_VERSION, ...(seccomp ? { seccomp } : {}) });
}
