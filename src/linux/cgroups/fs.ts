/**
 * The cgroupfs driver: create the container's cgroup in every hierarchy, list its processes, freeze state,
 * remove exactly the directories tsrun created. Paths follow runc's rules (libcontainer/cgroups/fs):
 *  - an absolute cgroupsPath is relative to each hierarchy's root;
 *  - a relative one, or none (then the container id is the name), is relative to tsrun's own cgroup.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, TsrunError } from '../../errors.js';
import { hostCgroupMounts, parseProcCgroup, type CgroupMounts } from './mounts.js';

/** key → absolute host directory of the container's cgroup. Keys: the hierarchy's controllers ("cpu,cpuacct"), "unified" for v2. */
export type CgroupPaths = Record<string, string>;

export function resolveCgroupPaths(cgroupsPath: string | undefined, id: string, mounts: CgroupMounts = hostCgroupMounts(),
  own: Map<string, string> = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'))): CgroupPaths {
  if (cgroupsPath?.includes(':')) {
    throw new TsrunError('ERR_TSRUN_CGROUP', `linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} looks like a systemd path (slice:prefix:name) but --systemd-cgroup was not given`);
  }
  const rel = cgroupsPath ? posix.normalize(cgroupsPath) : id;
  const abs = rel.startsWith('/');
  const out: CgroupPaths = {};
  const place = (key: string, mountpoint: string, ownPath: string | undefined, mountRoot: string) => {
    // Inside the hierarchy: absolute as given, or below our own cgroup; then strip the mount's root.
    let inHier = abs ? rel : posix.join(ownPath ?? '/', rel);
    if (mountRoot !== '/' && inHier.startsWith(mountRoot)) inHier = inHier.slice(mountRoot.length) || '/';
    const dir = join(mountpoint, inHier);
    if (!dir.startsWith(mountpoint + '/')) {
      throw new TsrunError('ERR_TSRUN_CGROUP', `linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} escapes the cgroup hierarchy ${mountpoint}`);
    }
    out[key] = dir;
  };
  for (const h of mounts.v1) place(h.controllers.join(','), h.mountpoint, own.get(h.controllers.join(',')), h.root);
  if (mounts.v2) place('unified', mounts.v2, own.get(''), '/');
  return out;
}

/** v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks (ENOSPC) until they are copied down. */
function initCpuset(dir: string, mountpoint: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const mine = readFileSync(join(dir, f), 'utf8').trim();
    if (mine) continue;
    let parent = join(dir, '..');
    let val = '';
    while (parent.startsWith(mountpoint) && !(val = readFileSync(join(parent, f), 'utf8').trim())) parent = join(parent, '..');
    writeFileSync(join(dir, f), val);
  }
}

/**
 * mkdir -p each path; returns the directories created, deepest first, for destroy(). A parent that existed may be
 * removed by a concurrent delete of the container that created it (destroyCgroups removes unused parents) between
 * our EEXIST and the mkdir below it: ENOENT then means "start this hierarchy over", a few times.
 */
export function createCgroups(paths: CgroupPaths, mounts: CgroupMounts = hostCgroupMounts(),
  mkdir: (dir: string) => void = mkdirSync): string[] {
  const created: string[] = [];
  try {
    for (const [key, dir] of Object.entries(paths)) {
      const mountpoint = key === 'unified' ? mounts.v2! : mounts.v1.find((h) => h.controllers.join(',') === key)!.mountpoint;
      const parts = dir.slice(mountpoint.length).split('/').filter(Boolean);
      for (let attempt = 1; ; attempt++) {
        try {
          let cur = mountpoint;
          for (const p of parts) {
            cur = join(cur, p);
            try {
              mkdir(cur);
              created.push(cur);
            } catch (e) {
              if (!isErrno(e, 'EEXIST')) throw e;
            }
            if (key.split(',').includes('cpuset')) initCpuset(cur, mountpoint);
          }
          break;
        } catch (e) {
          if (!isErrno(e, 'ENOENT') || attempt >= 5) throw e;
        }
      }
    }
  } catch (e) {
    destroyCgroupsSync(created.slice().reverse());
    throw new TsrunError('ERR_TSRUN_CGROUP', `unable to create cgroup: ${(e as Error).message}`, { cause: e });
  }
  return created.reverse();
}

export function cgroupProcsFiles(paths: CgroupPaths): string[] {
  return Object.values(paths).map((d) => join(d, 'cgroup.procs'));
}

export function freezerState(paths: CgroupPaths): 'THAWED' | 'FROZEN' | 'FREEZING' | undefined {
  try {
    if (paths.freezer) return readFileSync(join(paths.freezer, 'freezer.state'), 'utf8').trim() as 'THAWED';
    if (paths.unified && !Object.keys(paths).some((k) => k !== 'unified')) {
      return readFileSync(join(paths.unified, 'cgroup.freeze'), 'utf8').trim() === '1' ? 'FROZEN' : 'THAWED';
    }
  } catch { /* gone */ }
  return undefined;
}

/**
 * rmdir each directory; with subtrees, its descendant cgroups first, deepest first (runc RemovePath): a container
 * with a writable cgroupfs (systemd or Docker inside it) makes cgroups below its own. Only for the container's own
 * cgroups: the parents we created may hold other containers' cgroups. Returns what could not be removed.
 */
function destroyCgroupsSync(created: string[], subtrees = false): string[] {
  const rm = (d: string): void => {
    try {
      rmdirSync(d);
      return;
    } catch (e) {
      // busy: processes, or child cgroups (the only case worth a readdir, which costs ≈ 0.2 ms on cgroupfs)
      if (!subtrees || !(isErrno(e, 'EBUSY') || isErrno(e, 'ENOTEMPTY'))) throw e;
    }
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (!ent.isDirectory()) continue;
      try { rm(join(d, ent.name)); } catch (e) { if (!isErrno(e, 'ENOENT')) throw e; }
    }
    rmdirSync(d);
  };
  const left: string[] = [];
  for (const d of created) {
    try {
      rm(d);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) left.push(d);
    }
  }
  return left;
}

/**
 * rmdir what we created, retrying while exiting processes still hold the container's own cgroups (EBUSY). On v1
 * an exited process stays listed until its parent reaps it, and a container's init is usually orphaned to a
 * subreaper or to pid 1, which may take a second or more to get to it: wait up to 10 s. Parents we created
 * along the way are removed only if nobody else uses them by then (other containers may live there).
 */
export async function destroyCgroups(created: string[], leaves?: Iterable<string>, timeoutMs = 10_000): Promise<void> {
  const leafSet = new Set(leaves ?? created);
  let left = created.filter((d) => leafSet.has(d));
  const end = Date.now() + timeoutMs;
  for (let i = 0; left.length; i++) {
    left = destroyCgroupsSync(left, true);
    if (!left.length || Date.now() > end) break;
    await sleep(Math.min(2 ** i, 50));
  }
  if (!left.length) destroyCgroupsSync(created.filter((d) => !leafSet.has(d)));
  if (left.length) throw new TsrunError('ERR_TSRUN_CGROUP', `unable to remove cgroup ${left[0]}: device or resource busy`);
}

export const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };

/**
 * Freeze or thaw, returning once the kernel reports the target state (runc fs/freezer.go, fs2/freezer.go):
 *  - v1 freezer.state: re-write FROZEN while it reads FREEZING (a task that forks while freezing escapes the
 *    first pass); every 50 tries thaw briefly so a stuck task can finish; on failure leave it thawed;
 *  - v2 cgroup.freeze: write 1, then wait for "frozen 1" in cgroup.events (cgroup.freeze reads back 1 at once).
 */
export async function setFrozen(paths: CgroupPaths, frozen: boolean): Promise<void> {
  const v1 = paths.freezer;
  const file = v1 ? join(v1, 'freezer.state') : paths.unified ? join(paths.unified, 'cgroup.freeze') : undefined;
  if (!file) throw new TsrunError('ERR_TSRUN_CGROUP', 'no freezer: the host mounts neither the v1 freezer nor cgroup v2');
  const thaw = () => { try { writeFileSync(file, v1 ? 'THAWED' : '0'); } catch { /* gone */ } };
  if (!frozen) { writeFileSync(file, v1 ? 'THAWED' : '0'); return; }
  try {
    for (let i = 0; i < 1000; i++) {
      if (v1) {
        if (i % 50 === 49) { thaw(); await sleep(10); }
        writeFileSync(file, 'FROZEN');
        const now = readFileSync(file, 'utf8').trim();
        if (now === 'FROZEN') return;
        if (now !== 'FREEZING') throw new TsrunError('ERR_TSRUN_CGROUP', `unexpected state ${now} while freezing`);
        if (i % 5 === 4) await sleep(1);
      } else {
        if (i === 0) writeFileSync(file, '1');
        if (/^frozen 1$/m.test(readFileSync(join(paths.unified!, 'cgroup.events'), 'utf8'))) return;
        await sleep(10);
      }
    }
  } catch (e) {
    thaw();
    throw e instanceof TsrunError ? e : new TsrunError('ERR_TSRUN_CGROUP', `unable to freeze ${file}: ${(e as Error).message}`, { cause: e });
  }
  thaw();
  throw new TsrunError('ERR_TSRUN_CGROUP', v1 ? 'unable to freeze' : 'timeout of 10s reached waiting for the cgroup to freeze');
}
