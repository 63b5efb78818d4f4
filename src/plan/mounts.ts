/**
 * config.json `mounts` → `mount` steps (runc's rootfs_linux.go mountToRootfs, decided ahead of time).
 *
 * - Bind mounts: the host source (relative to the bundle when not absolute) is opened by the executor and bound
 *   through its fd (BIND_FD); the target is created as a directory or an empty file after the source's type
 *   (ctx.sourceKind). Flags other than bind/rbind need a second MS_REMOUNT|MS_BIND call (remountFlags), and so
 *   does any cleared flag ("rw", "suid": runc remounts then too). Recursive attributes (rro, …) go to
 *   mount_setattr, on bind mounts only (runc ignores them elsewhere; we warn).
 * - tmpfs, and anything on /dev, are mounted writable first and remounted read-only after pivot_root (the
 *   `lateRemounts`), because /dev gets its device nodes and links after mounting (runc finalizeRootfs).
 * - proc and sysfs only on a real directory (TARGET_MUST_BE_DIR, CVE-2019-19921).
 * - Nothing under /proc but runc's allowlist, and on /proc only procfs (security.md D3; runc checkProcMount):
 *   checked here lexically, and again by the executor on the resolved target.
 * - type "cgroup": see cgroupMount().
 * - tmpcopyup (tmpfs): the executor copies what the target held into the new tmpfs (MOUNT_OPT.COPYUP).
 * - idmap / ridmap, or uidMappings/gidMappings on a bind mount: an `idmapTree` step, emitted by compile() before
 *   any namespace is entered (MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's filesystem), clones the source
 *   into an fd slot and idmaps it with a user namespace the parent made (an `idmapUserns` fd, one per mapping);
 *   a `mountTree` step attaches it where the bind would have gone.
 */
import { posix as path } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Mount } from '../spec/types.js';
import { MS } from './constants.js';
import type { CompileContext } from './context.js';
import { optionNames, parseMountOptions, propagationName, type ParsedMountOptions } from './mount-options.js';
import type { NsSetup } from './namespaces.js';
import { MOUNT_OPT, type Step } from './steps.js';

type MountStep = Extract<Step, { kind: 'mount' }>;
type IDMapping = { containerID: number; hostID: number; size: number };

const planError = (message: string, hint?: string) =>
  new TsrunError('ERR_TSRUN_PLAN', message, hint ? { hint } : {});

/** runc's validProcMounts: what lxcfs and friends may put over procfs files. */
export const PROC_MOUNT_ALLOWLIST: readonly string[] = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
];

/** What runc mounts cgroup v1 hierarchies and their tmpfs with (defaultMountFlags). */
const CGROUP_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

/** Lexically clean an absolute container path: "/a//b/../c/" → "/a/c"; ".." never climbs above "/". */
export function cleanPath(p: string): string {
  return path.normalize(path.join('/', p)).replace(/(.)\/+$/, '$1');
}

export interface MountsResult {
  steps: Step[];
  /** Remounts that make ro tmpfs and /dev mounts read-only once /dev is populated (after pivot_root). */
  lateRemounts: Step[];
  /** /dev is bind-mounted from somewhere: no device nodes or /dev links are made (runc needsSetupDev). */
  devIsBind: boolean;
  /** A fresh filesystem (tmpfs, devtmpfs …) is mounted on /dev: nothing in the image's /dev is in the way. */
  devIsFresh: boolean;
  /** idmapTree / cloneTree steps, one per idmapped mount (or bind, with a user namespace), filling fd slots
   *  firstSlot, firstSlot+1 …: compile() emits them before any namespace. */
  trees: Step[];
}

export function compileMounts(
  mounts: readonly Mount[] | undefined,
  ns: NsSetup,
  ctx: CompileContext,
  warnings: string[],
  /** Where idmapped mounts' user namespaces and trees go in the fd table (compile() knows its layout). */
  table: IdmapTable = plainIdmapTable(),
  /** linux.uidMappings / gidMappings: what an "idmap" mount without mappings of its own uses. */
  userns?: { uidMappings?: readonly IDMapping[]; gidMappings?: readonly IDMapping[] },
): MountsResult {
  const res: MountsResult = { steps: [], lateRemounts: [], devIsBind: false, devIsFresh: false, trees: [] };
  const treeRefs: Array<{ tree: Extract<Step, { kind: 'idmapTree' | 'cloneTree' }>; mount: Extract<Step, { kind: 'mountTree' }> }> = [];
  // With a user namespace the container's root is a mapped id that may not reach a bind source (a 0700 directory
  // on the way): such binds are cloned as host root before any namespace (cloneTree) and attached in place
  // (mountTree), as runc opens them from the host side. Only those: a bind made inside the namespace keeps the
  // kernel's lock on the source's submounts, a cloned tree does not. Not rootless (no right to clone), not
  // without a mount namespace.
  const cloneBinds = ns.userns !== 'none' && !ctx.rootless && ns.has('mount');
  const outOfReach = (hostSrc: string) => !reachableByMappedRoot(hostSrc, ctx, userns);
  (mounts ?? []).forEach((m, i) => {
    const ptr = `/mounts/${i}`;
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/')) {
      throw planError(`${ptr}/destination: must be an absolute path, got ${JSON.stringify(m.destination)}`);
    }
    const dest = cleanPath(m.destination);
    if (dest === '/') throw planError(`${ptr}/destination: cannot mount on top of the container's root`);
    const o = parseMountOptions(m.options, `${ptr}/options`);
    const type = m.type ?? '';
    const bind = (o.flags & MS.BIND) !== 0n || type === 'bind';
    const idmapped = !!(o.idmap || m.uidMappings || m.gidMappings);
    if (idmapped && !bind) throw planError(`${ptr}/options: idmapped mounts are only supported for bind mounts`);
    if (o.copyup && type !== 'tmpfs') warnings.push(`${ptr}/options: tmpcopyup applies to tmpfs mounts only; ignored for ${type || 'a bind mount'}`);
    if (bind) o.flags |= MS.BIND; // type "bind" without a bind option still means a bind (as crun reads it)
    if (o.propagation.length > 1 && new Set(o.propagation).size > 1) {
      warnings.push(`${ptr}/options: several propagation options; only the last one (${propagationName(o.propagation.at(-1)!)}) is applied`);
    }
    checkProcTarget(dest, type, bind, ptr);

    if (bind && o.flags & MS.REMOUNT) {
      // "bind,remount" is `mount --bind -o remount,…`: change the flags of what is already mounted there (runc)
      res.steps.push({ kind: 'remount', path: dest, mountFlags: o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT), label: `remount ${dest} (${optionNames(o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT)) || 'no flags'})` });
      return;
    }
    if (bind && o.data.length) {
      // runc 1.1 passes them to mount(2), which ignores data for MS_BIND; runtime-tools' "mounts" test sends mode=, size=
      warnings.push(`${ptr}/options: filesystem options on a bind mount are ignored (as runc): ${o.data.join(',')}`);
    }
    if (bind && idmapped) {
      const [tree, mount] = idmapMount(m, o, dest, ptr, ctx, table, userns);
      treeRefs.push({ tree, mount });
      res.trees.push(tree);
      res.steps.push(mount);
      if (dest === '/dev') res.devIsBind = true;
      return;
    }
    if (bind && cloneBinds && outOfReach(bindSource(m, ptr, ctx))) {
      const [tree, mount] = clonedBind(m, o, dest, ptr, ctx);
      treeRefs.push({ tree, mount });
      res.trees.push(tree);
      res.steps.push(mount);
      if (dest === '/dev') res.devIsBind = true;
      return;
    }
    if (bind) {
      res.steps.push(bindMount(m, o, dest, ptr, ctx));
      if (dest === '/dev') res.devIsBind = true;
      return;
    }
    if (!type) throw planError(`${ptr}/type: required for a mount that is not a bind mount`);
    if (o.attrSet || o.attrClr) {
      warnings.push(`${ptr}/options: recursive mount attributes apply to bind mounts only; ignored for a ${type} mount (as runc does)`);
    }
    if (type === 'cgroup') {
      res.steps.push(...cgroupMount(m, o, dest, ptr, ns, ctx));
      return;
    }
    // tmpfs and /dev stay writable until /dev is populated; the read-only remount comes after pivot_root.
    const delayRo = (type === 'tmpfs' || dest === '/dev') && (o.flags & MS.RDONLY) !== 0n;
    const mountFlags = delayRo ? o.flags & ~MS.RDONLY : o.flags;
    const special = type === 'proc' || type === 'sysfs';
    const copyup = o.copyup && type === 'tmpfs';
    res.steps.push(mountStep({
      source: m.source ?? type, target: dest, fstype: type, mountFlags, data: o.data.join(','),
      opts: MOUNT_OPT.MKDIR | (special ? MOUNT_OPT.TARGET_MUST_BE_DIR : 0n) | (copyup ? MOUNT_OPT.COPYUP : 0n),
      propagation: o.propagation.at(-1) ?? 0n,
      label: `mount ${type} on ${dest}${copyup ? ' (tmpcopyup: with a copy of what was there)' : ''}`,
    }));
    if (delayRo) {
      res.lateRemounts.push({
        kind: 'remount', path: dest, mountFlags: (o.flags | MS.RDONLY) & ~(MS.REC | MS.BIND | MS.REMOUNT),
        label: `remount ${dest} read-only (${type} was kept writable to populate it)`,
      });
    }
    if (dest === '/dev') res.devIsFresh = true;
  });
  // Slots come after every passed fd, and the user namespaces above were passed fds: number the trees last.
  const first = table.firstSlot();
  treeRefs.forEach(({ tree, mount }, i) => {
    tree.slot = BigInt(first + i);
    mount.tree = first + i;
  });
  return res;
}

/** How compileMounts places idmapped mounts in the fd table. */
export interface IdmapTable {
  /** The index of a passed user namespace with these maps (the same index for the same pair). */
  userns(uidMap: string, gidMap: string): number;
  /** The slot of the first tree; asked once, after every mount (and so every user namespace) is known. */
  firstSlot(): number;
}

/**
 * An IdmapTable that asks `add` once per distinct (uid_map, gid_map) pair for the user namespace's fd-table index
 * and answers the same index for the same pair afterwards.
 */
export function idmapTable(add: (uidMap: string, gidMap: string) => number, firstSlot: () => number): IdmapTable {
  const seen = new Map<string, number>();
  return {
    userns: (u, g) => {
      const key = `${u}|${g}`;
      if (!seen.has(key)) seen.set(key, add(u, g));
      return seen.get(key)!;
    },
    firstSlot,
  };
}

/** A table of nothing but the user namespaces, trees in the slots right after them (unit tests). */
export function plainIdmapTable(): IdmapTable {
  let n = 0;
  return idmapTable(() => n++, () => n);
}

function mountStep(f: Partial<MountStep> & Pick<MountStep, 'source' | 'target' | 'fstype' | 'label'>): MountStep {
  return {
    kind: 'mount', mountFlags: 0n, data: '', opts: 0n, remountFlags: 0n, propagation: 0n, attrSet: 0n, attrClr: 0n,
    ...f,
  };
}

/** runc checkProcMount, lexically: the executor repeats it on the resolved target (symlinks). */
function checkProcTarget(dest: string, type: string, bind: boolean, ptr: string): void {
  if (dest === '/proc') {
    // A bind is let through: the executor requires its source to be the root of a real procfs.
    if (type === 'proc' || bind) return;
    throw planError(`${ptr}/destination: "/proc" cannot be mounted because it is not of type proc`);
  }
  if (dest.startsWith('/proc/') && !PROC_MOUNT_ALLOWLIST.includes(dest)) {
    throw planError(`${ptr}/destination: ${JSON.stringify(dest)} cannot be mounted because it is inside /proc`, `only ${PROC_MOUNT_ALLOWLIST.join(', ')} may be mounted over (lxcfs)`);
  }
}

function bindSource(m: Mount, ptr: string, ctx: CompileContext): string {
  if (!m.source) throw planError(`${ptr}/source: a bind mount needs a source`);
  return m.source.startsWith('/') ? cleanPath(m.source) : path.join(ctx.bundle, m.source);
}

/** Target kind after the source: a directory for a directory, an empty file for anything else (runc). */
function targetOpts(hostSrc: string, m: Mount, ptr: string, ctx: CompileContext): bigint {
  const kind = ctx.sourceKind(hostSrc);
  if (kind === 'missing') {
    throw planError(`${ptr}/source: bind source ${hostSrc}: stat ${hostSrc}: no such file or directory`, `mounting ${JSON.stringify(hostSrc)} on ${JSON.stringify(m.destination)}: the source must exist on the host`);
  }
  return kind === 'dir' ? MOUNT_OPT.MKDIR : MOUNT_OPT.MKFILE;
}

/** The MS_REMOUNT|MS_BIND flags a bind needs after the first MS_BIND, or 0 (runc mountToRootfs "bind"). */
function bindRemountFlags(o: ParsedMountOptions): bigint {
  let other = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
  if (other === 0n && o.cleared === 0n) return 0n;
  // A remount without any atime flag keeps the mount's atime mode (the kernel's rule), so "atime" alone could
  // never clear a source's noatime: ask for the default, relatime, explicitly.
  if (o.cleared & MS.NOATIME && !(other & (MS.NOATIME | MS.RELATIME | MS.STRICTATIME))) other |= MS.RELATIME;
  // Always non-zero (MS_BIND|MS_REMOUNT are included), so "rw" alone — clearing MS_RDONLY — still remounts.
  return other | MS.BIND | MS.REMOUNT;
}

function bindMount(m: Mount, o: ParsedMountOptions, dest: string, ptr: string, ctx: CompileContext): MountStep {
  const hostSrc = bindSource(m, ptr, ctx);
  const rec = (o.flags & MS.REC) !== 0n;
  const opts = optionNames(o.flags & ~(MS.BIND | MS.REC));
  return mountStep({
    source: hostSrc, target: dest, fstype: '', mountFlags: o.flags & (MS.BIND | MS.REC),
    opts: MOUNT_OPT.BIND_FD | targetOpts(hostSrc, m, ptr, ctx),
    remountFlags: bindRemountFlags(o),
    propagation: o.propagation.at(-1) ?? 0n,
    attrSet: o.attrSet, attrClr: o.attrClr,
    label: `${rec ? 'rbind' : 'bind'} ${hostSrc} on ${dest}${opts ? ` (${opts})` : ''}`,
  });
}

/**
 * Whether the container's root — host ids of uid/gid 0 in the mappings — can walk to hostPath: every directory above
 * it searchable by those ids (owner, group or other x bit), or owned by mapped ids (then the namespace's
 * capabilities apply). Unknown mappings or host facts count as "no": the clone works either way.
 */
export function reachableByMappedRoot(hostPath: string, ctx: Pick<CompileContext, 'statPath'>,
  userns: { uidMappings?: readonly IDMapping[]; gidMappings?: readonly IDMapping[] } | undefined): boolean {
  const toHost = (maps: readonly IDMapping[] | undefined, id: number) => maps?.find((m) => id >= m.containerID && id < m.containerID + m.size);
  const mapped = (maps: readonly IDMapping[] | undefined, host: number) => !!maps?.some((m) => host >= m.hostID && host < m.hostID + m.size);
  const u = toHost(userns?.uidMappings, 0);
  const g = toHost(userns?.gidMappings, 0);
  if (!ctx.statPath || !u || !g) return false;
  const uid = u.hostID, gid = g.hostID;
  const parts = path.normalize(hostPath).split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const st = ctx.statPath('/' + parts.slice(0, i).join('/'));
    if (!st) return false;
    const ok = (mapped(userns?.uidMappings, st.uid) && mapped(userns?.gidMappings, st.gid)) ||
      (st.uid === uid ? (st.mode & 0o100) !== 0 : st.gid === gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0);
    if (!ok) return false;
  }
  return true;
}

/** The mountTree step that attaches a cloned (or idmapped) tree where the bind of hostSrc would go; tree: compileMounts. */
function attachStep(hostSrc: string, m: Mount, o: ParsedMountOptions, dest: string, ptr: string, ctx: CompileContext,
  label: string): Extract<Step, { kind: 'mountTree' }> {
  return {
    kind: 'mountTree', tree: -1, target: dest, opts: targetOpts(hostSrc, m, ptr, ctx),
    remountFlags: bindRemountFlags(o), propagation: o.propagation.at(-1) ?? 0n, attrSet: o.attrSet, attrClr: o.attrClr,
    label,
  };
}

/** A bind as a tree cloned before the namespaces and attached later (see cloneBinds); slots are set by the caller. */
function clonedBind(m: Mount, o: ParsedMountOptions, dest: string, ptr: string, ctx: CompileContext,
): [Extract<Step, { kind: 'cloneTree' }>, Extract<Step, { kind: 'mountTree' }>] {
  const hostSrc = bindSource(m, ptr, ctx);
  const rec = (o.flags & MS.REC) !== 0n;
  const opts = optionNames(o.flags & ~(MS.BIND | MS.REC));
  return [{
    kind: 'cloneTree', source: hostSrc, recursive: rec ? 1n : 0n, slot: -1n,
    label: `clone ${hostSrc}${rec ? ' with its submounts' : ''} (as host root: the user namespace may not reach it)`,
  }, attachStep(hostSrc, m, o, dest, ptr, ctx, `attach ${hostSrc} on ${dest} (${rec ? 'rbind' : 'bind'}${opts ? `, ${opts}` : ''})`)];
}

/** uid_map / gid_map text ("containerID hostID size" lines), checked like the container's own mappings. */
function mapText(maps: readonly IDMapping[], ptr: string): string {
  return maps.map((x, i) => {
    for (const k of ['containerID', 'hostID', 'size'] as const) {
      if (!Number.isInteger(x[k]) || x[k] < 0 || x[k] > 0xffffffff || (k === 'size' && x[k] === 0)) {
        throw planError(`${ptr}/${i}/${k}: invalid id mapping value ${JSON.stringify(x[k])}`);
      }
    }
    return `${x.containerID} ${x.hostID} ${x.size}\n`;
  }).join('');
}

/**
 * An idmapped bind (runtime-spec "idmap"/"ridmap", runc 1.2): the mount's own uidMappings/gidMappings, else the
 * container's (linux.uidMappings/gidMappings). rbind clones the submounts too; ridmap idmaps them too.
 */
function idmapMount(m: Mount, o: ParsedMountOptions, dest: string, ptr: string, ctx: CompileContext, table: IdmapTable,
  userns: { uidMappings?: readonly IDMapping[]; gidMappings?: readonly IDMapping[] } | undefined,
): [Extract<Step, { kind: 'idmapTree' }>, Extract<Step, { kind: 'mountTree' }>] {
  if (!!m.uidMappings !== !!m.gidMappings) throw planError(`${ptr}: uidMappings and gidMappings must be given together`);
  const own = !!m.uidMappings;
  const uids = m.uidMappings ?? userns?.uidMappings;
  const gids = m.gidMappings ?? userns?.gidMappings;
  if (!uids?.length || !gids?.length) {
    throw planError(`${ptr}: an idmapped mount needs uidMappings and gidMappings, on the mount or in linux (with a user namespace)`);
  }
  const uidMap = mapText(uids, own ? `${ptr}/uidMappings` : '/linux/uidMappings');
  const gidMap = mapText(gids, own ? `${ptr}/gidMappings` : '/linux/gidMappings');
  const hostSrc = bindSource(m, ptr, ctx);
  const rec = (o.flags & MS.REC) !== 0n;
  const recursive = (rec ? 1n : 0n) | (o.idmap === 'ridmap' ? 2n : 0n);
  const opts = optionNames(o.flags & ~(MS.BIND | MS.REC));
  const what = o.idmap ?? 'idmap';
  return [{
    kind: 'idmapTree', source: hostSrc, userns: table.userns(uidMap, gidMap), recursive, slot: -1n, // slot: compileMounts
    label: `clone ${hostSrc}${rec ? ' with its submounts' : ''}, ${what}ped (uid ${uidMap.trim().replaceAll('\n', ', ')}; gid ${gidMap.trim().replaceAll('\n', ', ')})`,
  }, attachStep(hostSrc, m, o, dest, ptr, ctx, `attach the ${what}ped ${hostSrc} on ${dest}${opts ? ` (${opts})` : ''}`)];
}

/**
 * type "cgroup" (runc mountCgroupV1 / mountCgroupV2):
 * - pure v2: a fresh cgroup2 mount — except in a user namespace without its own cgroup namespace, where the
 *   kernel refuses that and the host's hierarchy (ctx.cgroupMounts.v2.hostPath) is bound instead;
 * - v1: a tmpfs on the destination, then each hierarchy: a fresh cgroup mount with a new cgroup namespace, else a
 *   bind of the container's own cgroup directory; then the co-mount links (cpu → cpu,cpuacct); then, when the
 *   mount asks for ro, the tmpfs itself is remounted read-only.
 */
function cgroupMount(m: Mount, o: ParsedMountOptions, dest: string, ptr: string, ns: NsSetup, ctx: CompileContext): Step[] {
  const cg = ctx.cgroupMounts;
  const propagation = o.propagation.at(-1) ?? 0n;
  const ro = (o.flags & MS.RDONLY) !== 0n;
  if (cg.v2) {
    if (ns.userns !== 'none' && !ns.isNew('cgroup')) {
      const flags = o.flags | MS.BIND;
      return [mountStep({
        source: cg.v2.hostPath, target: dest, fstype: '', mountFlags: MS.BIND, opts: MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR,
        remountFlags: bindRemountFlags({ ...o, flags }), propagation,
        label: `bind ${cg.v2.hostPath} on ${dest} (cgroup2 from the host: no cgroup namespace in this user namespace)`,
      })];
    }
    return [mountStep({
      source: m.source ?? 'cgroup', target: dest, fstype: 'cgroup2', mountFlags: o.flags, data: o.data.join(','),
      opts: MOUNT_OPT.MKDIR, propagation, label: `mount cgroup2 on ${dest}`,
    })];
  }
  if (!cg.v1.length) throw planError(`${ptr}/type: "cgroup": no cgroup hierarchy is mounted on this host`);
  const steps: Step[] = [mountStep({
    source: 'tmpfs', target: dest, fstype: 'tmpfs', mountFlags: CGROUP_FLAGS, data: 'mode=755',
    opts: MOUNT_OPT.MKDIR, propagation, label: `mount tmpfs on ${dest} (holds the cgroup v1 hierarchies)`,
  })];
  const fresh = ns.isNew('cgroup');
  for (const h of cg.v1) {
    const target = `${dest}/${h.dir}`;
    if (fresh) {
      steps.push(mountStep({
        source: h.dir === 'systemd' ? 'systemd' : 'cgroup', target, fstype: 'cgroup',
        mountFlags: CGROUP_FLAGS | (ro ? MS.RDONLY : 0n), data: h.data, opts: MOUNT_OPT.MKDIR,
        label: `mount cgroup ${h.dir} on ${target}`,
      }));
    } else {
      const flags = o.flags | MS.BIND | MS.REC;
      steps.push(mountStep({
        source: h.hostPath, target, fstype: '', mountFlags: MS.BIND | MS.REC, opts: MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR,
        remountFlags: bindRemountFlags({ ...o, flags }), propagation,
        label: `rbind ${h.hostPath} on ${target} (cgroup ${h.dir})`,
      }));
    }
  }
  for (const l of cg.links) {
    steps.push({ kind: 'symlink', linkTarget: l.target, path: `${dest}/${l.name}`, label: `symlink ${dest}/${l.name} → ${l.target}` });
  }
  if (ro) {
    steps.push({ kind: 'remount', path: dest, mountFlags: CGROUP_FLAGS | MS.RDONLY, label: `remount ${dest} read-only` });
  }
  return steps;
}
