/**
 * Seccomp rules the schema cannot express. Unknown actions, operators, architectures and flags are schema enums.
 */
import type { Issue } from '../../errors.js';
import { SECCOMP_ERRNO_ACTIONS } from '../known.js';
import { ptr } from '../pointer.js';
import { issue } from './issue.js';
import type { Check } from './index.js';

const NOTIFY = 'SCMP_ACT_NOTIFY';

/**
 * SCMP_ACT_NOTIFY hands the listener fd to an agent over linux.seccomp.listenerPath, so:
 * - a NOTIFY rule needs listenerPath (runc fails at create without it);
 * - NOTIFY cannot be the default action, nor apply to write(2): the init still has to write the fd number to its
 *   parent after loading the filter, and would block forever (runc seccomp_linux.go, same messages).
 */
export const seccompNotify: Check = (spec) => {
  const sc = spec.linux?.seccomp;
  if (!sc) return [];
  const out: Issue[] = [];
  if (sc.defaultAction === NOTIFY) {
    out.push(issue('/linux/seccomp/defaultAction', 'SCMP_ACT_NOTIFY cannot be used as default action', sc.defaultAction));
  }
  let firstNotify: number | undefined;
  (sc.syscalls ?? []).forEach((call, i) => {
    if (call.action !== NOTIFY) return;
    firstNotify ??= i;
    call.names.forEach((name, j) => {
      if (name === 'write') out.push(issue(ptr('linux', 'seccomp', 'syscalls', i, 'names', j), 'SCMP_ACT_NOTIFY cannot be used for the write syscall', name));
    });
  });
  if (firstNotify !== undefined && !sc.listenerPath) {
    out.push(issue('/linux/seccomp/listenerPath',
      `is required when a syscall uses SCMP_ACT_NOTIFY (${ptr('linux', 'seccomp', 'syscalls', firstNotify, 'action')})`, sc.listenerPath));
  }
  return out;
};

/** config-linux.md: listenerMetadata MUST NOT be set if listenerPath is not set. */
export const seccompMetadataNeedsListener: Check = (spec) => {
  const sc = spec.linux?.seccomp;
  return sc?.listenerMetadata !== undefined && !sc.listenerPath
    ? [issue('/linux/seccomp/listenerMetadata', 'must not be set without listenerPath', sc.listenerMetadata)]
    : [];
};

// ---- warnings ----

/** config-linux.md: without a NOTIFY rule listenerPath "is ignored". Worth telling, not failing. */
export const seccompListenerUnused: Check = (spec) => {
  const sc = spec.linux?.seccomp;
  if (!sc?.listenerPath) return [];
  return (sc.syscalls ?? []).some((c) => c.action === NOTIFY)
    ? []
    : [issue('/linux/seccomp/listenerPath', 'ignored: no syscall uses SCMP_ACT_NOTIFY', sc.listenerPath)];
};

/**
 * errnoRet only means something for SCMP_ACT_ERRNO and SCMP_ACT_TRACE. The spec says to fail otherwise; runc (and so
 * every caller's configs) silently ignores it. We follow runc and warn.
 */
export const seccompErrnoIgnored: Check = (spec) => {
  const sc = spec.linux?.seccomp;
  if (!sc) return [];
  const takesErrno = (a: string) => (SECCOMP_ERRNO_ACTIONS as readonly string[]).includes(a);
  const out: Issue[] = [];
  if (sc.defaultErrnoRet !== undefined && !takesErrno(sc.defaultAction)) {
    out.push(issue('/linux/seccomp/defaultErrnoRet', `ignored: ${sc.defaultAction} takes no errno`, sc.defaultErrnoRet));
  }
  (sc.syscalls ?? []).forEach((c, i) => {
    if (c.errnoRet !== undefined && !takesErrno(c.action)) {
      out.push(issue(ptr('linux', 'seccomp', 'syscalls', i, 'errnoRet'), `ignored: ${c.action} takes no errno`, c.errnoRet));
    }
  });
  return out;
};
