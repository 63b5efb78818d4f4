/**
 * The session keyring, as runc does it (standard_init_linux.go / setns_init_linux.go): a container process does not
 * keep its caller's session keyring — whose keys it could otherwise use as their possessor — but joins one of its
 * own, "_ses.<container id>" (the init makes it; exec'd processes join it). A new container's keyring is made
 * searchable: by its user (KEY_USR_SEARCH), or by others in a user namespace (KEY_OTH_SEARCH), ORed into the
 * kernel's permissions. With SELinux on and a process label, the keyring is created with that label
 * (attr/keycreate, reset afterwards). `--no-new-keyring` leaves the caller's keyring in place.
 */
import type { LsmContext } from './context.js';
import type { Step } from './steps.js';

export const KEY_USR_SEARCH = 0x00080000n;
export const KEY_OTH_SEARCH = 0x00000008n;

export const sessionKeyringName = (id: string) => `_ses.${id}`;

/** permSet 0n: join without changing permissions (exec). */
export function keyringSteps(name: string, permSet: bigint, selinuxLabel: string | undefined, lsm: LsmContext): Step[] {
  const labelled = lsm.selinux && !!selinuxLabel;
  const perms = permSet === KEY_OTH_SEARCH ? ', searchable by others (user namespace)' : permSet === KEY_USR_SEARCH ? ', searchable by its user' : '';
  return [
    ...(labelled ? [{ kind: 'lsmLabel', attr: 'keycreate', value: selinuxLabel!, label: `selinux key creation label ${selinuxLabel}` } as const] : []),
    { kind: 'sessionKeyring', name, permSet, label: `join session keyring ${name}${perms}` },
    ...(labelled ? [{ kind: 'lsmLabel', attr: 'keycreate', value: '', label: 'reset the selinux key creation label' } as const] : []),
  ];
}
