/**
 * cgroup v1: resources → the ordered writes runc's fs driver makes (opencontainers/cgroups fs/*.go), per
 * subsystem in runc's order (cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma).
 * Pure: the live cgroup is seen only through the probe (current memory limit, devices.list, which blkio
 * weight file exists), so every decision is unit-tested against fakes.
 */
import { TsrunError } from '../../errors.js';
import { DeviceEmulator } from './devices.js';
import type { CgroupPlan, CgroupProbe, CgroupWrite } from './plan-types.js';
import { num, type CgroupResources } from './resources.js';

const bad = (msg: string) => new TsrunError('ERR_TSRUN_CGROUP', msg);

export function planV1(r: CgroupResources, probe: CgroupProbe): CgroupPlan {
  if (r.unified && Object.keys(r.unified).length) throw bad('invalid configuration: cannot use unified on cgroup v1');
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const w = (controller: string, file: string, value: string, extra: Partial<CgroupWrite> = {}) => writes.push({ controller, file, value, ...extra });

  // cpuset
  if (r.cpusetCpus) w('cpuset', 'cpuset.cpus', r.cpusetCpus, { what: 'linux.resources.cpu.cpus' });
  if (r.cpusetMems) w('cpuset', 'cpuset.mems', r.cpusetMems, { what: 'linux.resources.cpu.mems' });

  // devices
  if (!r.skipDevices && r.devices) {
    const target = DeviceEmulator.fromRules(r.devices);
    const list = probe.read('devices', 'devices.list');
    // Unreadable: assume the kernel's default for a new cgroup (allow all), so deny-all is written first.
    const current = DeviceEmulator.fromList(list ?? 'a *:* rwm');
    const tr = current.transition(target);
    tr.forEach(([file, value], i) => w('devices', file, value, {
      what: 'linux.resources.devices',
      ...(i === tr.length - 1 ? { verify: (read) => checkDevices(read('devices.list'), target) } : {}),
    }));
  }

  // memory
  memoryV1(r, probe, w, warnings);

  // cpu
  const quota = r.cpuQuota ?? 0;
  if (r.cpuShares) {
    const shares = r.cpuShares;
    w('cpu', 'cpu.shares', num(shares), {
      what: 'linux.resources.cpu.shares',
      verify: (read) => {
        const got = Number(read('cpu.shares')?.trim());
        if (shares > got) return `the maximum allowed cpu-shares is ${got}`;
        if (shares < got) return `the minimum allowed cpu-shares is ${got}`;
        return undefined;
      },
    });
  }
  if (r.cpuPeriod) w('cpu', 'cpu.cfs_period_us', num(r.cpuPeriod), { what: 'linux.resources.cpu.period', ...(quota ? { deferOnEinval: true } : {}) });
  if (r.cpuBurst !== undefined) w('cpu', 'cpu.cfs_burst_us', num(r.cpuBurst), { what: 'linux.resources.cpu.burst', optional: true, ...(quota ? { deferOnEinval: true } : {}) });
  if (quota) w('cpu', 'cpu.cfs_quota_us', num(quota), { what: 'linux.resources.cpu.quota' });
  if (r.cpuIdle !== undefined) w('cpu', 'cpu.idle', num(r.cpuIdle), { what: 'linux.resources.cpu.idle' });
  if (r.cpuRtPeriod) w('cpu', 'cpu.rt_period_us', num(r.cpuRtPeriod), { what: 'linux.resources.cpu.realtimePeriod', ...(r.cpuRtRuntime ? { deferOnEinval: true } : {}) });
  if (r.cpuRtRuntime) w('cpu', 'cpu.rt_runtime_us', num(r.cpuRtRuntime), { what: 'linux.resources.cpu.realtimeRuntime' });

  // pids
  if (r.pidsLimit !== undefined) w('pids', 'pids.max', pidsMax(r.pidsLimit), { what: 'linux.resources.pids.limit' });

  // blkio: CFQ's blkio.weight when the kernel has it, else BFQ's (runc detectWeightFilenames)
  const cfq = probe.read('blkio', 'blkio.weight') !== undefined;
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDevFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (r.blkioWeight) w('blkio', weightFile, num(r.blkioWeight), { what: 'linux.resources.blockIO.weight' });
  if (r.blkioLeafWeight) w('blkio', 'blkio.leaf_weight', num(r.blkioLeafWeight), { what: 'linux.resources.blockIO.leafWeight' });
  for (const d of r.blkioWeightDevice ?? []) {
    if (d.weight) w('blkio', weightDevFile, `${d.major}:${d.minor} ${d.weight}`, { what: 'linux.resources.blockIO.weightDevice' });
    if (d.leafWeight) w('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, { what: 'linux.resources.blockIO.weightDevice' });
  }
  const thr = (list: CgroupResources['blkioThrottleReadBpsDevice'], file: string, what: string) => {
    for (const d of list ?? []) w('blkio', file, `${d.major}:${d.minor} ${num(d.rate)}`, { what: `linux.resources.blockIO.${what}` });
  };
  thr(r.blkioThrottleReadBpsDevice, 'blkio.throttle.read_bps_device', 'throttleReadBpsDevice');
  thr(r.blkioThrottleWriteBpsDevice, 'blkio.throttle.write_bps_device', 'throttleWriteBpsDevice');
  thr(r.blkioThrottleReadIOPSDevice, 'blkio.throttle.read_iops_device', 'throttleReadIOPSDevice');
  thr(r.blkioThrottleWriteIOPSDevice, 'blkio.throttle.write_iops_device', 'throttleWriteIOPSDevice');

  // hugetlb (+ the reservation limit where the kernel has it)
  for (const h of r.hugetlbLimit ?? []) {
    w('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, num(h.limit), { what: 'linux.resources.hugepageLimits' });
    w('hugetlb', `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, num(h.limit), { what: 'linux.resources.hugepageLimits', optional: true });
  }

  // network (v1 only)
  if (r.netClsClassid) w('net_cls', 'net_cls.classid', num(r.netClsClassid), { what: 'linux.resources.network.classID' });
  for (const p of r.netPrioIfpriomap ?? []) w('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, { what: 'linux.resources.network.priorities' });

  // rdma
  for (const [dev, l] of Object.entries(r.rdma ?? {})) w('rdma', 'rdma.max', rdmaLine(dev, l), { what: 'linux.resources.rdma' });

  return { writes, warnings };
}

/** runc setMemoryAndSwap + the rest of MemoryGroup.Set. */
function memoryV1(r: CgroupResources, probe: CgroupProbe, w: (c: string, f: string, v: string, e?: Partial<CgroupWrite>) => void, warnings: string[]): void {
  const memory = r.memory ?? 0;
  let swap = r.memorySwap ?? 0;
  // With an unlimited memory limit and no swap given, lift memsw too, or the kernel refuses memory > memsw.
  if (memory === -1 && swap === 0 && probe.read('memory', 'memory.memsw.limit_in_bytes') !== undefined) swap = -1;
  if (r.memoryCheckBeforeUpdate && (memory > 0 || swap > 0)) {
    const usage = Number(probe.read('memory', 'memory.usage_in_bytes')?.trim());
    if (Number.isFinite(usage)) {
      if (swap > 0 && swap <= usage) throw bad(`rejecting memory+swap limit ${num(swap)} <= usage ${usage}`);
      if (memory > 0 && memory <= usage) throw bad(`rejecting memory limit ${num(memory)} <= usage ${usage}`);
    }
  }
  if (r.memoryUseHierarchy !== undefined) {
    const want = r.memoryUseHierarchy ? '1' : '0';
    if (probe.read('memory', 'memory.use_hierarchy')?.trim() !== want) w('memory', 'memory.use_hierarchy', want, { what: 'linux.resources.memory.useHierarchy' });
  }
  const mem = () => { if (memory) w('memory', 'memory.limit_in_bytes', num(memory), { what: 'linux.resources.memory.limit' }); };
  const sw = () => { if (swap) w('memory', 'memory.memsw.limit_in_bytes', num(swap), { what: 'linux.resources.memory.swap' }); };
  let swapFirst = false;
  if (memory !== 0 && swap !== 0) {
    // Raising: memsw first (the kernel keeps memory ≤ memsw at every step); lowering: memory first.
    const cur = parseLimit(probe.read('memory', 'memory.limit_in_bytes'));
    swapFirst = swap === -1 || cur < swap;
  }
  if (swapFirst) { sw(); mem(); } else { mem(); sw(); }
  if (r.memoryReservation) w('memory', 'memory.soft_limit_in_bytes', num(r.memoryReservation), { what: 'linux.resources.memory.reservation' });
  if (r.kernelMemory) warnings.push('linux.resources.memory.kernel is ignored: kernel memory limits are deprecated and not enforced by current kernels (runc ignores them too)');
  if (r.kernelMemoryTCP) w('memory', 'memory.kmem.tcp.limit_in_bytes', num(r.kernelMemoryTCP), { what: 'linux.resources.memory.kernelTCP' });
  if (r.oomKillDisable) w('memory', 'memory.oom_control', '1', { what: 'linux.resources.memory.disableOOMKiller' });
  const sws = r.memorySwappiness;
  if (sws !== undefined && sws !== -1) {
    if (sws < 0 || sws > 100) throw bad(`invalid memory swappiness value: ${sws} (valid range is 0-100)`);
    w('memory', 'memory.swappiness', String(sws), { what: 'linux.resources.memory.swappiness' });
  }
}

/** A v1 limit file's text as a number; unreadable counts as "no limit" (the largest value). */
function parseLimit(s: string | undefined): number {
  const n = Number(s?.trim());
  return Number.isFinite(n) ? n : Number.MAX_VALUE;
}

/** runc: >0 → the number, 0 → "1" (systemd cannot do 0 and runc keeps the drivers alike), <0 → max. */
export function pidsMax(limit: number): string {
  return limit > 0 ? num(limit) : limit === 0 ? '1' : 'max';
}

export function rdmaLine(dev: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  return dev + (l.hcaHandles !== undefined ? ` hca_handle=${l.hcaHandles}` : '') + (l.hcaObjects !== undefined ? ` hca_object=${l.hcaObjects}` : '');
}

function checkDevices(list: string | undefined, target: DeviceEmulator): string | undefined {
  if (list === undefined) return 'cannot read devices.list back';
  const after = DeviceEmulator.fromList(list);
  if (!target.defaultAllow && !after.equals(target)) return "resulting devices cgroup doesn't precisely match target";
  if (target.defaultAllow !== after.defaultAllow) return "resulting devices cgroup doesn't match target mode";
  return undefined;
}
