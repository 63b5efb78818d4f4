/**
 * /proc/sys is only partly namespaced: a sysctl is allowed only when the namespace that scopes it is private to the
 * container, otherwise writing it would change the host. Same rules and messages as runc's validator.go sysctl().
 * Not checked here (needs the running system): a network namespace joined by path that is in fact the host's.
 */
import type { Issue } from '../../errors.js';
import type { Spec } from '../types.js';
import { ptr } from '../pointer.js';
import { hasNamespace } from './namespaces.js';
import { issue } from './issue.js';
import type { Check } from './index.js';

const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** sysctl(8) accepts "/" as the separator too: "net/ipv4/ip_forward" is "net.ipv4.ip_forward" (and dots in a
 * "/"-separated key, as in interface names like eno2.100, swap the other way). */
export function sysctlDotted(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** Why `key` may not be set in this spec, or undefined when it may. */
export function sysctlRefusal(spec: Spec, key: string): string | undefined {
  const s = sysctlDotted(key);
  if (IPC_SYSCTLS.has(s) || s.startsWith('fs.mqueue.')) {
    return hasNamespace(spec, 'ipc') ? undefined : `sysctl "${s}" is not allowed in the hosts ipc namespace`;
  }
  if (s.startsWith('net.')) {
    return hasNamespace(spec, 'network') ? undefined : `sysctl "${s}" not allowed in host network namespace`;
  }
  if (hasNamespace(spec, 'uts')) {
    if (s === 'kernel.domainname') return undefined;
    if (s === 'kernel.hostname') return `sysctl "${s}" is not allowed as it conflicts with the OCI "hostname" field`;
  }
  if (s.startsWith('user.')) {
    return hasNamespace(spec, 'user') ? undefined : `setting ucounts without a user namespace not allowed: ${s}`;
  }
  return `sysctl "${s}" is not in a separate kernel namespace`;
}

export const sysctlNamespaced: Check = (spec) => {
  const out: Issue[] = [];
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    const why = sysctlRefusal(spec, key);
    if (why) out.push(issue(ptr('linux', 'sysctl', key), why, value));
  }
  return out;
};
