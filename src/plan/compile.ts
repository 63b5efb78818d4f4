/**
 * compile(): config.json + CompileContext → the setup plan (steps.ts). Pure: no I/O, no clock, no randomness;
 * everything host-dependent comes through the context.
 *
 * The steps follow runc's order (nsexec.c for the first process, standard_init_linux.go and rootfs_linux.go for
 * the init). Each emit() carries a one-line reason; the executor has no order of its own.
 */
import { posix as path } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Hook, NamespaceType, Process, Spec } from '../spec/types.js';
import { capNames, capSets } from './caps.js';
import { CLONE, MS, PERSONALITY } from './constants.js';
import type { CompileContext, Compiled } from './context.js';
import { hostIdOf, hostRoot, prepareEnv, searchPath, toId, toU64 } from './creds.js';
import { deviceSteps } from './devices.js';
import { apparmorSteps, checkSelinuxLabel, labelMounts, NO_LSM, selinuxSteps } from './lsm.js';
import { MOUNT_OPTIONS, propagationName } from './mount-options.js';
import { cleanPath, compileMounts, idmapTable } from './mounts.js';
import { analyzeNamespaces, cloneNames } from './namespaces.js';
import { rlimitSteps } from './rlimits.js';
import { SIGNALS } from './signals.js';
import { KEY_OTH_SEARCH, KEY_USR_SEARCH, keyringSteps, sessionKeyringName } from './keyring.js';
import { SYNC_TOKEN, STEP_FLAG, type FdSource, type Step } from './steps.js';
import { schedSteps } from './sched.js';
import { sysctlSteps } from './sysctl.js';

export type { CompileContext, Compiled } from './context.js';

const planError = (message: string, hint?: string) =>
  new TsrunError('ERR_TSRUN_PLAN', message, hint ? { hint } : {});

const SIGKILL = BigInt(SIGNALS.SIGKILL!);
const HOOKS_BEFORE_RESUME = ['prestart', 'createRuntime', 'createContainer', 'startContainer'] as const;

/** Namespaces the init (after the fork) creates; pid and time are created before it, since they apply to children. */
const INIT_UNSHARE = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWCGROUP;

export function compile(spec: Spec, ctx: CompileContext): Compiled {
  const warnings: string[] = [];
  const steps: Step[] = [];
  const emit = (s: Step) => void steps.push(s);
  const linux = spec.linux ?? {};
  const proc = checkProcess(spec.process);
  refuseUnsupported(spec, warnings);
  const lsm = ctx.lsm ?? NO_LSM;
  checkSelinuxLabel(proc.selinuxLabel, lsm);
  // SECCOMP: the filter is compiled by the caller (libseccomp, src/linux/seccomp.ts) and comes in the context
  if (linux.seccomp && !ctx.seccomp) throw planError('/linux/seccomp: the filter was not compiled (CompileContext.seccomp)');

  const ns = analyzeNamespaces(linux.namespaces);
  // No mount namespace: the container inherits the caller's (runtime-spec: "MUST inherit"), as runc allows. Its
  // mounts are made there, stacked on one bind of the rootfs onto itself that `delete` detaches (hostMounts in
  // the state), and the init chroots instead of pivot_root. Unlike runc, "/" is NOT made rslave (that would change
  // the propagation of the caller's whole mount table) and --no-pivot's MS_MOVE onto "/" is never done.
  const inheritMounts = !ns.has('mount');
  if (inheritMounts) {
    warnings.push('/linux/namespaces: no mount namespace: the container\'s mounts are made in the caller\'s mount namespace (under the rootfs) until delete');
    if (linux.rootfsPropagation) warnings.push('/linux/rootfsPropagation: ignored without a mount namespace (it would change the caller\'s mounts)');
  }
  for (const key of ['hostname', 'domainname'] as const) {
    if (spec[key] && !ns.has('uts')) throw planError(`/${key}: unable to set ${key} without a private UTS namespace`);
  }

  // ── the fd table: what the parent opens and passes, in this order ──────────────────────────────────────────
  const fds: FdSource[] = [];
  const addFd = (f: FdSource) => fds.push(f) - 1;
  const stateDirFd = ctx.mode === 'create' ? addFd({ kind: 'path', path: ctx.stateDir, flags: 'dir', what: 'state directory (exec.fifo is made in it)' }) : -1;
  const nsFd = new Map<NamespaceType, number>();
  for (const j of ns.join) nsFd.set(j.type, addFd({ kind: 'path', path: j.path, flags: 'read', what: `${j.type} namespace to join` }));
  const cgroupFds = ctx.cgroupProcs.map((p) => addFd({ kind: 'path', path: p, flags: 'write', what: 'cgroup.procs of the container' }));
  let consoleFd = -1;
  if (proc.terminal) {
    if (!ctx.consoleSocket) {
      throw planError('/process/terminal: cannot allocate tty if runc will detach without setting console socket', 'pass --console-socket, or set process.terminal to false');
    }
    consoleFd = addFd({ kind: 'consoleSocket', path: ctx.consoleSocket, what: 'console socket (receives the pty master)' });
  }
  const logFd = ctx.log ? addFd({ kind: 'log', what: '--log file' }) : -1;
  const listenerPath = linux.seccomp?.listenerPath;
  if (ctx.seccomp?.notify && !listenerPath) throw planError('/linux/seccomp/listenerPath: is required when a syscall uses SCMP_ACT_NOTIFY');
  const listenerFd = ctx.seccomp?.notify ? addFd({ kind: 'seccompListener', path: listenerPath!, what: 'seccomp agent socket (receives the listener fd)' }) : -1;

  // ── ids ──────────────────────────────────────────────────────────────────────────────────────────────────
  const uidMappings = ns.userns === 'joined' ? ctx.joinedUserNs?.uidMappings ?? linux.uidMappings : linux.uidMappings;
  const gidMappings = ns.userns === 'joined' ? ctx.joinedUserNs?.gidMappings ?? linux.gidMappings : linux.gidMappings;
  const user = proc.user ?? { uid: 0, gid: 0 };
  const uid = toId(user.uid, '/process/user/uid');
  const gid = toId(user.gid, '/process/user/gid');
  const groups = (user.additionalGids ?? []).map((g, i) => toId(g, `/process/user/additionalGids/${i}`));
  const mappingsKnown = ns.userns !== 'joined' || !!(ctx.joinedUserNs || linux.uidMappings);
  if (ns.userns !== 'none' && mappingsKnown) {
    // runc's wording, found at plan time instead of at setuid(2)
    if (hostIdOf(uidMappings, Number(uid)) === undefined) throw planError(`/process/user/uid: cannot setuid to unmapped uid ${uid} in user namespace`);
    if (hostIdOf(gidMappings, Number(gid)) === undefined) throw planError(`/process/user/gid: cannot setgid to unmapped gid ${gid} in user namespace`);
  }
  const becomeRoot: Step = { kind: 'user', uid: 0n, gid: 0n, groups: [], flags: STEP_FLAG.SKIP_SETGROUPS, label: 'become root in the user namespace' };

  // idmapped mounts: their user namespaces are the last passed fds; slots follow (the exec fifo's, then the trees)
  const brief = (t: string) => t.trim().replaceAll('\n', ', ');
  const mounts = compileMounts(spec.mounts, ns, ctx, warnings, idmapTable(
    (uidMap, gidMap) => addFd({ kind: 'idmapUserns', uidMap, gidMap, what: `user namespace for idmapped mounts (uid ${brief(uidMap)}; gid ${brief(gidMap)})` }),
    () => fds.length + (ctx.mode === 'create' ? 1 : 0),
  ), { uidMappings, gidMappings });
  const fifoSlot = ctx.mode === 'create' ? fds.length : -1; // first slot after the passed fds

  // ════ first process: still in the host's pid namespace ════════════════════════════════════════════════════
  if (logFd >= 0) emit({ kind: 'logTo', fd: logFd, format: ctx.logJson ? 1n : 0n, label: `log to the --log fd (${ctx.logJson ? 'json' : 'text'})` }); // failures after READY need somewhere to go
  if (ctx.foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL' }); // die with a foreground tsrun
  if (proc.oomScoreAdj !== undefined) {
    // before any user namespace: lowering it needs CAP_SYS_RESOURCE in the initial one (runc writes it in nsexec)
    if (!Number.isInteger(proc.oomScoreAdj)) throw planError(`/process/oomScoreAdj: must be an integer, got ${proc.oomScoreAdj}`);
    emit({ kind: 'oomScoreAdj', value: String(proc.oomScoreAdj), label: `oom_score_adj ${proc.oomScoreAdj}` });
  }
  if (ctx.mode === 'create') {
    if (!mappingsKnown) warnings.push('/linux/namespaces: the joined user namespace\'s mappings are unknown (CompileContext.joinedUserNs); exec.fifo stays owned by root');
    const owner = mappingsKnown ? hostRoot(ns.userns, uidMappings, gidMappings) : { uid: 0n, gid: 0n };
    // the fifo `tsrun start` opens; owned by the container's root so a user-namespaced init can open it
    emit({ kind: 'mkfifo', dir: stateDirFd, name: 'exec.fifo', mode: 0o622n, uid: owner.uid, gid: owner.gid, slot: BigInt(fifoSlot), label: `mkfifo ${ctx.stateDir}/exec.fifo` });
  }
  // idmapped mounts (and, with a user namespace, bind mounts) are cloned now, into the slots after the fifo's:
  // MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's filesystem, and a bind source may be out of the mapped
  // root's reach; both we lose with the first namespace we enter
  steps.push(...mounts.trees);
  const joinStep = (t: NamespaceType): Step => ({ kind: 'setns', ns: nsFd.get(t)!, nstype: ns.join.find((j) => j.type === t)!.nstype, label: `setns ${t} ${ns.join.find((j) => j.type === t)!.path}` });
  const others = ns.join.filter((j) => j.type !== 'user').map((j) => j.type);
  if (ns.userns === 'joined' && ctx.rootless) {
    emit(joinStep('user')); // rootless: only inside the user namespace do we get the rights to join the others
    emit(becomeRoot); // lots of things break as a non-root user in the namespace (runc #4466)
  }
  for (const t of others) emit(joinStep(t)); // joined before a new user namespace: afterwards we'd lack the rights
  if (ns.userns === 'joined' && !ctx.rootless) {
    emit(joinStep('user'));
    emit(becomeRoot);
  } else if (ns.userns === 'new') {
    emit({ kind: 'unshare', cloneFlags: CLONE.NEWUSER, label: 'unshare user' }); // alone and first: it owns the namespaces made after it
    emit({ kind: 'sync', token: SYNC_TOKEN.idmap, label: 'sync idmap: the host writes uid_map, gid_map' }); // we cannot map ourselves
    emit(becomeRoot);
  }
  const early = ns.create & (CLONE.NEWPID | CLONE.NEWTIME);
  if (early) emit({ kind: 'unshare', cloneFlags: early, label: `unshare ${cloneNames(early)} (for the children of the fork)` }); // pid and time apply to children only
  const offsets = timeOffsets(spec, ns.isNew('time'), ns.join.some((j) => j.type === 'time'));
  if (offsets) emit({ kind: 'timeOffsets', text: offsets, label: `time offsets ${offsets.trim().replaceAll('\n', ', ')}` }); // before any process enters the time ns
  const forkMode = ctx.mode === 'run' && ctx.foreground ? (ctx.subreaper ? 1n : 2n) : 0n;
  emit({ kind: 'fork', mode: forkMode, label: ['fork the init; the first process exits', 'fork the init; the first process waits for it', 'fork the init; the first process waits for it (no subreaper)'][Number(forkMode)]! });

  // ════ the init ═══════════════════════════════════════════════════════════════════════════════════════════
  if (ctx.foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL' }); // our parent is now the first process
  cgroupFds.forEach((f, i) => emit({ kind: 'cgroupJoin', procs: f, label: `join cgroup ${ctx.cgroupProcs[i]}` })); // before the cgroup ns: its root is then our cgroup
  const late = ns.create & INIT_UNSHARE;
  if (late) emit({ kind: 'unshare', cloneFlags: late, label: `unshare ${cloneNames(late)}` });
  // runc gives a new network namespace its "loopback" network: lo up before anything else (setupNetwork)
  if (ns.isNew('network')) emit({ kind: 'loopbackUp', label: 'bring lo up in the new network namespace' });
  // every namespace is in place: the init takes a session keyring of its own (in the user namespace, if any)
  if (!ctx.noNewKeyring) steps.push(...keyringSteps(sessionKeyringName(ctx.id), ns.userns === 'none' ? KEY_USR_SEARCH : KEY_OTH_SEARCH, proc.selinuxLabel, lsm));

  const rootProp = inheritMounts ? MS.SLAVE | MS.REC : rootPropagation(linux.rootfsPropagation, ctx.noPivot);
  if (!inheritMounts) emit({ kind: 'propagation', hostPath: '/', mountFlags: rootProp, label: `make / ${propagationName(rootProp)}` }); // nothing we mount may reach the host
  if (inheritMounts) {
    // the caller's mounts keep their propagation: nothing to change before the rootfs bind
  } else if (ctx.rootfsMountPoint) {
    const parent = rootProp & MS.SLAVE ? MS.SLAVE : MS.PRIVATE;
    // pivot_root refuses a shared parent, and a bind under one would propagate to the host (runc rootfsParentMountPropagation)
    emit({ kind: 'propagation', hostPath: ctx.rootfsMountPoint, mountFlags: parent, label: `make ${ctx.rootfsMountPoint} (holds the rootfs) ${propagationName(parent)}` });
  } else if (rootProp & MS.SHARED) {
    warnings.push('/linux/rootfsPropagation: shared propagation without the rootfs mount point (CompileContext.rootfsMountPoint): pivot_root may fail');
  }
  emit({ kind: 'rootfsBind', hostPath: ctx.rootfs, label: `bind rootfs ${ctx.rootfs} onto itself` }); // a mount of its own to pivot into
  // in the caller's namespace our bind (and the copies under it) would share the rootfs's peer group: make them
  // private so the container's mounts reach no other namespace; only mounts we just made are changed
  if (inheritMounts) emit({ kind: 'propagation', hostPath: ctx.rootfs, mountFlags: MS.PRIVATE | MS.REC, label: `make the rootfs bind ${ctx.rootfs} rprivate` });

  steps.push(...labelMounts(mounts.steps, linux.mountLabel, lsm, warnings));
  if (!mounts.devIsBind) {
    // device nodes and links after the mounts, so a tmpfs on /dev gets them (runc doSetupDev)
    steps.push(...deviceSteps(linux.devices, {
      bindNodes: ns.userns !== 'none' || !!ctx.inUserNs,
      hasKcore: ctx.sourceKind('/proc/kcore') !== 'missing',
    }));
  } else if (linux.devices?.length) {
    warnings.push('/linux/devices: /dev is a bind mount, so no device nodes are created in it (as runc)');
  }

  const hooks = spec.hooks ?? {};
  const hostBeforeResume = HOOKS_BEFORE_RESUME.some((h) => (hooks[h]?.length ?? 0) > 0);
  // the host runs prestart + createRuntime now: mounts are in place, the old root is still reachable; its
  // RESUME carries the state JSON the hook steps feed to stdin
  if (hostBeforeResume) emit({ kind: 'sync', token: SYNC_TOKEN.hooks, label: 'sync hooks: the host runs prestart and createRuntime hooks' });
  (hooks.createContainer ?? []).forEach((h, i) => emit(hookStep(h, 'createContainer', i))); // in our namespaces, before pivot_root

  if (inheritMounts) emit({ kind: 'pivotRoot', mode: 2n, label: 'chroot into the rootfs (no mount namespace: no pivot_root)' });
  else emit({ kind: 'pivotRoot', mode: ctx.noPivot ? 1n : 0n, label: ctx.noPivot ? 'move the rootfs onto / and chroot (--no-pivot)' : 'pivot_root into the rootfs; detach the old root' });
  if (linux.rootfsPropagation && !inheritMounts && !(rootProp & (MS.PRIVATE | MS.SLAVE))) {
    // shared/unbindable apply to the new "/" only now: on the old root they would reach the host
    emit({ kind: 'propagation', hostPath: '/', mountFlags: rootProp, label: `make / ${propagationName(rootProp)} (rootfsPropagation)` });
  }
  if (proc.terminal) {
    // after the mounts (it uses /dev/pts), before ids change (runc setupConsole)
    emit({ kind: 'console', socket: consoleFd, rows: BigInt(proc.consoleSize?.height ?? 0), cols: BigInt(proc.consoleSize?.width ?? 0), label: 'console: new pty on /dev/console, master to the console socket' });
  }
  // runc creates a missing cwd (docker run -w), as the container's root, before anything is made read-only
  if (cleanPath(proc.cwd) !== '/') emit({ kind: 'mkdirAll', path: proc.cwd, mode: 0o755n, label: `mkdir -p ${proc.cwd} (process.cwd)` });
  steps.push(...mounts.lateRemounts); // /dev is populated now (runc finalizeRootfs)
  if (spec.root?.readonly) emit({ kind: 'remount', path: '/', mountFlags: MS.RDONLY, label: 'remount / read-only (root.readonly)' });
  if (spec.hostname) emit({ kind: 'hostname', name: spec.hostname, label: `hostname ${JSON.stringify(spec.hostname)}` });
  if (spec.domainname) emit({ kind: 'domainname', name: spec.domainname, label: `domainname ${JSON.stringify(spec.domainname)}` });
  steps.push(...apparmorSteps(proc.apparmorProfile, lsm)); // runc standard_init: ApplyProfile after the hostname, before sysctl
  steps.push(...sysctlSteps(linux.sysctl)); // through the new /proc: the container's namespaces
  for (const p of linux.readonlyPaths ?? []) emit({ kind: 'readonly', path: cleanPath(p), flags: STEP_FLAG.OK_ENOENT, label: `read-only ${p}` }); // a path the image lacks is skipped
  for (const p of linux.maskedPaths ?? []) emit({ kind: 'mask', path: cleanPath(p), flags: STEP_FLAG.OK_ENOENT, label: `mask ${p}` });
  steps.push(...rlimitSteps(proc.rlimits));
  steps.push(...processAttrSteps(spec, proc, warnings));
  // chdir while still root (runc's first attempt; the step then checks getcwd is inside the root, CVE-2024-21626),
  // and before any seccomp filter: a profile may deny getcwd, which the check needs (runtime-tools linux_seccomp)
  emit({ kind: 'chdir', path: proc.cwd, label: `chdir ${proc.cwd}` });
  if (proc.noNewPrivileges) emit({ kind: 'noNewPrivs', label: 'no_new_privs' }); // before seccomp: lets it load unprivileged
  steps.push(...selinuxSteps(proc.selinuxLabel)); // runc standard_init: SetExecLabel before seccomp and finalizeNamespace
  // SECCOMP (noNewPrivileges false): a privileged operation, so before the capabilities drop
  if (!proc.noNewPrivileges) steps.push(...seccompSteps(spec, ctx, listenerFd));

  // no process.capabilities: every set empty, as runc (finalizeNamespace uses an empty Capabilities): a config
  // that says nothing must not hand the container the runtime's own capabilities
  const caps = capSets(proc.capabilities ?? {}, ctx.lastCap, warnings);
  emit({ kind: 'capsBounding', keep: caps.bounding, label: `caps bounding = ${capList(caps.bounding)}` }); // while we still hold CAP_SETPCAP
  // stdio must belong to the user before we lose the right to chown it (runc fixStdioPermissions, which keeps
  // the group; the executor refuses (gid_t)-1, so the process's gid is given)
  if (uid !== 0n) emit({ kind: 'fixStdio', uid, gid, label: `chown stdio to ${uid}:${gid}` });
  const skipGroups = ctx.setgroupsDenied && ns.userns !== 'none';
  if (skipGroups && groups.length) warnings.push('/process/user/additionalGids: setgroups is denied in this user namespace; ignored');
  emit({ kind: 'user', uid, gid, groups, ...(skipGroups ? { flags: STEP_FLAG.SKIP_SETGROUPS } : {}), label: `user uid ${uid} gid ${gid} groups [${groups.join(' ')}]` });
  const umask = user.umask ?? 0o022;
  emit({ kind: 'umask', mask: BigInt(umask), label: `umask ${umask.toString(8).padStart(4, '0')}` });
  emit({
    kind: 'caps', effective: caps.effective, permitted: caps.permitted, inheritable: caps.inheritable, ambient: caps.ambient,
    label: `caps effective ${capList(caps.effective)} · permitted ${capList(caps.permitted)} · inheritable ${capList(caps.inheritable)} · ambient ${capList(caps.ambient)}`,
  });
  if (ctx.foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL (again: changing ids cleared it)' });

  const listen = ctx.listenFds > 0 ? [`LISTEN_FDS=${ctx.listenFds}`, 'LISTEN_PID=1'] : [];
  const uidNum = Number(uid);
  const envp = prepareEnv(proc.env, listen, ctx.homeDir?.(uidNum) ?? (uidNum === 0 ? '/root' : '/'));
  const name = proc.args![0]!;
  // as the final user, with its capabilities; a missing program fails create, not start (runc LookPath)
  emit({ kind: 'resolve', name, searchPath: name.includes('/') ? [] : searchPath(envp), label: `resolve ${JSON.stringify(name)}${name.includes('/') ? '' : ' in PATH'}` });
  // SECCOMP (noNewPrivileges true): as close to execve as possible (runc); the fifo open and write still follow
  if (proc.noNewPrivileges) steps.push(...seccompSteps(spec, ctx, listenerFd));

  if (ctx.mode === 'create') {
    emit({ kind: 'ready', label: 'ready: the host writes the pidfile and state; tsrun create exits' });
    emit({ kind: 'waitStart', fifo: fifoSlot, label: 'wait on exec.fifo for tsrun start' });
  } else {
    emit({ kind: 'sync', token: SYNC_TOKEN.start, label: 'sync start: the host records the state and runs nothing else before exec' });
  }
  (hooks.startContainer ?? []).forEach((h, i) => emit(hookStep(h, 'startContainer', i, envp))); // in the container, after start
  const keepFds = 3 + ctx.listenFds + ctx.preserveFds;
  emit({ kind: 'exec', path: '', argv: proc.args!, envp, keepFds: BigInt(keepFds), label: `exec ${proc.args!.map(shellQuote).join(' ')}` });

  return { plan: { fds, slots: (ctx.mode === 'create' ? 1 : 0) + mounts.trees.length, steps }, warnings, hookPhases: { hostBeforeResume } };
}

/** linux.seccomp, compiled by the caller: [seccompListener (NOTIFY)], seccomp. */
function seccompSteps(spec: Spec, ctx: CompileContext, listenerFd: number): Step[] {
  const sc = ctx.seccomp;
  if (!spec.linux?.seccomp || !sc) return [];
  const out: Step[] = [];
  // the agent's message carries the init's host pid, known only now: fetched before the filter exists
  if (sc.notify) out.push({ kind: 'seccompListener', socket: listenerFd, label: `seccomp listener: ask the host for the agent's message (to ${spec.linux.seccomp.listenerPath})` });
  out.push({ kind: 'seccomp', filterFlags: sc.flags, program: sc.program, label: `seccomp filter (${sc.program.length / 8} BPF instructions, default ${spec.linux.seccomp.defaultAction}${sc.notify ? ', listener fd to the agent' : ''})` });
  return out;
}

/** runc's validateProcessSpec wording. */
function checkProcess(p: Process | undefined): Process {
  if (!p) throw planError('/process: process property must not be empty');
  if (!p.cwd) throw planError('/process/cwd: Cwd property must not be empty');
  if (!p.cwd.startsWith('/')) throw planError('/process/cwd: Cwd must be an absolute path');
  if (!p.args?.length) throw planError('/process/args: args must not be empty');
  return p;
}

/** Config tsrun cannot honour yet: refused (or warned about, when runc ignores it too) rather than dropped. */
function refuseUnsupported(spec: Spec, warnings: string[]): void {
  const linux = spec.linux ?? {};
  if (linux.netDevices && Object.keys(linux.netDevices).length) throw planError('/linux/netDevices: not supported yet');
  if (linux.memoryPolicy) throw planError('/linux/memoryPolicy: not supported yet');
  if (linux.intelRdt) throw planError('/linux/intelRdt: not supported yet');
}

/** linux.rootfsPropagation → the flags for "/"; unset → rslave (runc's default). */
function rootPropagation(value: string | undefined, noPivot: boolean): bigint {
  if (!value) return MS.SLAVE | MS.REC;
  const o = Object.hasOwn(MOUNT_OPTIONS, value) ? MOUNT_OPTIONS[value] : undefined;
  if (!o || o.kind !== 'propagation') {
    throw planError(`/linux/rootfsPropagation: rootfsPropagation=${value} is not supported`, 'one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable');
  }
  if (noPivot && o.flag & MS.PRIVATE) throw planError('/linux/rootfsPropagation: rootfsPropagation of [r]private is not safe without pivot_root');
  return o.flag;
}

/** linux.timeOffsets → the text for /proc/self/timens_offsets (runc's format: "<clock> <secs> <nanosecs>\n"). */
function timeOffsets(spec: Spec, newTime: boolean, joinedTime: boolean): string | undefined {
  const offs = spec.linux?.timeOffsets;
  if (!offs || !Object.keys(offs).length) return undefined;
  if (joinedTime) throw planError('/linux/timeOffsets: time namespace enabled, but both namespace path and time offsets specified -- you may only provide one');
  if (!newTime) throw planError("/linux/timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config");
  return Object.entries(offs).map(([clock, o]) => {
    if (clock !== 'monotonic' && clock !== 'boottime') throw planError(`/linux/timeOffsets/${clock}: unknown clock (monotonic or boottime)`);
    const secs = o?.secs ?? 0;
    const nsecs = o?.nanosecs ?? 0;
    if (!Number.isInteger(secs) || !Number.isInteger(nsecs) || nsecs < 0 || nsecs > 999_999_999) throw planError(`/linux/timeOffsets/${clock}: invalid offset`);
    return `${clock} ${secs} ${nsecs}\n`;
  }).join('');
}

/** personality, scheduler, ioPriority (runc: after masked paths, before the ready sync). */
function processAttrSteps(spec: Spec, proc: Process, warnings: string[]): Step[] {
  const out: Step[] = [];
  const pers = spec.linux?.personality;
  if (pers) {
    const persona = PERSONALITY[pers.domain];
    if (persona === undefined) throw planError(`/linux/personality/domain: invalid personality domain ${pers.domain}`);
    if (pers.flags?.length) warnings.push(`/linux/personality/flags: ignoring unsupported personality flags [${pers.flags.join(' ')}] (as runc)`);
    out.push({ kind: 'personality', persona, label: `personality ${pers.domain}` });
  }
  out.push(...schedSteps(proc));
  // process.execCPUAffinity is for processes joining the container (tsrun exec), not the init (runc).
  return out;
}

/** A createContainer / startContainer hook run by the executor. startContainer hooks without env get the process env (runc). */
function hookStep(h: Hook, phase: 'createContainer' | 'startContainer', i: number, defaultEnv?: string[]): Step {
  const ptr = `/hooks/${phase}/${i}`;
  if (!h.path || !h.path.startsWith('/')) throw planError(`${ptr}/path: must be an absolute path, got ${JSON.stringify(h.path)}`);
  const timeout = h.timeout === undefined ? 0n : toU64(h.timeout, `${ptr}/timeout`);
  if (h.timeout !== undefined && timeout === 0n) throw planError(`${ptr}/timeout: must be greater than zero`);
  return {
    kind: 'hook', path: path.normalize(h.path), argv: h.args?.length ? h.args : [h.path], envp: h.env ?? defaultEnv ?? [], timeout,
    // The parent's RESUME carries two states: "creating" for createContainer, then "created" for startContainer (runc).
    ...(phase === 'startContainer' ? { flags: STEP_FLAG.SECOND_STATE } : {}),
    label: `${phase} hook ${h.path}${timeout ? ` (timeout ${timeout}s)` : ''}`,
  };
}

function capList(mask: bigint): string {
  const names = capNames(mask, true);
  return names.length ? names.join(' ') : '(none)';
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : JSON.stringify(s);
}
