/**
 * linux.namespaces → what the plan must create (unshare) and join (setns), as CLONE_* flags.
 */
import { TsrunError } from '../errors.js';
import type { Namespace, NamespaceType } from '../spec/types.js';
import { CLONE, CLONE_NAMES, flagNames } from './constants.js';

export const NAMESPACES: Readonly<Record<NamespaceType, bigint>> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** The OCI names, in the order `features` lists them (runc's, sorted). */
export const NAMESPACE_NAMES: readonly NamespaceType[] = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

export interface JoinedNs {
  type: NamespaceType;
  path: string;
  nstype: bigint;
  /** Position in linux.namespaces, for error pointers. */
  index: number;
}

export interface NsSetup {
  /** CLONE_* of every namespace to create. */
  create: bigint;
  /** Namespaces to join, in config order. */
  join: JoinedNs[];
  /** Every namespace the container has its own of, created or joined. */
  has: (t: NamespaceType) => boolean;
  isNew: (t: NamespaceType) => boolean;
  userns: 'none' | 'new' | 'joined';
}

export function analyzeNamespaces(list: readonly Namespace[] | undefined): NsSetup {
  let create = 0n;
  const join: JoinedNs[] = [];
  const seen = new Set<string>();
  (list ?? []).forEach((ns, index) => {
    const ptr = `/linux/namespaces/${index}`;
    const flag = NAMESPACES[ns.type];
    if (flag === undefined) {
      throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/type: namespace ${JSON.stringify(ns.type)} does not exist`, {
        hint: `one of ${NAMESPACE_NAMES.join(', ')}`,
      });
    }
    if (seen.has(ns.type)) throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}: malformed spec file: duplicated ns "${ns.type}"`);
    seen.add(ns.type);
    if (ns.path) {
      if (!ns.path.startsWith('/')) throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/path: must be absolute, got ${JSON.stringify(ns.path)}`);
      join.push({ type: ns.type, path: ns.path, nstype: flag, index });
    } else create |= flag;
  });
  const joined = new Set(join.map((j) => j.type));
  return {
    create,
    join,
    has: (t) => seen.has(t),
    isNew: (t) => (create & NAMESPACES[t]) !== 0n,
    userns: (create & CLONE.NEWUSER) !== 0n ? 'new' : joined.has('user') ? 'joined' : 'none',
  };
}

/** "mount uts ipc net cgroup" for explain and labels. */
export function cloneNames(flags: bigint): string {
  return flagNames(flags, CLONE_NAMES, ' ');
}
