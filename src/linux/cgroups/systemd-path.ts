/**
 * The systemd cgroup driver's names and paths (pure; runc libcontainer/specconv CreateCgroupConfig and
 * cgroups/systemd common.go, v1.go, v2.go):
 *  - with --systemd-cgroup, linux.cgroupsPath is "slice:prefix:name" (exactly three parts); empty means
 *    ":tsrun:<id>" (runc: ":runc:<id>");
 *  - an empty slice is system.slice; the unit is "<prefix>-<name>.scope", or <name> itself when it ends in
 *    ".slice" (then a slice unit is made, parented with Wants=);
 *  - a slice's cgroup path follows systemd's naming: "a-b.slice" → /a.slice/a-b.slice, "-.slice" → /;
 *  - the unit's cgroup in each v1 hierarchy is <mountpoint>/<PID 1's cgroup minus "init.scope">/<slice path>/<unit>,
 *    in the unified (v2) mount the same, except on a pure v2 host, where it is <mount>/<slice path>/<unit>.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { TsrunError } from '../../errors.js';
import type { CgroupPaths } from './fs.js';
import { parseProcCgroup, type CgroupMounts } from './mounts.js';

export const DEFAULT_SLICE = 'system.slice';
/** The scope prefix for a container without linux.cgroupsPath (runc uses "runc"). */
export const DEFAULT_SCOPE_PREFIX = 'tsrun';

export interface SystemdUnit {
  /** The unit tsrun asks systemd for: "<prefix>-<name>.scope", or a ".slice". */
  unit: string;
  /** The parent slice as given (Slice= / Wants=): "system.slice" when the path left it empty. */
  slice: string;
  /** The slice's cgroup path, "/a.slice/a-b.slice" ("/" for "-.slice"). */
  slicePath: string;
  /** The name part (runc's Cgroup.Name), used in the unit's Description. */
  name: string;
}

const bad = (msg: string) => new TsrunError('ERR_TSRUN_CGROUP', msg);

/** runc ExpandSlice: "test-a-b.slice" → "/test.slice/test-a.slice/test-a-b.slice". */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length < suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw bad(`invalid slice name: ${slice}`);
  const base = slice.slice(0, -suffix.length);
  if (base === '-') return '/';
  let path = '';
  let prefix = '';
  for (const part of base.split('-')) {
    if (!part) throw bad(`invalid slice name: ${slice}`);
    path += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return path;
}

/**
 * systemd's unit name rules (unit_name_is_valid): [A-Za-z0-9:_.\\-@], at most 255 bytes. Checked before any
 * directory is made from the name (runc leaves this to systemd, but tsrun creates the scope's directories first).
 */
function checkUnitName(unit: string, cgroupsPath: string): void {
  if (unit.length > 255 || !/^[A-Za-z0-9:_.\\@-]+$/.test(unit) || unit.startsWith('.')) {
    throw bad(`linux.cgroupsPath ${JSON.stringify(cgroupsPath)}: ${JSON.stringify(unit)} is not a valid systemd unit name`);
  }
}

/** linux.cgroupsPath (with --systemd-cgroup) → the unit and its slice. */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string): SystemdUnit {
  let parent = '';
  let prefix = DEFAULT_SCOPE_PREFIX;
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) {
      throw bad(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
    }
    [parent, prefix, name] = parts as [string, string, string];
  }
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  checkUnitName(unit, cgroupsPath ?? '');
  const slice = parent || DEFAULT_SLICE;
  return { unit, slice, slicePath: expandSlice(slice), name };
}

/** runc getSubsystemPath: PID 1's cgroup, cleaned, without a trailing "init.scope" (systemd ≥ 226 runs there). */
function initBase(initPath: string | undefined): string {
  const clean = posix.normalize(initPath || '/');
  return clean.endsWith('init.scope') ? clean.slice(0, -'init.scope'.length) || '/' : clean;
}

/**
 * The unit's cgroup directory in every hierarchy tsrun uses, keyed like fs.ts (controllers joined by ",";
 * "unified" for the v2 mount). `init` is PID 1's /proc/1/cgroup (parseProcCgroup).
 */
export function systemdCgroupPaths(u: SystemdUnit, mounts: CgroupMounts, init: Map<string, string> = pid1Cgroups()): CgroupPaths {
  const out: CgroupPaths = {};
  const place = (key: string, mountpoint: string, base: string, mountRoot: string) => {
    let inHier = posix.join(base, u.slicePath, u.unit);
    if (mountRoot !== '/' && inHier.startsWith(mountRoot)) inHier = inHier.slice(mountRoot.length) || '/';
    const dir = join(mountpoint, inHier);
    if (!dir.startsWith(mountpoint + '/')) throw bad(`systemd unit ${u.unit}: cgroup path ${dir} escapes ${mountpoint}`);
    out[key] = dir;
  };
  for (const h of mounts.v1) {
    const key = h.controllers.join(',');
    place(key, h.mountpoint, initBase(init.get(key)), h.root);
  }
  if (mounts.v2) place('unified', mounts.v2, mounts.mode === 'v2' ? '/' : initBase(init.get('')), '/');
  return out;
}

function pid1Cgroups(): Map<string, string> {
  try {
    return parseProcCgroup(readFileSync('/proc/1/cgroup', 'utf8'));
  } catch {
    return new Map(); // not readable (hidepid): the hierarchies' roots, where systemd as PID 1 puts its slices
  }
}
