/**
 * cgroup v2: resources → the ordered writes runc's fs2 driver makes (opencontainers/cgroups fs2/*.go: pids,
 * memory, io, cpu, cpuset, hugetlb, rdma, then `unified` last so it overrides). Each write names the controller
 * that must be enabled in the parents' cgroup.subtree_control (apply.ts enables them). Pure.
 */
import { TsrunError } from '../../errors.js';
import type { CgroupPlan, CgroupProbe, CgroupWrite } from './plan-types.js';
import { blkioWeightToIoWeight, num, sharesToWeight, type CgroupResources } from './resources.js';
import { pidsMax, rdmaLine } from './resources-v1.js';
import { deviceFilterProgram } from './devices-bpf.js';

const bad = (msg: string) => new TsrunError('ERR_TSRUN_CGROUP', msg);

/** Core files that are actions or structure, not limits: a config must not move processes or kill them. */
const UNIFIED_REFUSED = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.kill', 'cgroup.subtree_control', 'cgroup.freeze', 'cgroup.type']);

/** runc ConvertMemorySwapToCgroupV2Value: v1's memory+swap → v2's swap alone. */
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw bad('unable to set swap limit without memory limit');
  if (memory < 0) throw bad(`invalid memory value: ${memory}`);
  if (swap < memory) throw bad('memory+swap limit should be >= memory limit');
  return swap - memory;
}

const numToStr = (v: number) => (v === 0 ? '' : v === -1 ? 'max' : num(v));

export function planV2(r: CgroupResources, probe: CgroupProbe): CgroupPlan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const w = (controller: string, file: string, value: string, extra: Partial<CgroupWrite> = {}) => writes.push({ controller, file, value, ...extra });
  const ignored = (what: string, why = 'cgroup v2 has no such setting') => warnings.push(`${what} is ignored: ${why}`);

  if (r.pidsLimit !== undefined) w('pids', 'pids.max', pidsMax(r.pidsLimit), { what: 'linux.resources.pids.limit' });

  // memory
  const memory = r.memory ?? 0, swap = r.memorySwap ?? 0, reservation = r.memoryReservation ?? 0;
  if (memory || swap || reservation) {
    if (r.memoryCheckBeforeUpdate && (memory > 0 || swap > 0)) {
      const usage = Number(probe.read('memory', 'memory.current')?.trim());
      if (Number.isFinite(usage)) {
        if (swap > 0 && swap <= usage) throw bad(`rejecting memory+swap limit ${num(swap)} <= usage ${usage}`);
        if (memory > 0 && memory <= usage) throw bad(`rejecting memory limit ${num(memory)} <= usage ${usage}`);
      }
    }
    const s = swapToV2(swap, memory);
    let sv = numToStr(s);
    if (sv === '' && s === 0 && swap > 0) sv = '0';
    // No swap accounting (no memory.swap.max): fine when nothing would be limited anyway.
    if (sv) w('memory', 'memory.swap.max', sv, { what: 'linux.resources.memory.swap', ...(sv === 'max' || sv === '0' ? { optional: true } : {}) });
    if (numToStr(memory)) w('memory', 'memory.max', numToStr(memory), { what: 'linux.resources.memory.limit' });
    if (numToStr(reservation)) w('memory', 'memory.low', numToStr(reservation), { what: 'linux.resources.memory.reservation' });
  }
  if (r.memorySwappiness !== undefined && r.memorySwappiness !== -1) ignored('linux.resources.memory.swappiness');
  if (r.oomKillDisable) ignored('linux.resources.memory.disableOOMKiller');
  if (r.kernelMemory) ignored('linux.resources.memory.kernel', 'kernel memory limits are deprecated');
  if (r.kernelMemoryTCP) ignored('linux.resources.memory.kernelTCP', 'kernel memory limits are deprecated');
  if (r.memoryUseHierarchy === false) ignored('linux.resources.memory.useHierarchy', 'cgroup v2 is always hierarchical');

  // io: BFQ's weight file when present, else io.weight with runc's 10..1000 → 1..10000 conversion
  const bfq = probe.read('io', 'io.bfq.weight');
  if (r.blkioWeight) {
    if (bfq !== undefined) w('io', 'io.bfq.weight', num(r.blkioWeight), { what: 'linux.resources.blockIO.weight' });
    else w('io', 'io.weight', num(blkioWeightToIoWeight(r.blkioWeight)), { what: 'linux.resources.blockIO.weight' });
  }
  // io.bfq.weight takes per-device lines only in its "default N" format (runc bfqDeviceWeightSupported).
  const bfqPerDevice = bfq !== undefined && !/^\s*\d+\s*$/.test(bfq);
  for (const d of r.blkioWeightDevice ?? []) {
    if (!d.weight) continue;
    if (bfqPerDevice) w('io', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, { what: 'linux.resources.blockIO.weightDevice' });
    else w('io', 'io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`, { what: 'linux.resources.blockIO.weightDevice' });
  }
  if (r.blkioLeafWeight || r.blkioWeightDevice?.some((d) => d.leafWeight)) ignored('linux.resources.blockIO leaf weights');
  const thr = (list: CgroupResources['blkioThrottleReadBpsDevice'], name: string, what: string) => {
    for (const d of list ?? []) w('io', 'io.max', `${d.major}:${d.minor} ${name}=${num(d.rate)}`, { what: `linux.resources.blockIO.${what}` });
  };
  thr(r.blkioThrottleReadBpsDevice, 'rbps', 'throttleReadBpsDevice');
  thr(r.blkioThrottleWriteBpsDevice, 'wbps', 'throttleWriteBpsDevice');
  thr(r.blkioThrottleReadIOPSDevice, 'riops', 'throttleReadIOPSDevice');
  thr(r.blkioThrottleWriteIOPSDevice, 'wiops', 'throttleWriteIOPSDevice');

  // cpu
  const quota = r.cpuQuota ?? 0, period = r.cpuPeriod ?? 0;
  if (r.cpuIdle !== undefined) w('cpu', 'cpu.idle', num(r.cpuIdle), { what: 'linux.resources.cpu.idle' });
  const weight = sharesToWeight(r.cpuShares ?? 0);
  if (weight) w('cpu', 'cpu.weight', num(weight), { what: 'linux.resources.cpu.shares' });
  if (r.cpuBurst !== undefined) w('cpu', 'cpu.max.burst', num(r.cpuBurst), { what: 'linux.resources.cpu.burst', ...(quota ? { deferOnEinval: true } : {}) });
  if (quota || period) w('cpu', 'cpu.max', `${quota > 0 ? num(quota) : 'max'} ${num(period || 100000)}`, { what: 'linux.resources.cpu.quota' });
  if (r.cpuRtRuntime || r.cpuRtPeriod) {
    throw bad(`linux.resources.cpu.realtimeRuntime/realtimePeriod (${r.cpuRtRuntime ?? 0}/${r.cpuRtPeriod ?? 0}): cgroup v2 has no realtime group scheduling (cpu.rt_runtime_us)`);
  }

  // devices: no file to write; apply.ts attaches the eBPF program. Compile it here so a rule list cgroup v1 would
  // refuse too (a hole in a wildcard rule) fails before anything is written.
  if (!r.skipDevices && r.devices) deviceFilterProgram(r.devices);

  if (r.cpusetCpus) w('cpuset', 'cpuset.cpus', r.cpusetCpus, { what: 'linux.resources.cpu.cpus' });
  if (r.cpusetMems) w('cpuset', 'cpuset.mems', r.cpusetMems, { what: 'linux.resources.cpu.mems' });

  for (const h of r.hugetlbLimit ?? []) {
    w('hugetlb', `hugetlb.${h.pageSize}.max`, num(h.limit), { what: 'linux.resources.hugepageLimits' });
    w('hugetlb', `hugetlb.${h.pageSize}.rsvd.max`, num(h.limit), { what: 'linux.resources.hugepageLimits', optional: true });
  }
  for (const [dev, l] of Object.entries(r.rdma ?? {})) w('rdma', 'rdma.max', rdmaLine(dev, l), { what: 'linux.resources.rdma' });
  if (r.netClsClassid || r.netPrioIfpriomap?.length) ignored('linux.resources.network', 'net_cls and net_prio exist only on cgroup v1');

  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (k.includes('/')) throw bad(`unified resource "${k}" must be a file name (no slashes)`);
    if (UNIFIED_REFUSED.has(k)) throw bad(`unified resource "${k}" is not a resource limit and cannot be set from the config`);
    const dot = k.indexOf('.');
    const controller = dot > 0 ? k.slice(0, dot) : '';
    // runc WriteFileByLine: one write per line.
    const lines = v.split('\n').filter((l) => l !== '');
    for (const l of lines.length ? lines : ['']) w(controller || 'cgroup', k, l, { unifiedKey: k, what: `linux.resources.unified["${k}"]` });
  }
  return { writes, warnings };
}
