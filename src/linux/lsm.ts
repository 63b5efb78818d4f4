/**
 * Which Linux security module the host runs (AppArmor, SELinux), detected as runc does. Pure: the host is read
 * through an injected probe, so unit tests fake it; hostLsm() is the real one.
 *
 * - AppArmor (runc libcontainer/apparmor isEnabled): /sys/kernel/security/apparmor exists and
 *   /sys/module/apparmor/parameters/enabled starts with "Y".
 * - AppArmor's exec attribute (runc setProcAttr): attr/apparmor/exec when /proc/self/attr/apparmor/exec exists,
 *   else the old shared attr/exec (kernels before 5.1 have no per-LSM subdirectory).
 * - SELinux (go-selinux GetEnabled): selinuxfs is mounted (/sys/fs/selinux/enforce readable) and the current
 *   label is not "kernel".
 */
import { existsSync, readFileSync } from 'node:fs';

export interface LsmHost {
  apparmor: boolean;
  /** The attribute under /proc/thread-self/attr/ that takes "exec <profile>". */
  apparmorExecAttr: 'apparmor/exec' | 'exec';
  selinux: boolean;
}

export interface LsmProbe {
  /** File contents, or undefined when the file is missing or unreadable. */
  read(path: string): string | undefined;
  exists(path: string): boolean;
}

export function detectLsm(p: LsmProbe): LsmHost {
  const apparmor = p.exists('/sys/kernel/security/apparmor') && (p.read('/sys/module/apparmor/parameters/enabled') ?? '').startsWith('Y');
  const apparmorExecAttr = p.exists('/proc/self/attr/apparmor/exec') ? 'apparmor/exec' : 'exec';
  const current = p.read('/proc/thread-self/attr/current')?.replace(/[\0\n]+$/, '');
  const selinux = p.read('/sys/fs/selinux/enforce') !== undefined && current !== undefined && current !== 'kernel';
  return { apparmor, apparmorExecAttr, selinux };
}

const hostProbe: LsmProbe = {
  read(path) {
    try { return readFileSync(path, 'utf8'); } catch { return undefined; }
  },
  exists: (path) => existsSync(path),
};

let cached: LsmHost | undefined;
/** The running host's LSMs (read once per process: a handful of small sysfs/procfs reads). */
export function hostLsm(): LsmHost {
  return (cached ??= detectLsm(hostProbe));
}
