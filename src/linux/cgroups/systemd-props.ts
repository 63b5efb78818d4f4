/**
 * systemd unit properties for a container's scope (pure; runc libcontainer/cgroups/systemd common.go, v1.go,
 * v2.go and specconv initSystemdProps). A property is (name, D-Bus signature, value); the client wraps each value
 * in a variant of that signature. 64-bit values are bigint; "unlimited" is 2^64-1 (systemd's infinity).
 */
import { readFileSync, statSync } from 'node:fs';
import { TsrunError } from '../../errors.js';
import { DeviceEmulator } from './devices.js';
import { sharesToWeight, type CgroupResources } from './resources.js';
import { swapToV2 } from './resources-v2.js';
import type { SystemdUnit } from './systemd-path.js';

export interface UnitProperty {
  name: string;
  /** D-Bus signature of the value: b, s, t, au, ay, a(ss), … */
  sig: string;
  value: unknown;
}

const prop = (name: string, sig: string, value: unknown): UnitProperty => ({ name, sig, value });
const U64_MAX = 2n ** 64n - 1n;
/** Go's uint64(int64): -1 → 2^64-1. */
const u64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(typeof n === 'number' ? Math.trunc(n) : n));
const bad = (msg: string) => new TsrunError('ERR_TSRUN_CGROUP', msg);
/** The kernel's default CFS period (µs), v1 and v2 alike. */
const DEFAULT_QUOTA_PERIOD = 100_000;

/** What the properties depend on besides the resources. */
export interface PropertyContext {
  /** A pure cgroup v2 host (runc's unified manager) rather than v1/hybrid (the legacy manager). */
  v2: boolean;
  /** systemd's version (Manager.Version), asked only when needsSystemdVersion() says so; -1 if unknown. */
  version: number;
  /** For warnings (runc logs them). */
  warn?: (msg: string) => void;
  /** /proc/devices and path checks, replaceable in tests. */
  procDevices?: () => string;
  exists?: (path: string) => boolean;
}

/**
 * The properties StartTransientUnit gets for a new container (runc Apply): Description, Slice= and Delegate=yes
 * for a scope (Wants= for a slice), the pid, accounting on, DefaultDependencies=no, the config's
 * org.systemd.property.* annotations — and, unlike runc (which sends them in a second call, SetUnitProperties,
 * right after), the resource properties, so systemd's limits hold from the unit's first moment.
 */
export function startProperties(u: SystemdUnit, pid: number, r: CgroupResources, annotations: Record<string, string> | undefined, ctx: PropertyContext): UnitProperty[] {
  const props: UnitProperty[] = [prop('Description', 's', `tsrun container ${u.name}`)];
  if (u.unit.endsWith('.slice')) props.push(prop('Wants', 'as', [u.slice]));
  else props.push(prop('Slice', 's', u.slice), prop('Delegate', 'b', true));
  if (pid !== -1) props.push(prop('PIDs', 'au', [pid]));
  props.push(prop('MemoryAccounting', 'b', true), prop('CPUAccounting', 'b', true),
    prop(ctx.v2 ? 'IOAccounting' : 'BlockIOAccounting', 'b', true), prop('TasksAccounting', 'b', true),
    prop('DefaultDependencies', 'b', false));
  props.push(...annotationProperties(annotations));
  props.push(...resourceProperties(r, ctx));
  return props;
}

/** runc's v1 and v2 optional features: CPUQuotaPeriodUSec needs systemd ≥ 242, AllowedCPUs/AllowedMemoryNodes ≥ 244. */
export function needsSystemdVersion(r: CgroupResources): boolean {
  return Boolean(r.cpuPeriod || r.cpusetCpus || r.cpusetMems || r.unified?.['cpu.max'] || r.unified?.['cpuset.cpus'] || r.unified?.['cpuset.mems']);
}

/** runc genV1ResourcesProperties / genV2ResourcesProperties. */
export function resourceProperties(r: CgroupResources, ctx: PropertyContext): UnitProperty[] {
  const props: UnitProperty[] = [...deviceProperties(r, ctx)];
  const memory = r.memory ?? 0;
  if (!ctx.v2) {
    if (memory) props.push(prop('MemoryLimit', 't', u64(memory)));
    if (r.cpuShares) props.push(prop('CPUShares', 't', u64(r.cpuShares)));
    addCpuQuota(props, r.cpuQuota ?? 0, r.cpuPeriod ?? 0, ctx);
    if (r.blkioWeight) props.push(prop('BlockIOWeight', 't', u64(r.blkioWeight)));
  } else {
    if (memory) props.push(prop('MemoryMax', 't', u64(memory)));
    if (r.memoryReservation) props.push(prop('MemoryLow', 't', u64(r.memoryReservation)));
    const swap = swapToV2(r.memorySwap ?? 0, memory);
    if (swap) props.push(prop('MemorySwapMax', 't', u64(swap)));
    const weight = sharesToWeight(r.cpuShares ?? 0);
    if (weight) props.push(prop('CPUWeight', 't', u64(weight)));
    addCpuQuota(props, r.cpuQuota ?? 0, r.cpuPeriod ?? 0, ctx);
  }
  const pids = r.pidsLimit ?? 0;
  if (pids > 0 || pids === -1) props.push(prop('TasksMax', 't', u64(pids)));
  addCpuset(props, r.cpusetCpus, r.cpusetMems, ctx);
  if (ctx.v2 && r.unified) props.push(...unifiedProperties(r.unified, ctx));
  return props;
}

/** runc addCpuQuota: CPUQuotaPerSecUSec rounded up to whole percents (systemd keeps a percentage). */
function addCpuQuota(props: UnitProperty[], quota: number, period: number, ctx: PropertyContext): void {
  if (period) {
    if (ctx.version >= 242) props.push(prop('CPUQuotaPeriodUSec', 't', u64(period)));
    else ctx.warn?.(`systemd v${ctx.version} is too old to support CPUQuotaPeriodSec (setting will still be applied to cgroupfs)`);
  }
  if (quota || period) {
    let perSec = U64_MAX;
    if (quota > 0) {
      const p = BigInt(period || DEFAULT_QUOTA_PERIOD);
      perSec = (BigInt(quota) * 1_000_000n) / p;
      if (perSec % 10_000n) perSec = (perSec / 10_000n + 1n) * 10_000n;
    }
    props.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  }
}

function addCpuset(props: UnitProperty[], cpus: string | undefined, mems: string | undefined, ctx: PropertyContext): void {
  if (!cpus && !mems) return;
  if (ctx.version < 244) {
    ctx.warn?.(`systemd v${ctx.version} is too old to support AllowedCPUs/AllowedMemoryNodes (settings will still be applied to cgroupfs)`);
    return;
  }
  if (cpus) props.push(prop('AllowedCPUs', 'ay', rangeToBits(cpus, `resources.CPU.Cpus=${JSON.stringify(cpus)}`)));
  if (mems) props.push(prop('AllowedMemoryNodes', 'ay', rangeToBits(mems, `resources.CPU.Mems=${JSON.stringify(mems)}`)));
}

/**
 * runc RangeToBits: a cpuset list ("0-2,7") → the bitmask systemd takes for AllowedCPUs, least significant byte
 * first (CPU 0 is bit 0 of byte 0).
 */
export function rangeToBits(list: string, what = JSON.stringify(list)): Buffer {
  let bits = 0n;
  const num = (s: string) => {
    if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw bad(`${what} conversion error: strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
    return Number(s);
  };
  for (const raw of list.split(',')) {
    const r = raw.trim();
    if (!r) continue;
    const [a, b] = r.split('-', 2) as [string, string | undefined];
    const start = num(a.trim());
    const end = b === undefined ? start : num(b.trim());
    if (start > end) throw bad(`${what} conversion error: invalid range: ${r}`);
    for (let i = start; i <= end; i++) bits |= 1n << BigInt(i);
  }
  if (!bits) throw bad(`${what} conversion error: empty value`);
  const out: number[] = [];
  for (; bits; bits >>= 8n) out.push(Number(bits & 0xffn));
  return Buffer.from(out);
}

/** runc unifiedResToSystemdProps (v2 only): the unified keys systemd has a property for; the rest goes to cgroupfs. */
function unifiedProperties(unified: Record<string, string>, ctx: PropertyContext): UnitProperty[] {
  const props: UnitProperty[] = [];
  const uint = (k: string, v: string) => {
    if (!/^\d+$/.test(v)) throw bad(`unified resource ${JSON.stringify(k)} value conversion error: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return BigInt(v);
  };
  const MEM: Record<string, string> = { 'memory.high': 'MemoryHigh', 'memory.low': 'MemoryLow', 'memory.min': 'MemoryMin', 'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax' };
  for (const [k, raw] of Object.entries(unified)) {
    if (k.includes('/')) throw bad(`unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
    if (!k.includes('.')) throw bad(`unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
    const v = raw.trim();
    if (k === 'cpu.max') {
      const f = v.split(/\s+/);
      if (f.length < 1 || f.length > 2 || !f[0]) throw bad(`unified resource ${JSON.stringify(k)} value invalid: ${JSON.stringify(v)}`);
      const quota = f[0] === 'max' ? 0 : Number(uint(k, f[0]));
      const period = f[1] !== undefined ? Number(uint(k, f[1])) : DEFAULT_QUOTA_PERIOD;
      addCpuQuota(props, quota, period, ctx);
    } else if (k === 'cpu.weight') {
      props.push(prop('CPUWeight', 't', uint(k, v)));
    } else if (k === 'cpuset.cpus' || k === 'cpuset.mems') {
      const bits = rangeToBits(v, `unified resource ${JSON.stringify(k)}=${JSON.stringify(v)}`);
      if (ctx.version >= 244) props.push(prop(k === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', 'ay', bits));
    } else if (MEM[k]) {
      props.push(prop(MEM[k], 't', v === 'max' ? U64_MAX : uint(k, v)));
    } else if (k === 'pids.max') {
      props.push(prop('TasksMax', 't', v === 'max' ? U64_MAX : uint(k, v)));
    }
    // anything else: no unit property; applied to cgroupfs only (runc logs it at debug level)
  }
  return props;
}

/**
 * runc generateDeviceProperties: systemd only knows allow lists ("strict" policy + DeviceAllow=), so the rules
 * are replayed through the device emulator and its exceptions become DeviceAllow entries: n:m → /dev/{char,block}/n:m
 * (skipped when neither it nor /sys/dev/… exists), n:* → the device group from /proc/devices, *:* → "char-*".
 * A deny list that is not "allow everything" becomes a temporary deny-all (the cgroupfs rules that follow fix it).
 */
export function deviceProperties(r: CgroupResources, ctx: PropertyContext): UnitProperty[] {
  if (r.skipDevices || !r.devices) return [];
  const emu = DeviceEmulator.fromRules(r.devices);
  if (emu.defaultAllow) {
    if (emu.rules.size === 0) return [prop('DevicePolicy', 's', 'auto'), prop('DeviceAllow', 'a(ss)', [])];
    ctx.warn?.("systemd doesn't support blacklist device rules -- applying temporary deny-all rule");
    return [prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', [])];
  }
  const exists = ctx.exists ?? ((p: string) => { try { statSync(p); return true; } catch { return false; } });
  const allow: [string, string][] = [];
  for (const rule of emu.ordered()) {
    const perms = (rule.perms & 1 ? 'r' : '') + (rule.perms & 2 ? 'w' : '') + (rule.perms & 4 ? 'm' : '');
    const kind = rule.type === 'b' ? 'block' : 'char';
    if (rule.major < 0) {
      if (rule.minor >= 0) { ctx.warn?.(`systemd doesn't support '*:n' device rules -- temporarily ignoring rule: ${rule.type} *:${rule.minor} ${perms}`); continue; }
      allow.push([`${kind}-*`, perms]);
    } else if (rule.minor < 0) {
      const group = deviceGroup(rule.type, rule.major, ctx.procDevices);
      if (!group) { ctx.warn?.(`could not find device group for '${rule.type}/${rule.major}' in /proc/devices -- temporarily ignoring rule`); continue; }
      allow.push([group, perms]);
    } else {
      const path = `/dev/${kind}/${rule.major}:${rule.minor}`;
      if (!exists(path) && !exists(`/sys${path}`)) { ctx.warn?.(`skipping device ${path} for systemd: no such file or directory`); continue; }
      allow.push([path, perms]);
    }
  }
  // runc sends an empty DeviceAllow first (to reset the list), then the full one
  return [prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', []), prop('DeviceAllow', 'a(ss)', allow)];
}

/** runc findDeviceGroup: "char-pts" for (c, 136) from /proc/devices. */
export function deviceGroup(type: 'b' | 'c', major: number, procDevices = () => readFileSync('/proc/devices', 'utf8')): string | undefined {
  let cur: 'b' | 'c' | undefined;
  for (const raw of procDevices().split('\n')) {
    const line = raw.trim();
    if (line === 'Block devices:') { cur = 'b'; continue; }
    if (line === 'Character devices:') { cur = 'c'; continue; }
    if (!line || cur !== type) continue;
    const [n, name] = line.split(/\s+/);
    if (Number(n) === major && name) return `${type === 'b' ? 'block' : 'char'}-${name}`;
  }
  return undefined;
}

/**
 * runc initSystemdProps: annotations "org.systemd.property.<Name>" = a GVariant text value become unit
 * properties; "<name>Sec" (a lower-case letter before Sec) becomes "<name>USec" in microseconds. tsrun reads the
 * GVariant forms callers use: true/false, numbers (bare = int32, or typed: "uint64 5"), 'strings', "strings",
 * ['string', …] and "@as []".
 */
export function annotationProperties(annotations: Record<string, string> | undefined): UnitProperty[] {
  const PREFIX = 'org.systemd.property.';
  const out: UnitProperty[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!k.startsWith(PREFIX)) continue;
    let name = k.slice(PREFIX.length);
    if (name.length < 3) throw bad(`annotation ${k} name incorrect: too short`);
    if (!/^[A-Za-z]+$/.test(name)) throw bad(`annotation ${k} name incorrect: contains non-alphabetic character`);
    let p: UnitProperty;
    try {
      p = parseGVariant(v);
    } catch (e) {
      throw bad(`annotation ${k}=${v} value parse error: ${(e as Error).message}`);
    }
    const trimmed = name.slice(0, -3);
    if (name.endsWith('Sec') && /[a-z]$/.test(trimmed)) {
      name = `${trimmed}USec`;
      if (p.sig === 'd') p = prop(name, 't', u64(Math.trunc((p.value as number) * 1e6)));
      else if ('yqunixt'.includes(p.sig) && p.sig.length === 1) p = prop(name, 't', u64(BigInt(p.value as bigint | number) * 1_000_000n));
      else throw bad(`annotation ${k}=${v} value parse error: not a number`);
    }
    out.push({ ...p, name });
  }
  return out;
}

const INT_TYPES: Record<string, [string, bigint, bigint]> = {
  byte: ['y', 0n, 255n], int16: ['n', -(2n ** 15n), 2n ** 15n - 1n], uint16: ['q', 0n, 2n ** 16n - 1n],
  int32: ['i', -(2n ** 31n), 2n ** 31n - 1n], uint32: ['u', 0n, 2n ** 32n - 1n],
  int64: ['x', -(2n ** 63n), 2n ** 63n - 1n], uint64: ['t', 0n, U64_MAX],
};

function parseGVariant(text: string): UnitProperty {
  const s = text.trim();
  if (s === 'true' || s === 'false') return prop('', 'b', s === 'true');
  const str = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(s);
  if (str) return prop('', 's', unquote(str[1] ?? str[2] ?? ''));
  const typed = /^(byte|int16|uint16|int32|uint32|int64|uint64)\s+(-?\d+)$/.exec(s);
  const bare = /^-?\d+$/.test(s) ? ['int32', s] : undefined;
  const num = typed ? [typed[1]!, typed[2]!] : bare;
  if (num) {
    const [sig, min, max] = INT_TYPES[num[0]!]!;
    const n = BigInt(num[1]!);
    if (n < min || n > max) throw new Error(`${num[1]} out of range for ${num[0]}`);
    return prop('', sig, sig === 't' || sig === 'x' ? n : Number(n));
  }
  if (/^(double\s+)?-?\d+\.\d*(e-?\d+)?$/.test(s)) return prop('', 'd', Number(s.replace(/^double\s+/, '')));
  if (s === '@as []' || s === '[]') return prop('', 'as', []);
  const arr = /^\[(.*)\]$/.exec(s);
  if (arr) {
    const items = [...arr[1]!.matchAll(/\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/g)];
    const rebuilt = items.map((m) => m[0]).join('');
    if (rebuilt.trim() !== arr[1]!.trim()) throw new Error('only arrays of strings are supported');
    return prop('', 'as', items.map((m) => unquote(m[1] ?? m[2] ?? '')));
  }
  throw new Error(`unsupported GVariant text ${JSON.stringify(s)}`);
}

const unquote = (s: string) => s.replace(/\\(.)/g, '$1');
