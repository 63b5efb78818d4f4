/**
 * The container's cgroup resources in one flat, driver-neutral shape — runc's `cgroups.Resources` — built from
 * `linux.resources` the way runc's specconv.CreateCgroupConfig builds it, and merged with an `update` request the
 * way runc's update.go merges. The v1 and v2 planners (resources-v1.ts, resources-v2.ts) turn it into writes.
 *
 * Numbers follow runc's conventions: 0 means "not set" for the fields runc keeps as plain integers (memory,
 * swap, reservation, shares, quota, period, rt runtime/period, blkio weights, classid); the optional ones
 * (swappiness, burst, idle, pids limit) are undefined when not set. -1 is "unlimited" where the kernel has one.
 */
import { TsrunError } from '../../errors.js';
import type { Device, Resources } from '../../spec/types.js';
import { DEFAULT_ALLOWED_DEVICES, type DeviceCgroupRule } from './devices.js';

export interface WeightDevice { major: number; minor: number; weight: number; leafWeight: number }
export interface ThrottleDevice { major: number; minor: number; rate: number }

export interface CgroupResources {
  /** Device rules in order: the config's, then runc's default allow list. */
  devices?: DeviceCgroupRule[];
  /** update: leave the device rules alone (runc sets SkipDevices for update). */
  skipDevices?: boolean;
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  /** 0..100; undefined (or -1) leaves the kernel's value. */
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  memoryCheckBeforeUpdate?: boolean;
  /** Deprecated in the spec; ignored with a warning (runc ignores it; kernels ≥ 5.16 do too). */
  kernelMemory?: number;
  /** v1 memory.kmem.tcp.limit_in_bytes. */
  kernelMemoryTCP?: number;
  memoryUseHierarchy?: boolean;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuBurst?: number;
  cpuRtRuntime?: number;
  cpuRtPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  cpuIdle?: number;
  pidsLimit?: number;
  blkioWeight?: number;
  blkioLeafWeight?: number;
  blkioWeightDevice?: WeightDevice[];
  blkioThrottleReadBpsDevice?: ThrottleDevice[];
  blkioThrottleWriteBpsDevice?: ThrottleDevice[];
  blkioThrottleReadIOPSDevice?: ThrottleDevice[];
  blkioThrottleWriteIOPSDevice?: ThrottleDevice[];
  hugetlbLimit?: { pageSize: string; limit: number }[];
  netClsClassid?: number;
  netPrioIfpriomap?: { name: string; priority: number }[];
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
}

/** A uint64 read by JSON.parse: 2^64-1 (Go's "unset" for swappiness from Docker) arrives as 2^64. */
const isAllOnes = (n: number) => n >= 2 ** 63;

/** runc ConvertCPUSharesToCgroupV2Value as of runc 1.1 (linear; runc ≥ 1.3 switched to a quadratic fit). */
export function sharesToWeight(shares: number): number {
  if (!shares) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc ConvertBlkIOToIOWeightValue: blkio weight 10..1000 → io.weight 1..10000. */
export function blkioWeightToIoWeight(w: number): number {
  if (!w) return 0;
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/** Integer → decimal text without exponent or rounding surprises (JSON numbers above 2^53 are already rounded). */
export function num(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

/** linux.resources (+ linux.devices, for runc's de-duplication of the default allow list) → CgroupResources. */
export function fromSpec(r: Resources | undefined, specDevices: Device[] | undefined = []): CgroupResources {
  const out: CgroupResources = {};
  const rules: DeviceCgroupRule[] = [];
  (r?.devices ?? []).forEach((d, i) => {
    if (!d.access) throw new TsrunError('ERR_TSRUN_CGROUP', `device access at ${i} field cannot be empty`);
    const type = d.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new TsrunError('ERR_TSRUN_CGROUP', `invalid cgroup device type "${type}"`);
    rules.push({ type, major: d.major ?? -1, minor: d.minor ?? -1, access: d.access, allow: Boolean(d.allow) });
  });
  // runc appends its default allow list, minus the entries whose path the config lists in linux.devices.
  const paths = new Set((specDevices ?? []).map((d) => d.path));
  for (const d of DEFAULT_ALLOWED_DEVICES) if (!d.path || !paths.has(d.path)) rules.push(d.rule);
  out.devices = rules;
  const m = r?.memory;
  if (m) {
    if (m.limit !== undefined) out.memory = m.limit;
    if (m.reservation !== undefined) out.memoryReservation = m.reservation;
    if (m.swap !== undefined) out.memorySwap = m.swap;
    if (m.kernel !== undefined) out.kernelMemory = m.kernel;
    if (m.kernelTCP !== undefined) out.kernelMemoryTCP = m.kernelTCP;
    if (m.swappiness !== undefined && !isAllOnes(m.swappiness)) out.memorySwappiness = m.swappiness;
    if (m.disableOOMKiller !== undefined) out.oomKillDisable = m.disableOOMKiller;
    if (m.checkBeforeUpdate !== undefined) out.memoryCheckBeforeUpdate = m.checkBeforeUpdate;
    if (m.useHierarchy !== undefined) out.memoryUseHierarchy = m.useHierarchy;
  }
  const c = r?.cpu;
  if (c) {
    if (c.shares !== undefined) out.cpuShares = c.shares;
    if (c.quota !== undefined) out.cpuQuota = c.quota;
    if (c.burst !== undefined) out.cpuBurst = c.burst;
    if (c.period !== undefined) out.cpuPeriod = c.period;
    if (c.realtimeRuntime !== undefined) out.cpuRtRuntime = c.realtimeRuntime;
    if (c.realtimePeriod !== undefined) out.cpuRtPeriod = c.realtimePeriod;
    if (c.cpus) out.cpusetCpus = c.cpus;
    if (c.mems) out.cpusetMems = c.mems;
    if (c.idle !== undefined) out.cpuIdle = c.idle;
  }
  if (r?.pids?.limit !== undefined) out.pidsLimit = r.pids.limit;
  const b = r?.blockIO;
  if (b) {
    if (b.weight !== undefined) out.blkioWeight = b.weight;
    if (b.leafWeight !== undefined) out.blkioLeafWeight = b.leafWeight;
    if (b.weightDevice?.length) out.blkioWeightDevice = b.weightDevice.map((d) => ({ major: d.major, minor: d.minor, weight: d.weight ?? 0, leafWeight: d.leafWeight ?? 0 }));
    const t = (l: { major: number; minor: number; rate: number }[] | undefined) => l?.length ? l.map((d) => ({ major: d.major, minor: d.minor, rate: d.rate })) : undefined;
    const rb = t(b.throttleReadBpsDevice), wb = t(b.throttleWriteBpsDevice), ri = t(b.throttleReadIOPSDevice), wi = t(b.throttleWriteIOPSDevice);
    if (rb) out.blkioThrottleReadBpsDevice = rb;
    if (wb) out.blkioThrottleWriteBpsDevice = wb;
    if (ri) out.blkioThrottleReadIOPSDevice = ri;
    if (wi) out.blkioThrottleWriteIOPSDevice = wi;
  }
  if (r?.hugepageLimits?.length) out.hugetlbLimit = r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: h.limit }));
  if (r?.network?.classID !== undefined) out.netClsClassid = r.network.classID;
  if (r?.network?.priorities?.length) out.netPrioIfpriomap = r.network.priorities.map((p) => ({ name: p.name, priority: p.priority }));
  if (r?.rdma && Object.keys(r.rdma).length) out.rdma = { ...r.rdma };
  if (r?.unified && Object.keys(r.unified).length) out.unified = { ...r.unified };
  return out;
}

/**
 * `update`: merge a LinuxResources request into the container's current resources exactly as runc's update.go
 * does (so e.g. a lone --cpu-quota keeps the period, cpus/mems/pids/burst/idle/unified apply only when given,
 * checkBeforeUpdate resets unless given, and device rules are left alone).
 */
export function mergeUpdate(cur: CgroupResources, r: Resources): CgroupResources {
  const out: CgroupResources = { ...cur, skipDevices: true };
  const mem = { ...r.memory };
  const cpu = { ...r.cpu };
  if (mem.limit === -1 && mem.swap === undefined) mem.swap = 0;
  if (cpu.idle !== undefined && cpu.shares === undefined) cpu.shares = 0;
  const b = r.blockIO ?? {};
  if (b.weight !== undefined) out.blkioWeight = b.weight;
  if (b.leafWeight !== undefined) out.blkioLeafWeight = b.leafWeight;
  for (const wd of b.weightDevice ?? []) {
    const list = [...(out.blkioWeightDevice ?? [])];
    const i = list.map((d) => d.major === wd.major && d.minor === wd.minor).lastIndexOf(true);
    if (i >= 0) list[i] = { ...list[i]!, ...(wd.weight !== undefined ? { weight: wd.weight } : {}), ...(wd.leafWeight !== undefined ? { leafWeight: wd.leafWeight } : {}) };
    else list.push({ major: wd.major, minor: wd.minor, weight: wd.weight ?? 0, leafWeight: wd.leafWeight ?? 0 });
    out.blkioWeightDevice = list;
  }
  const upsert = (key: 'blkioThrottleReadBpsDevice' | 'blkioThrottleWriteBpsDevice' | 'blkioThrottleReadIOPSDevice' | 'blkioThrottleWriteIOPSDevice', l: ThrottleDevice[] | undefined) => {
    for (const td of l ?? []) {
      const list = [...(out[key] ?? [])];
      const i = list.map((d) => d.major === td.major && d.minor === td.minor).lastIndexOf(true);
      if (i >= 0) list[i] = { ...list[i]!, rate: td.rate };
      else list.push({ major: td.major, minor: td.minor, rate: td.rate });
      out[key] = list;
    }
  };
  upsert('blkioThrottleReadBpsDevice', b.throttleReadBpsDevice);
  upsert('blkioThrottleWriteBpsDevice', b.throttleWriteBpsDevice);
  upsert('blkioThrottleReadIOPSDevice', b.throttleReadIOPSDevice);
  upsert('blkioThrottleWriteIOPSDevice', b.throttleWriteIOPSDevice);
  const p = cpu.period ?? 0;
  const q = cpu.quota ?? 0;
  if ((p === 0 && q === 0) || (p !== 0 && q !== 0)) {
    out.cpuPeriod = p;
    out.cpuQuota = q;
  } else if (p !== 0) {
    out.cpuPeriod = p;
  } else {
    out.cpuQuota = q;
  }
  setOpt(out, 'cpuBurst', cpu.burst);
  if (cpu.shares !== undefined) out.cpuShares = cpu.shares;
  if (cpu.realtimePeriod !== undefined) out.cpuRtPeriod = cpu.realtimePeriod;
  if (cpu.realtimeRuntime !== undefined) out.cpuRtRuntime = cpu.realtimeRuntime;
  setOpt(out, 'cpusetCpus', cpu.cpus || undefined);
  setOpt(out, 'cpusetMems', cpu.mems || undefined);
  if (mem.limit !== undefined) out.memory = mem.limit;
  setOpt(out, 'cpuIdle', cpu.idle);
  if (mem.reservation !== undefined) out.memoryReservation = mem.reservation;
  if (mem.swap !== undefined) out.memorySwap = mem.swap;
  out.memoryCheckBeforeUpdate = mem.checkBeforeUpdate ?? false;
  if (mem.kernel !== undefined) out.kernelMemory = mem.kernel;
  if (mem.kernelTCP !== undefined) out.kernelMemoryTCP = mem.kernelTCP;
  setOpt(out, 'pidsLimit', r.pids?.limit);
  setOpt(out, 'unified', r.unified && Object.keys(r.unified).length ? { ...r.unified } : undefined);
  return out;
}

function setOpt<K extends keyof CgroupResources>(o: CgroupResources, k: K, v: CgroupResources[K] | undefined): void {
  if (v === undefined) delete o[k];
  else o[k] = v;
}

/**
 * Check the shape of an `update --resources` body (Go's json decoder into specs.LinuxResources: unknown keys
 * ignored, wrong types refused with the field named). Returns the typed value.
 */
export function parseResourcesJson(text: string, source: string): Resources {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TsrunError('ERR_TSRUN_USAGE', `${source}: invalid JSON: ${(e as Error).message}`);
  }
  const fail = (path: string, want: string, got: unknown): never => {
    throw new TsrunError('ERR_TSRUN_USAGE', `json: cannot unmarshal ${goType(got)} into Go struct field LinuxResources.${path} of type ${want}`);
  };
  const obj = (x: unknown, path: string): Record<string, unknown> | undefined => {
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'object' || Array.isArray(x)) return fail(path, 'object', x);
    return x as Record<string, unknown>;
  };
  const int = (x: Record<string, unknown> | undefined, k: string, path: string, unsigned = false) => {
    const val = x?.[k];
    if (val === undefined || val === null) return;
    if (typeof val !== 'number' || !Number.isInteger(val) || (unsigned && val < 0)) fail(`${path}.${k}`, unsigned ? 'uint64' : 'int64', val);
  };
  const str = (x: Record<string, unknown> | undefined, k: string, path: string) => {
    const val = x?.[k];
    if (val !== undefined && val !== null && typeof val !== 'string') fail(`${path}.${k}`, 'string', val);
  };
  const bool = (x: Record<string, unknown> | undefined, k: string, path: string) => {
    const val = x?.[k];
    if (val !== undefined && val !== null && typeof val !== 'boolean') fail(`${path}.${k}`, 'bool', val);
  };
  const arr = (x: Record<string, unknown> | undefined, k: string, path: string): Record<string, unknown>[] => {
    const val = x?.[k];
    if (val === undefined || val === null) return [];
    if (!Array.isArray(val)) return fail(`${path}.${k}`, 'array', val);
    return val.map((e, i) => obj(e, `${path}.${k}[${i}]`) ?? {});
  };
  const r = obj(v, 'resources') ?? {};
  for (const d of arr(r, 'devices', 'devices')) { bool(d, 'allow', 'devices'); str(d, 'type', 'devices'); int(d, 'major', 'devices'); int(d, 'minor', 'devices'); str(d, 'access', 'devices'); }
  const m = obj(r.memory, 'memory');
  for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) int(m, k, 'memory');
  int(m, 'swappiness', 'memory', true);
  for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) bool(m, k, 'memory');
  const c = obj(r.cpu, 'cpu');
  for (const k of ['shares', 'burst', 'period', 'realtimePeriod']) int(c, k, 'cpu', true);
  for (const k of ['quota', 'realtimeRuntime', 'idle']) int(c, k, 'cpu');
  str(c, 'cpus', 'cpu'); str(c, 'mems', 'cpu');
  int(obj(r.pids, 'pids'), 'limit', 'pids');
  const b = obj(r.blockIO, 'blockIO');
  int(b, 'weight', 'blockIO', true); int(b, 'leafWeight', 'blockIO', true);
  for (const d of arr(b, 'weightDevice', 'blockIO')) for (const k of ['major', 'minor', 'weight', 'leafWeight']) int(d, k, 'blockIO.weightDevice');
  for (const t of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
    for (const d of arr(b, t, 'blockIO')) for (const k of ['major', 'minor', 'rate']) int(d, k, `blockIO.${t}`, k === 'rate');
  }
  for (const h of arr(r, 'hugepageLimits', 'hugepageLimits')) { str(h, 'pageSize', 'hugepageLimits'); int(h, 'limit', 'hugepageLimits', true); }
  const n = obj(r.network, 'network');
  int(n, 'classID', 'network', true);
  for (const p of arr(n, 'priorities', 'network')) { str(p, 'name', 'network.priorities'); int(p, 'priority', 'network.priorities', true); }
  const u = obj(r.unified, 'unified');
  for (const k of Object.keys(u ?? {})) str(u, k, 'unified');
  const rd = obj(r.rdma, 'rdma');
  for (const k of Object.keys(rd ?? {})) { const e = obj(rd![k], `rdma.${k}`); int(e, 'hcaHandles', `rdma.${k}`, true); int(e, 'hcaObjects', `rdma.${k}`, true); }
  return r as Resources;
}

function goType(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}
