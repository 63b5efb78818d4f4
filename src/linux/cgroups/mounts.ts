/**
 * Where the cgroup hierarchies are: parsed from /proc/self/mountinfo (pure functions; readers take the text).
 * A host is v1 (only `cgroup` mounts), v2 (one `cgroup2` mount) or hybrid (v1 controllers plus a cgroup2 mount,
 * usually /sys/fs/cgroup/unified, used for membership only) — this machine is hybrid.
 */
import { readFileSync } from 'node:fs';

export interface V1Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/cpu,cpuacct */
  mountpoint: string;
  /** Controllers and named hierarchies from the super options: ["cpu","cpuacct"], ["name=systemd"]. */
  controllers: string[];
  /** The mount's root inside the hierarchy ("/" normally). */
  root: string;
}

export interface CgroupMounts {
  v1: V1Hierarchy[];
  /** The cgroup2 mount point, if any. */
  v2?: string;
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
}

const V1_CONTROLLERS = new Set(['cpuset', 'cpu', 'cpuacct', 'memory', 'devices', 'freezer', 'net_cls', 'blkio',
  'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc']);

/** mountinfo unescapes \040 etc. in paths. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1: V1Hierarchy[] = [];
  let v2: string | undefined;
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    const root = unescape(pre[3] ?? '/');
    const mountpoint = unescape(pre[4] ?? '');
    if (fstype === 'cgroup2') {
      v2 ??= mountpoint;
    } else if (fstype === 'cgroup') {
      const controllers = (post[2] ?? '').split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='));
      const key = controllers.join(',');
      if (!key || seen.has(key)) continue; // the same hierarchy mounted twice: keep the first
      seen.add(key);
      v1.push({ mountpoint, controllers, root });
    }
  }
  const mode = v1.length && v2 ? 'hybrid' : v1.length ? 'v1' : v2 ? 'v2' : 'none';
  return { v1, ...(v2 ? { v2 } : {}), mode };
}

/** /proc/<pid>/cgroup → controller list → path; the v2 entry has the key "". */
export function parseProcCgroup(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, ctrls, path] = line.match(/^\d+:([^:]*):(.*)$/) ?? [];
    if (path === undefined) continue;
    m.set(ctrls ?? '', path);
  }
  return m;
}

let cached: CgroupMounts | undefined;
export function hostCgroupMounts(): CgroupMounts {
  return (cached ??= parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')));
}
