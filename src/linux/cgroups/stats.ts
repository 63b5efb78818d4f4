/**
 * Container statistics from the cgroup files, in the shape runc's `events` prints (runc types/events.go,
 * converted from opencontainers/cgroups GetStats), and OOM counters for `events` to poll.
 *
 * Counters are uint64 in the kernel: values above 2^53 (the v1 "no limit" 9223372036854771712) are kept as
 * bigint and written exactly by goJson(), which also follows Go's encoder (no spaces, map keys sorted).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupPaths } from './fs.js';

export type U64 = number | bigint;

const u64 = (s: string | undefined): U64 => {
  const t = s?.trim();
  if (!t || !/^\d+$/.test(t)) return 0;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
};
const isZero = (v: U64) => v === 0 || v === 0n;

function reader(dir: string | undefined) {
  return (file: string): string | undefined => {
    if (!dir) return undefined;
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
}

/** "key value" lines → map (memory.stat, cpu.stat, memory.events). */
export function parseKeyValues(text: string | undefined): Map<string, U64> {
  const m = new Map<string, U64>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, u64(v));
  }
  return m;
}

/** "0-3,7" → [0,1,2,3,7] */
export function parseList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

/** Go's omitempty on numbers: drop the zero ones named in `keys`. */
function omit<T extends Record<string, unknown>>(o: T, keys: (keyof T)[]): T {
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || (typeof v === 'number' || typeof v === 'bigint' ? isZero(v) : Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return o;
}

const memEntry = (limit: U64, usage: U64, max: U64, failcnt: U64) => omit({ limit, usage, max, failcnt }, ['usage', 'max']);

/** Huge page sizes as the cgroup files name them: 2048kB → 2MB, 1048576kB → 1GB. */
export function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages').map((d) => {
      const kb = Number(/hugepages-(\d+)kB/.exec(d)?.[1]);
      return kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`;
    });
  } catch {
    return [];
  }
}

function dirOf(paths: CgroupPaths, controller: string): string | undefined {
  const k = Object.keys(paths).find((key) => key !== 'unified' && key.split(',').includes(controller));
  return k ? paths[k] : undefined;
}

function blkioEntries(text: string | undefined): { major?: number; minor?: number; op?: string; value?: U64 }[] {
  const out: { major?: number; minor?: number; op?: string; value?: U64 }[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/[\s:]+/);
    if (f.length < 3) continue; // "Total N"
    const [ma, mi, op, v] = f.length === 3 ? [f[0], f[1], '', f[2]] : f;
    out.push(omit({ major: Number(ma), minor: Number(mi), op, value: u64(v) }, ['major', 'minor', 'value']));
    if (!op) delete out[out.length - 1]!.op;
  }
  return out;
}

/** v1 (and hybrid): every controller from its own hierarchy. */
export function statsV1(paths: CgroupPaths): Record<string, unknown> {
  const cpu = reader(dirOf(paths, 'cpu'));
  const acct = reader(dirOf(paths, 'cpuacct'));
  const cs = parseKeyValues(cpu('cpu.stat'));
  const acctStat = parseKeyValues(acct('cpuacct.stat'));
  const ticks = (v: U64 | undefined) => (v === undefined ? 0 : typeof v === 'bigint' ? (v * 1_000_000_000n) / 100n : Math.floor((v * 1e9) / 100));
  const all = (acct('cpuacct.usage_all') ?? '').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3);
  const usage = omit({
    total: u64(acct('cpuacct.usage')),
    percpu: (acct('cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(u64),
    percpu_kernel: all.map((f) => u64(f[2])),
    percpu_user: all.map((f) => u64(f[1])),
    kernel: ticks(acctStat.get('system')),
    user: ticks(acctStat.get('user')),
  }, ['total', 'percpu', 'percpu_kernel', 'percpu_user']);
  const throttling = omit({ periods: cs.get('nr_periods') ?? 0, throttledPeriods: cs.get('nr_throttled') ?? 0, throttledTime: cs.get('throttled_time') ?? 0 }, ['periods', 'throttledPeriods', 'throttledTime']);

  const cset = reader(dirOf(paths, 'cpuset'));
  const n = (f: string) => Number(cset(f)?.trim() ?? 0) || 0;
  const cpuset = omit({
    cpus: parseList(cset('cpuset.effective_cpus') ?? cset('cpuset.cpus')), cpu_exclusive: n('cpuset.cpu_exclusive'),
    mems: parseList(cset('cpuset.effective_mems') ?? cset('cpuset.mems')), mem_hardwall: n('cpuset.mem_hardwall'),
    mem_exclusive: n('cpuset.mem_exclusive'), memory_migrate: n('cpuset.memory_migrate'),
    memory_spread_page: n('cpuset.memory_spread_page'), memory_spread_slab: n('cpuset.memory_spread_slab'),
    memory_pressure: n('cpuset.memory_pressure'), sched_load_balance: n('cpuset.sched_load_balance'),
    sched_relax_domain_level: n('cpuset.sched_relax_domain_level'),
  }, ['cpus', 'mems']);

  const mem = reader(dirOf(paths, 'memory'));
  const raw = parseKeyValues(mem('memory.stat'));
  const entry = (prefix: string) => memEntry(u64(mem(`${prefix}limit_in_bytes`)), u64(mem(`${prefix}usage_in_bytes`)), u64(mem(`${prefix}max_usage_in_bytes`)), u64(mem(`${prefix}failcnt`)));
  const memory = omit({
    cache: raw.get('cache') ?? 0,
    usage: entry('memory.'), swap: entry('memory.memsw.'), kernel: entry('memory.kmem.'), kernelTCP: entry('memory.kmem.tcp.'),
    raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  }, ['cache']);
  if (!raw.size) delete (memory as Record<string, unknown>).raw;

  const pids = reader(dirOf(paths, 'pids'));
  const blk = reader(dirOf(paths, 'blkio'));
  // runc: CFQ's recursive stats when present, else BFQ's, else the throttle counters.
  const blkio: Record<string, unknown> = {};
  if (blk('blkio.io_serviced_recursive') !== undefined) {
    Object.assign(blkio, {
      ioServiceBytesRecursive: blkioEntries(blk('blkio.io_service_bytes_recursive')), ioServicedRecursive: blkioEntries(blk('blkio.io_serviced_recursive')),
      ioQueueRecursive: blkioEntries(blk('blkio.io_queued_recursive')), ioServiceTimeRecursive: blkioEntries(blk('blkio.io_service_time_recursive')),
      ioWaitTimeRecursive: blkioEntries(blk('blkio.io_wait_time_recursive')), ioMergedRecursive: blkioEntries(blk('blkio.io_merged_recursive')),
      ioTimeRecursive: blkioEntries(blk('blkio.time_recursive')), sectorsRecursive: blkioEntries(blk('blkio.sectors_recursive')),
    });
  } else if (blk('blkio.bfq.io_serviced_recursive') !== undefined) {
    Object.assign(blkio, { ioServiceBytesRecursive: blkioEntries(blk('blkio.bfq.io_service_bytes_recursive')), ioServicedRecursive: blkioEntries(blk('blkio.bfq.io_serviced_recursive')) });
  } else {
    Object.assign(blkio, { ioServiceBytesRecursive: blkioEntries(blk('blkio.throttle.io_service_bytes_recursive')), ioServicedRecursive: blkioEntries(blk('blkio.throttle.io_serviced_recursive')) });
  }
  for (const k of Object.keys(blkio)) if (!(blkio[k] as unknown[]).length) delete blkio[k];

  const hdir = dirOf(paths, 'hugetlb');
  const hug = reader(hdir);
  const hugetlb: Record<string, unknown> = {};
  if (hdir) for (const size of hugePageSizes()) {
    hugetlb[size] = omit({ usage: u64(hug(`hugetlb.${size}.usage_in_bytes`)), max: u64(hug(`hugetlb.${size}.max_usage_in_bytes`)), failcnt: u64(hug(`hugetlb.${size}.failcnt`)) }, ['usage', 'max']);
  }

  return {
    cpu: { usage, throttling }, cpuset, memory,
    pids: omit({ current: u64(pids('pids.current')), limit: u64(pids('pids.max')) }, ['current', 'limit']),
    blkio, hugetlb, intel_rdt: {}, network_interfaces: null,
  };
}

/** v2: one directory. */
export function statsV2(dir: string): Record<string, unknown> {
  const r = reader(dir);
  const cs = parseKeyValues(r('cpu.stat'));
  const us = (k: string) => { const v = cs.get(k) ?? 0; return typeof v === 'bigint' ? v * 1000n : v * 1000; };
  const raw = parseKeyValues(r('memory.stat'));
  const limit = (f: string): U64 => (r(f)?.trim() === 'max' ? 18446744073709551615n : u64(r(f)));
  const memUsage = u64(r('memory.current'));
  const swapUsage = u64(r('memory.swap.current'));
  const add = (a: U64, b: U64): U64 => { const s = BigInt(a) + BigInt(b); return s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s; };
  const memLimit = limit('memory.max');
  const swapLimit = limit('memory.swap.max');
  const events = parseKeyValues(r('memory.events'));
  const memory = omit({
    cache: raw.get('file') ?? 0,
    usage: memEntry(memLimit, memUsage, u64(r('memory.peak')), events.get('max') ?? 0),
    // v1 reports memory+swap: runc adds them up for compatibility.
    swap: memEntry(BigInt(swapLimit) === 18446744073709551615n ? swapLimit : add(swapLimit, memLimit), add(swapUsage, memUsage), 0, 0),
    kernel: memEntry(0, 0, 0, 0), kernelTCP: memEntry(0, 0, 0, 0),
    raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  }, ['cache']);
  if (!raw.size) delete (memory as Record<string, unknown>).raw;
  const bytes: unknown[] = [], ios: unknown[] = [];
  for (const line of (r('io.stat') ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f = new Map(kv.map((x) => x.split('=') as [string, string]));
    const e = (op: string, v: string | undefined) => omit({ major: Number(m[1]), minor: Number(m[2]), op, value: u64(v) }, ['major', 'minor', 'value']);
    bytes.push(e('Read', f.get('rbytes')), e('Write', f.get('wbytes')));
    ios.push(e('Read', f.get('rios')), e('Write', f.get('wios')));
  }
  const hugetlb: Record<string, unknown> = {};
  for (const size of hugePageSizes()) {
    if (r(`hugetlb.${size}.current`) === undefined) continue;
    hugetlb[size] = omit({ usage: u64(r(`hugetlb.${size}.current`)), max: 0, failcnt: parseKeyValues(r(`hugetlb.${size}.events`)).get('max') ?? 0 }, ['usage', 'max']);
  }
  const pmax = r('pids.max')?.trim();
  return {
    cpu: {
      usage: omit({ total: us('usage_usec'), kernel: us('system_usec'), user: us('user_usec') }, ['total']),
      throttling: omit({ periods: cs.get('nr_periods') ?? 0, throttledPeriods: cs.get('nr_throttled') ?? 0, throttledTime: us('throttled_usec') }, ['periods', 'throttledPeriods', 'throttledTime']),
    },
    cpuset: omit({ cpus: parseList(r('cpuset.cpus.effective')), cpu_exclusive: 0, mems: parseList(r('cpuset.mems.effective')), mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0, memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0 }, ['cpus', 'mems']),
    memory,
    pids: omit({ current: u64(r('pids.current')), limit: pmax === 'max' ? 0 : u64(pmax) }, ['current', 'limit']),
    blkio: omit({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios }, ['ioServiceBytesRecursive', 'ioServicedRecursive']),
    hugetlb, intel_rdt: {}, network_interfaces: null,
  };
}

/** OOM counters: v1 memory.oom_control (oom_kill, under_oom), v2 memory.events (oom_kill, oom). */
export function oomCounters(paths: CgroupPaths, v2: boolean): { oomKill: number; underOom: number } | undefined {
  const dir = v2 ? paths.unified : dirOf(paths, 'memory');
  if (!dir) return undefined;
  const text = reader(dir)(v2 ? 'memory.events' : 'memory.oom_control');
  if (text === undefined) return undefined;
  const m = parseKeyValues(text);
  return { oomKill: Number(m.get('oom_kill') ?? 0), underOom: Number(v2 ? m.get('oom') ?? 0 : m.get('under_oom') ?? 0) };
}

/** JSON like Go's encoding/json: bigint written exactly, no spaces. */
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isSafeInteger(v) || !Number.isInteger(v) ? String(v) : BigInt(v).toString()) : 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(goJson).join(',') + ']';
  return '{' + Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => JSON.stringify(k) + ':' + goJson(x)).join(',') + '}';
}
