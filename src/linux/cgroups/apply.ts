/**
 * Carry out a resource plan on the container's cgroup: pick the planner for the host (v1 and hybrid → the v1
 * hierarchies, the v2 mount being for membership only; pure v2 → the unified directory, after enabling the
 * controllers the plan needs in every parent's cgroup.subtree_control), then write each value with one
 * open/write/close, as runc does. A value the kernel refuses fails with the file and value named
 * (`failed to write "VALUE": write PATH: reason`, runc's wording).
 */
import { closeSync, constants as C, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoText, TsrunError } from '../../errors.js';
import type { CgroupPaths } from './fs.js';
import type { CgroupMounts } from './mounts.js';
import type { CgroupPlan, CgroupProbe, CgroupWrite } from './plan-types.js';
import type { DeviceCgroupRule } from './devices.js';
import { applyDeviceFilter } from './devices-bpf-attach.js';
import type { CgroupResources } from './resources.js';
import { planV1 } from './resources-v1.js';
import { planV2 } from './resources-v2.js';

/** File access, replaceable in tests (a fake cgroupfs that answers EINVAL, EBUSY, …). */
export interface CgroupIo {
  /** Content, or undefined when the file cannot be read. */
  read(path: string): string | undefined;
  /** One write(2) of value; throws a Node errno error. Never creates the file. */
  write(path: string, value: string): void;
  /**
   * v2: make `rules` the cgroup directory's eBPF device filter (devices-bpf-attach.ts); returns a warning when
   * runc would carry on without it (unprivileged, user namespace). Absent only in test doubles of the cgroupfs,
   * which then apply no device rules.
   */
  setDeviceFilter?(dir: string, rules: readonly DeviceCgroupRule[]): string | undefined;
}

export const realIo: CgroupIo = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  write(path, value) {
    const fd = openSync(path, C.O_WRONLY);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  },
  setDeviceFilter: (dir, rules) => applyDeviceFilter(dir, rules),
};

export interface ApplyResult {
  warnings: string[];
  plan: CgroupPlan;
}

type Driver = 'v1' | 'v2';

export function driverFor(mounts: CgroupMounts): Driver {
  return mounts.mode === 'v2' ? 'v2' : 'v1';
}

/** The directory holding `controller`'s files (v1: the hierarchy that has it; v2: the one unified directory). */
function dirFor(paths: CgroupPaths, driver: Driver, controller: string): string | undefined {
  if (driver === 'v2') return paths.unified;
  const key = Object.keys(paths).find((k) => k !== 'unified' && k.split(',').includes(controller));
  return key ? paths[key] : undefined;
}

export function makeProbe(paths: CgroupPaths, driver: Driver, io: CgroupIo): CgroupProbe {
  return {
    read(controller, file) {
      const dir = dirFor(paths, driver, controller);
      return dir ? io.read(join(dir, file)) : undefined;
    },
  };
}

export function planFor(r: CgroupResources, paths: CgroupPaths, mounts: CgroupMounts, io: CgroupIo = realIo): CgroupPlan {
  const driver = driverFor(mounts);
  const probe = makeProbe(paths, driver, io);
  return driver === 'v2' ? planV2(r, probe) : planV1(r, probe);
}

/** Plan and write. Throws TsrunError naming the file and value on the first refused write. */
export function applyResources(paths: CgroupPaths, r: CgroupResources, mounts: CgroupMounts, io: CgroupIo = realIo): ApplyResult {
  const driver = driverFor(mounts);
  const plan = planFor(r, paths, mounts, io);
  let available: Set<string> | undefined;
  if (driver === 'v2') available = enableControllers(paths, mounts, plan.writes, io);
  const deferred: { w: CgroupWrite; path: string }[] = [];
  const put = (w: CgroupWrite, path: string) => {
    try {
      io.write(path, w.value);
    } catch (e) {
      throw writeError(e, w, path, io, available);
    }
  };
  for (const w of plan.writes) {
    const dir = dirFor(paths, driver, w.controller);
    if (!dir) {
      throw new TsrunError('ERR_TSRUN_CGROUP', `cannot set ${w.controller} limit: the host has no cgroup v1 ${w.controller} hierarchy (wanted to write ${JSON.stringify(w.value)} to ${w.file})`,
        w.what ? { hint: `from ${w.what}` } : {});
    }
    const path = join(dir, w.file);
    try {
      io.write(path, w.value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && w.optional) continue;
      if (code === 'EINVAL' && w.deferOnEinval) { deferred.push({ w, path }); continue; }
      throw writeError(e, w, path, io, available);
    }
    if (w.verify) {
      const msg = w.verify((f) => io.read(join(dir, f)));
      if (msg) throw new TsrunError('ERR_TSRUN_CGROUP', msg, w.what ? { hint: `from ${w.what}` } : {});
    }
    // A period refused before its quota goes in now that the quota is there (runc cpu.go).
    while (deferred.length) { const d = deferred.shift()!; put(d.w, d.path); }
  }
  while (deferred.length) { const d = deferred.shift()!; put(d.w, d.path); }
  // v2 has no devices controller: the rules become an eBPF program on the cgroup (runc fs2 setDevices), attached
  // before the init joins; update leaves it alone (skipDevices). v1/hybrid: devices.allow/deny in the plan above.
  const devWarning = driver === 'v2' && !r.skipDevices && r.devices ? io.setDeviceFilter?.(paths.unified!, r.devices) : undefined;
  return { warnings: devWarning ? [...plan.warnings, devWarning] : plan.warnings, plan };
}

/**
 * v2: a controller's files exist in a cgroup only when its parent enables it in cgroup.subtree_control. Enable
 * each controller the plan needs from the mount's root down to the container's parent, skipping those already
 * on. Returns the controllers the host has (root cgroup.controllers).
 */
function enableControllers(paths: CgroupPaths, mounts: CgroupMounts, writes: CgroupWrite[], io: CgroupIo): Set<string> {
  const mount = mounts.v2!;
  const leaf = paths.unified!;
  const available = new Set((io.read(join(mount, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean));
  const needed: string[] = [];
  for (const w of writes) {
    if (w.controller === 'cgroup' || needed.includes(w.controller)) continue;
    if (!available.has(w.controller)) {
      if (w.unifiedKey) continue; // the write itself fails with runc's "controller not available"
      throw new TsrunError('ERR_TSRUN_CGROUP', `cannot write ${JSON.stringify(w.value)} to ${join(leaf, w.file)}: the cgroup v2 controller "${w.controller}" is not available on this host (${join(mount, 'cgroup.controllers')}: "${[...available].join(' ')}")`,
        w.what ? { hint: `from ${w.what}` } : {});
    }
    needed.push(w.controller);
  }
  if (!needed.length) return available;
  const chain: string[] = [];
  for (let d = dirname(leaf); d.length >= mount.length && d.startsWith(mount); d = dirname(d)) {
    chain.unshift(d);
    if (d === mount) break;
  }
  for (const d of chain) {
    const file = join(d, 'cgroup.subtree_control');
    const on = new Set((io.read(file) ?? '').split(/\s+/).filter(Boolean));
    for (const c of needed) {
      if (on.has(c)) continue;
      try {
        io.write(file, `+${c}`);
      } catch (e) {
        throw new TsrunError('ERR_TSRUN_CGROUP', `failed to write "+${c}": write ${file}: ${reason(e)}`, {
          hint: reasonCode(e) === 'EBUSY' ? `${d} has processes of its own: cgroup v2 enables controllers only for cgroups without member processes ("no internal processes")` : `the ${c} controller is needed for ${leaf}`,
        });
      }
    }
  }
  return available;
}

const reasonCode = (e: unknown) => (e as NodeJS.ErrnoException)?.code;
function reason(e: unknown): string {
  const n = (e as NodeJS.ErrnoException)?.errno;
  return typeof n === 'number' ? errnoText(Math.abs(n)) : (e as Error)?.message ?? String(e);
}

function writeError(e: unknown, w: CgroupWrite, path: string, io: CgroupIo, available: Set<string> | undefined): TsrunError {
  const hint = w.what ? { hint: `from ${w.what}` } : {};
  const code = reasonCode(e);
  const base = `failed to write ${JSON.stringify(w.value)}: write ${path}: ${reason(e)}`;
  if (w.file === 'memory.limit_in_bytes' && code === 'EBUSY') {
    const dir = dirname(path);
    const n = (f: string) => io.read(join(dir, f))?.trim() ?? '?';
    return new TsrunError('ERR_TSRUN_CGROUP', `unable to set memory limit to ${w.value} (current usage: ${n('memory.usage_in_bytes')}, peak usage: ${n('memory.max_usage_in_bytes')})`, { ...hint, cause: e });
  }
  if (w.unifiedKey && (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM')) {
    const k = w.unifiedKey;
    const dot = k.indexOf('.');
    if (dot <= 0) return new TsrunError('ERR_TSRUN_CGROUP', `unified resource "${k}" must be in the form CONTROLLER.PARAMETER`, { cause: e });
    const c = k.slice(0, dot);
    if (c !== 'cgroup' && available && !available.has(c)) return new TsrunError('ERR_TSRUN_CGROUP', `unified resource "${k}" can't be set: controller "${c}" not available`, { cause: e });
  }
  if (w.unifiedKey) return new TsrunError('ERR_TSRUN_CGROUP', `unable to set unified resource "${w.unifiedKey}": ${base}`, { cause: e });
  return new TsrunError('ERR_TSRUN_CGROUP', base, { ...hint, cause: e });
}
