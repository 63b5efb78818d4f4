/**
 * Cross-field rules on cgroup resources, NUMA memory policy and Intel RDT, where the kernel would otherwise fail
 * later with a bare EINVAL.
 */
import { issue } from './issue.js';
import type { Check } from './index.js';

/** config-linux.md: a positive quota MUST be no smaller than burst (the kernel refuses cpu.max.burst > quota). */
export const cpuBurstWithinQuota: Check = (spec) => {
  const cpu = spec.linux?.resources?.cpu;
  if (cpu?.burst === undefined || cpu.quota === undefined || cpu.quota <= 0) return [];
  return cpu.burst > cpu.quota
    ? [issue('/linux/resources/cpu/burst', `must not exceed quota (${cpu.quota})`, cpu.burst)]
    : [];
};

/** memory.swap is memory+swap (cgroup v1 semantics); it cannot be below the memory limit. */
export const swapNotBelowLimit: Check = (spec) => {
  const mem = spec.linux?.resources?.memory;
  if (mem?.swap === undefined || mem.limit === undefined || mem.swap <= 0 || mem.limit <= 0) return [];
  return mem.swap < mem.limit
    ? [issue('/linux/resources/memory/swap', `memory+swap limit should be >= memory limit (${mem.limit})`, mem.swap)]
    : [];
};

/** Number of entries in a list like "0-3,7", or undefined if it is malformed (e.g. "3-1", "1-", ","). */
export function countList(list: string): number | undefined {
  let n = 0;
  for (const raw of list.split(',')) {
    const part = raw.trim();
    if (part === '' && list.trim() === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    n += hi - lo + 1;
  }
  return n;
}

/** set_mempolicy(2): DEFAULT and LOCAL take no nodes; BIND, INTERLEAVE, WEIGHTED_INTERLEAVE, PREFERRED_MANY need some. */
export const memoryPolicyNodes: Check = (spec) => {
  const mp = spec.linux?.memoryPolicy;
  if (!mp) return [];
  const count = countList(mp.nodes ?? '');
  if (count === undefined) return [issue('/linux/memoryPolicy/nodes', 'invalid memory policy nodes (expected a list such as 0-3,7)', mp.nodes)];
  const none = mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL';
  const some = ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'].includes(mp.mode);
  if (none && count > 0) return [issue('/linux/memoryPolicy/nodes', `memory policy mode ${mp.mode} takes no nodes (${count} given)`, mp.nodes)];
  if (some && count === 0) return [issue('/linux/memoryPolicy/nodes', `memory policy mode ${mp.mode} requires at least one node`, mp.nodes)];
  return [];
};

/** closID names a directory under /sys/fs/resctrl; "/" alone means the root group (runc intelrdtCheck). */
export const intelRdtClosID: Check = (spec) => {
  const clos = spec.linux?.intelRdt?.closID;
  if (clos === undefined) return [];
  const bad = clos === '.' || clos === '..' || (clos.length > 1 && clos.includes('/'));
  return bad ? [issue('/linux/intelRdt/closID', 'invalid intelRdt.ClosID (a resctrl group name, or "/" for the root group)', clos)] : [];
};
