/**
 * /dev setup (runc doSetupDev): device nodes, the /dev/ptmx link and the /dev/fd, std* and core links.
 *
 * Done unless /dev is a bind mount (runc needsSetupDev). The nodes are runc's default six (AllowedDevices with a
 * path) minus those linux.devices redefines, then linux.devices in order; /dev/ptmx entries are skipped since
 * /dev/ptmx becomes a link to pts/ptmx. Inside a user namespace mknod is not allowed, so each node is a bind of
 * the host's node at the same path (MOUNT_OPT.BIND_FD), as runc does.
 */
import { TsrunError } from '../errors.js';
import type { Device } from '../spec/types.js';
import { makedev, S_IFBLK, S_IFCHR, S_IFIFO } from './constants.js';
import { toId } from './creds.js';
import { cleanPath } from './mounts.js';
import { MOUNT_OPT, type Step } from './steps.js';

interface Node {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

/** runc's AllowedDevices that have a path, in its order. */
export const DEFAULT_DEVICES: readonly Node[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
];

const TYPE_BITS = { c: S_IFCHR, b: S_IFBLK, p: S_IFIFO } as const;

export interface DevOptions {
  /** Bind host nodes instead of mknod (a user namespace, or tsrun itself inside one). */
  bindNodes: boolean;
  /** Whether the host has /proc/kcore (runc links /dev/core only then). */
  hasKcore: boolean;
}

function configNode(d: Device, i: number): Node {
  const ptr = `/linux/devices/${i}`;
  if (typeof d.path !== 'string' || !d.path.startsWith('/')) {
    throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/path: must be an absolute path, got ${JSON.stringify(d.path)}`);
  }
  const type = d.type === 'u' ? 'c' : d.type;
  if (type !== 'c' && type !== 'b' && type !== 'p') {
    throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}/type: invalid device type ${JSON.stringify(d.type)}`, { hint: 'one of c, b, u, p' });
  }
  if (type !== 'p' && (d.major === undefined || d.minor === undefined)) {
    throw new TsrunError('ERR_TSRUN_PLAN', `${ptr}: a ${type === 'b' ? 'block' : 'character'} device needs major and minor`);
  }
  return {
    path: cleanPath(d.path), type, major: d.major ?? 0, minor: d.minor ?? 0,
    // runc: fileMode &^ S_IFMT, 0666 when absent
    mode: d.fileMode === undefined ? 0o666 : d.fileMode & ~0o170000,
    uid: Number(toId(d.uid ?? 0, `${ptr}/uid`)), gid: Number(toId(d.gid ?? 0, `${ptr}/gid`)),
  };
}

export function deviceSteps(devices: readonly Device[] | undefined, o: DevOptions): Step[] {
  const configured = (devices ?? []).map(configNode);
  const overridden = new Set(configured.map((d) => d.path));
  const nodes = [...DEFAULT_DEVICES.filter((d) => !overridden.has(d.path)), ...configured]
    .filter((d) => d.path !== '/dev/ptmx'); // /dev/ptmx is the link below
  const steps: Step[] = nodes.map((d) => ({
    kind: 'mknod', path: d.path, mode: TYPE_BITS[d.type] | BigInt(d.mode), dev: d.type === 'p' ? 0n : makedev(d.major, d.minor),
    uid: BigInt(d.uid), gid: BigInt(d.gid), opts: o.bindNodes ? MOUNT_OPT.BIND_FD : 0n,
    label: o.bindNodes
      ? `bind host ${d.path} (${d.type} ${d.major}:${d.minor}) into the container`
      : `mknod ${d.path} ${d.type} ${d.type === 'p' ? '' : `${d.major}:${d.minor} `}${d.mode.toString(8).padStart(4, '0')}`,
  }));
  const links: [string, string][] = [
    ['pts/ptmx', '/dev/ptmx'],
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
  ];
  if (o.hasKcore) links.push(['/proc/kcore', '/dev/core']);
  for (const [linkTarget, path] of links) {
    // The executor accepts an existing identical link; on an image's /dev (not a fresh mount) an entry that is
    // something else fails the step, where runc would replace /dev/ptmx and keep the others.
    steps.push({ kind: 'symlink', linkTarget, path, label: `symlink ${path} → ${linkTarget}` });
  }
  return steps;
}
