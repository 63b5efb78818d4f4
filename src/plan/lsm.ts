/**
 * AppArmor and SELinux in plans (create and exec), as runc does them:
 * - process.apparmorProfile → lsmLabel {attr apparmor/exec (exec on kernels without it), "exec <profile>"}. runc
 *   (libcontainer/apparmor applyProfile on Linux) does not consult IsEnabled: it writes the attribute, and a host
 *   without AppArmor fails the container with the kernel's error ("unable to apply apparmor profile: apparmor
 *   failed to apply profile: write /proc/thread-self/attr/exec: invalid argument"). So does tsrun.
 * - process.selinuxLabel → lsmLabel {attr exec, label}; create refuses it when SELinux is off, with runc's
 *   validator text (configs/validate security()). runc's exec has no such check: the write fails instead.
 * - linux.mountLabel → context="<label>" appended to the data of tmpfs and other filesystem mounts (runc
 *   mountPropagate + label.FormatMountLabel; not proc, sysfs, mqueue, cgroup or binds) when SELinux is on;
 *   otherwise ignored with a warning (runc 1.1.5 passes it anyway and the /dev tmpfs mount fails with EINVAL).
 */
import { TsrunError } from '../errors.js';
import { MS } from './constants.js';
import type { LsmContext } from './context.js';
import type { Step } from './steps.js';

export const NO_LSM: LsmContext = { apparmor: false, apparmorExecAttr: 'apparmor/exec', selinux: false };

/** runc libcontainer/configs/validate security(). */
export const SELINUX_DISABLED = 'selinux label is specified in config, but selinux is disabled or not supported';

export function apparmorSteps(profile: string | undefined, lsm: LsmContext): Step[] {
  if (!profile) return [];
  return [{ kind: 'lsmLabel', attr: lsm.apparmorExecAttr, value: `exec ${profile}`, label: `apparmor profile ${profile} at exec` }];
}

export function selinuxSteps(processLabel: string | undefined): Step[] {
  if (!processLabel) return [];
  return [{ kind: 'lsmLabel', attr: 'exec', value: processLabel, label: `selinux process label ${processLabel} at exec` }];
}

/** create: runc's validator refuses a process label when SELinux is off. */
export function checkSelinuxLabel(processLabel: string | undefined, lsm: LsmContext): void {
  if (processLabel && !lsm.selinux) throw new TsrunError('ERR_TSRUN_PLAN', `/process/selinuxLabel: ${SELINUX_DISABLED}`);
}

const UNLABELED = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/** linux.mountLabel: the mount steps with context="<label>" added where runc adds it (SELinux on). */
export function labelMounts(steps: Step[], mountLabel: string | undefined, lsm: LsmContext, warnings: string[]): Step[] {
  if (!mountLabel) return steps;
  if (!lsm.selinux) {
    warnings.push('/linux/mountLabel: SELinux is disabled or not supported on this host; the mount label is ignored');
    return steps;
  }
  const ctx = `context=${JSON.stringify(mountLabel)}`; // Go's %q for the labels SELinux allows
  return steps.map((s) => (s.kind === 'mount' && !UNLABELED.has(s.fstype) && !(s.mountFlags & MS.BIND)
    ? { ...s, data: s.data ? `${s.data},${ctx}` : ctx }
    : s));
}
