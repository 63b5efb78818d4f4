/**
 * Device cgroup rules, as runc does them (opencontainers/cgroups devices/devices_emulator.go, v1.go):
 * the container's rules are the config's `linux.resources.devices` in order, then runc's default allow list
 * (specconv.AllowedDevices). An emulator replays the rules to get the target state (default allow or deny, plus
 * exceptions), reads the cgroup's current `devices.list` the same way, and the v1 driver writes only the
 * transition between the two — so a running container never passes through "deny all" on `update`.
 * Pure: no file access here.
 */
import { TsrunError } from '../../errors.js';

export interface DeviceCgroupRule {
  /** a = every device (then major/minor/access are ignored), b, c. */
  type: 'a' | 'b' | 'c';
  /** -1 = any (*). */
  major: number;
  minor: number;
  /** Some of r, w, m. */
  access: string;
  allow: boolean;
}

const rule = (type: 'b' | 'c', major: number, minor: number, access: string): DeviceCgroupRule => ({ type, major, minor, access, allow: true });

/** runc libcontainer/specconv AllowedDevices (1.1 … main): appended after the config's rules. */
export const DEFAULT_ALLOWED_DEVICES: readonly { path?: string; rule: DeviceCgroupRule }[] = [
  { rule: rule('c', -1, -1, 'm') },
  { rule: rule('b', -1, -1, 'm') },
  { path: '/dev/null', rule: rule('c', 1, 3, 'rwm') },
  { path: '/dev/random', rule: rule('c', 1, 8, 'rwm') },
  { path: '/dev/full', rule: rule('c', 1, 7, 'rwm') },
  { path: '/dev/tty', rule: rule('c', 5, 0, 'rwm') },
  { path: '/dev/zero', rule: rule('c', 1, 5, 'rwm') },
  { path: '/dev/urandom', rule: rule('c', 1, 9, 'rwm') },
  { rule: rule('c', 136, -1, 'rwm') }, // /dev/pts/*
  { rule: rule('c', 5, 2, 'rwm') }, // /dev/ptmx
  { rule: rule('c', 10, 200, 'rwm') }, // /dev/net/tun
];

const BITS: Record<string, number> = { r: 1, w: 2, m: 4 };
const toSet = (p: string) => [...p].reduce((s, c) => s | (BITS[c] ?? 0), 0);
const fromSet = (s: number) => (s & 1 ? 'r' : '') + (s & 2 ? 'w' : '') + (s & 4 ? 'm' : '');
const key = (type: string, major: number, minor: number) => `${type} ${major} ${minor}`;

export class DeviceEmulator {
  defaultAllow = false;
  /** "type major minor" → permission bits (exceptions to the default). */
  rules = new Map<string, number>();

  static fromRules(rules: readonly DeviceCgroupRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  /** devices.list: "a *:* rwm" alone means allow-all; otherwise every line is an allowed exception. */
  static fromList(list: string): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const line of list.split('\n')) {
      if (!line.trim()) continue;
      const f = line.trim().split(/[ :]/);
      if (f.length !== 4) throw new TsrunError('ERR_TSRUN_CGROUP', `malformed devices.list rule ${line}`);
      const [t, ma, mi, perms] = f as [string, string, string, string];
      if (t === 'a') { e.allow(undefined); continue; }
      if (t !== 'b' && t !== 'c') throw new TsrunError('ERR_TSRUN_CGROUP', `devices.list: unknown device type "${t}"`);
      const n = (s: string) => (s === '*' ? -1 : Number(s));
      if (!/^[rwm]+$/.test(perms)) throw new TsrunError('ERR_TSRUN_CGROUP', `devices.list: bad access mode "${perms}"`);
      e.allow({ type: t, major: n(ma), minor: n(mi), access: perms, allow: true });
    }
    return e;
  }

  apply(r: DeviceCgroupRule): void {
    const inner = r.type === 'a' ? undefined : r;
    if (r.allow) this.allow(inner);
    else this.deny(inner);
  }

  private addRule(r: DeviceCgroupRule): void {
    const k = key(r.type, r.major, r.minor);
    this.rules.set(k, (this.rules.get(k) ?? 0) | toSet(r.access));
  }

  private rmRule(r: DeviceCgroupRule): void {
    const want = toSet(r.access);
    for (const [ma, mi] of [[-1, r.minor], [r.major, -1], [-1, -1]] as const) {
      if (ma === r.major && mi === r.minor) continue;
      const partial = this.rules.get(key(r.type, ma, mi)) ?? 0;
      if (partial & want) {
        throw new TsrunError('ERR_TSRUN_CGROUP', `device rule ${r.type} ${r.major < 0 ? '*' : r.major}:${r.minor < 0 ? '*' : r.minor} ${r.access} is not supported by devices cgroup v1 (cannot punch a hole in the wildcard rule ${r.type} ${ma < 0 ? '*' : ma}:${mi < 0 ? '*' : mi} ${fromSet(partial)})`);
      }
    }
    const k = key(r.type, r.major, r.minor);
    const left = (this.rules.get(k) ?? 0) & ~want;
    if (left) this.rules.set(k, left);
    else this.rules.delete(k);
  }

  private allow(r: DeviceCgroupRule | undefined): void {
    if (!r) { this.defaultAllow = true; this.rules.clear(); return; }
    if (this.defaultAllow) this.rmRule(r);
    else this.addRule(r);
  }

  private deny(r: DeviceCgroupRule | undefined): void {
    if (!r) { this.defaultAllow = false; this.rules.clear(); return; }
    if (this.defaultAllow) this.addRule(r);
    else this.rmRule(r);
  }

  /** Exceptions sorted like runc (major, minor, type). */
  ordered(): { type: 'b' | 'c'; major: number; minor: number; perms: number }[] {
    return [...this.rules].map(([k, perms]) => {
      const [type, major, minor] = k.split(' ');
      return { type: type as 'b' | 'c', major: Number(major), minor: Number(minor), perms };
    }).sort((a, b) => a.major - b.major || a.minor - b.minor || a.type.charCodeAt(0) - b.type.charCodeAt(0));
  }

  equals(o: DeviceEmulator): boolean {
    if (this.defaultAllow !== o.defaultAllow || this.rules.size !== o.rules.size) return false;
    for (const [k, v] of this.rules) if (o.rules.get(k) !== v) return false;
    return true;
  }

  /** The writes that turn this (the cgroup's current state) into target: [file, line][]. */
  transition(target: DeviceEmulator): [string, string][] {
    const out: [string, string][] = [];
    const file = (allow: boolean) => (allow ? 'devices.allow' : 'devices.deny');
    let old = this.ordered();
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push([file(target.defaultAllow), 'a *:* rwm']);
      old = [];
    }
    const oldMap = new Map(old.map((r) => [key(r.type, r.major, r.minor), r.perms]));
    for (const r of old) {
      const dropped = r.perms & ~(target.rules.get(key(r.type, r.major, r.minor)) ?? 0);
      if (dropped) out.push([file(target.defaultAllow), line(r.type, r.major, r.minor, dropped)]);
    }
    for (const r of target.ordered()) {
      const gained = r.perms & ~(oldMap.get(key(r.type, r.major, r.minor)) ?? 0);
      if (gained) out.push([file(!target.defaultAllow), line(r.type, r.major, r.minor, gained)]);
    }
    return out;
  }
}

const line = (t: string, ma: number, mi: number, perms: number) => `${t} ${ma < 0 ? '*' : ma}:${mi < 0 ? '*' : mi} ${fromSet(perms)}`;
