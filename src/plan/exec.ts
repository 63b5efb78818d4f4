/**
 * compileExec(): the plan for `tsrun exec` — a new process that joins a running container. Pure, like compile():
 * everything host-dependent (which namespaces differ from ours, cgroup files, id maps) comes in `ExecTarget`.
 *
 * No mount or rootfs step: setns(CLONE_NEWNS) puts the process at the root of the container's mount namespace
 * (the kernel follows the mounts stacked on the namespace's root, i.e. the rootfs the init pivoted into), with
 * its cwd there too. The order follows runc (nsexec.c join_namespaces, setns_init_linux.go):
 *   oom score → join namespaces (pid and time apply to children) → fork → cgroup → console → rlimits, scheduler →
 *   no_new_privs → chdir + cwd check → caps bounding, stdio owner, user, umask, caps → resolve → exec.
 * Also here, pure as well: runc's rules for building the Process from the exec flags (applyExecFlags).
 */
import { TsrunError } from '../errors.js';
import type { Capabilities, IDMapping, NamespaceType, Process } from '../spec/types.js';
import { capNames, capSets, CAPABILITIES } from './caps.js';
import type { LsmContext } from './context.js';
import { hostIdOf, prepareEnv, searchPath, toId, toU64 } from './creds.js';
import { keyringSteps } from './keyring.js';
import { apparmorSteps, NO_LSM, selinuxSteps } from './lsm.js';
import { NAMESPACES } from './namespaces.js';
import { rlimitSteps } from './rlimits.js';
import { schedSteps } from './sched.js';
import { SIGNALS } from './signals.js';
import { STEP_FLAG, type FdSource, type Plan, type Step } from './steps.js';

const planError = (message: string, hint?: string) => new TsrunError('ERR_TSRUN_PLAN', message, hint ? { hint } : {});
const SIGKILL = BigInt(SIGNALS.SIGKILL!);

/** The running container, as the host sees it. */
export interface ExecTarget {
  /**
   * Namespaces of the container's init that differ from tsrun's own (the same one needs no setns), with the
   * path the parent opens: /proc/<init pid>/ns/<file>. Order does not matter: compileExec decides it.
   */
  namespaces: { type: NamespaceType; path: string }[];
  /** cgroup.procs files the process joins: the container's cgroup in each hierarchy, or the --cgroup sub-cgroup. */
  cgroupProcs: string[];
  /** The container's user namespace mappings (/proc/<pid>/uid_map, gid_map) when it has its own. */
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  /** /proc/<pid>/setgroups reads "deny": the final `user` step skips setgroups(2). */
  setgroupsDenied?: boolean;
  /**
   * The container's own process (config.json at create). runc's newInitConfig: capabilities when the exec'd
   * process has none, rlimits when it has none, and oomScoreAdj come from the container's config.
   */
  containerProcess?: Process;
  /**
   * The container's linux.seccomp, compiled by the caller (libseccomp): exec'd processes get the container's
   * filter (runc), loaded where create loads it. notify: the filter has SCMP_ACT_NOTIFY rules, and its listener fd
   * goes to the agent at listenerPath (runc setnsProcess: a new listener per exec'd process).
   */
  seccomp?: { program: Uint8Array; flags: bigint; notify?: boolean; listenerPath?: string };
  /**
   * The container has no mount namespace of its own (its init chrooted into the rootfs): the exec'd process
   * chroots into the init's root, /proc/<pid>/root, after the joins — otherwise it would run in the host's root.
   */
  root?: string;
  /** The session keyring the container's init joined ("_ses.<id>"), which exec'd processes join too; absent when
   *  the container was created with --no-new-keyring (src/plan/keyring.ts). */
  keyring?: string;
}

export interface ExecContext {
  /** exec -d: fork mode 0 (the first process exits); else mode 1 (it waits and carries the exit status). */
  detach: boolean;
  consoleSocket?: string;
  preserveFds: number;
  log: boolean;
  logJson: boolean;
  lastCap: number;
  /** tsrun runs unprivileged: the user namespace is joined first, as only there do we get the rights for the rest. */
  rootless?: boolean;
  /** The host's LSMs (src/linux/lsm.ts); absent: none, AppArmor's attribute apparmor/exec. */
  lsm?: LsmContext;
}

export interface CompiledExec {
  plan: Plan;
  warnings: string[];
}

/** Non-user namespaces in runc's join order (configs.NamespaceTypes after NEWUSER). */
const JOIN_ORDER: readonly NamespaceType[] = ['ipc', 'uts', 'network', 'pid', 'mount', 'cgroup', 'time'];

export function compileExec(proc: Process, target: ExecTarget, ctx: ExecContext): CompiledExec {
  const warnings: string[] = [];
  const steps: Step[] = [];
  const emit = (s: Step) => void steps.push(s);
  checkExecProcess(proc);
  const base = target.containerProcess;
  const foreground = !ctx.detach;

  // ── the fd table ─────────────────────────────────────────────────────────────────────────────────────────
  const fds: FdSource[] = [];
  const addFd = (f: FdSource) => fds.push(f) - 1;
  const nsFd = new Map<NamespaceType, { fd: number; path: string }>();
  for (const n of target.namespaces) {
    if (!Object.hasOwn(NAMESPACES, n.type)) throw planError(`exec: unknown namespace type ${JSON.stringify(n.type)}`);
    if (nsFd.has(n.type)) throw planError(`exec: namespace ${n.type} listed twice`);
    nsFd.set(n.type, { fd: addFd({ kind: 'path', path: n.path, flags: 'read', what: `${n.type} namespace of the container` }), path: n.path });
  }
  const cgroupFds = target.cgroupProcs.map((p) => addFd({ kind: 'path', path: p, flags: 'write', what: 'cgroup.procs the process joins' }));
  let consoleFd = -1;
  if (proc.terminal) {
    if (!ctx.consoleSocket) throw planError('cannot allocate tty if runc will detach without setting console socket', 'pass --console-socket');
    consoleFd = addFd({ kind: 'consoleSocket', path: ctx.consoleSocket, what: 'console socket (receives the pty master)' });
  }
  const logFd = ctx.log ? addFd({ kind: 'log', what: '--log file' }) : -1;
  const rootFd = target.root ? addFd({ kind: 'path', path: target.root, flags: 'dir', what: 'root of the container\'s init' }) : -1;
  // SCMP_ACT_NOTIFY: the parent connects to the agent before the spawn; the executor sends the new listener fd there
  const listenerPath = target.seccomp?.notify ? target.seccomp.listenerPath : undefined;
  if (target.seccomp?.notify && !listenerPath) throw planError('/linux/seccomp/listenerPath: is required when a syscall uses SCMP_ACT_NOTIFY');
  const listenerFd = listenerPath ? addFd({ kind: 'seccompListener', path: listenerPath, what: 'seccomp agent socket (receives the listener fd)' }) : -1;

  // ── ids ──────────────────────────────────────────────────────────────────────────────────────────────────
  const userns = nsFd.has('user');
  const user = proc.user ?? { uid: 0, gid: 0 };
  const uid = toId(user.uid, '/process/user/uid');
  const gid = toId(user.gid, '/process/user/gid');
  const groups = (user.additionalGids ?? []).map((g, i) => toId(g, `/process/user/additionalGids/${i}`));
  if (userns && target.uidMappings && hostIdOf(target.uidMappings, Number(uid)) === undefined) throw planError(`cannot setuid to unmapped uid ${uid} in user namespace`);
  if (userns && target.gidMappings && hostIdOf(target.gidMappings, Number(gid)) === undefined) throw planError(`cannot setgid to unmapped gid ${gid} in user namespace`);
  const becomeRoot: Step = { kind: 'user', uid: 0n, gid: 0n, groups: [], flags: STEP_FLAG.SKIP_SETGROUPS, label: 'become root in the user namespace' };

  // ════ the first process: on the host ═════════════════════════════════════════════════════════════════════
  if (logFd >= 0) emit({ kind: 'logTo', fd: logFd, format: ctx.logJson ? 1n : 0n, label: `log to the --log fd (${ctx.logJson ? 'json' : 'text'})` });
  if (foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL' }); // die with a foreground tsrun
  const oom = proc.oomScoreAdj ?? base?.oomScoreAdj;
  if (oom !== undefined) {
    // before the user namespace: lowering it needs CAP_SYS_RESOURCE in the initial one (runc writes it in nsexec)
    if (!Number.isInteger(oom)) throw planError(`/process/oomScoreAdj: must be an integer, got ${oom}`);
    emit({ kind: 'oomScoreAdj', value: String(oom), label: `oom_score_adj ${oom}` });
  }
  const join = (t: NamespaceType) => emit({ kind: 'setns', ns: nsFd.get(t)!.fd, nstype: NAMESPACES[t], label: `setns ${t} ${nsFd.get(t)!.path}` });
  if (userns && ctx.rootless) {
    join('user'); // unprivileged: only inside the container's user namespace may we join the others
    emit(becomeRoot);
  }
  // pid and time apply to the children of the fork below; the mount namespace brings the container's root and cwd
  for (const t of JOIN_ORDER) if (nsFd.has(t)) join(t);
  if (userns && !ctx.rootless) {
    join('user'); // last: as host root we may join the others (even ones the host owns); afterwards we could not
    emit(becomeRoot);
  }
  if (rootFd >= 0) emit({ kind: 'chroot', dir: rootFd, label: `chroot into ${target.root} (the container has no mount namespace)` });
  emit({ kind: 'fork', mode: ctx.detach ? 0n : 1n, label: ctx.detach ? 'fork; the first process exits' : 'fork; the first process waits and carries the exit status' });

  // ════ the new process: in the container's pid namespace ══════════════════════════════════════════════════
  if (foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL' }); // our parent is now the waiting first process
  const aff = proc.execCPUAffinity;
  if (aff?.initial) emit({ kind: 'cpuAffinity', mask: cpuListMask(aff.initial, '/process/execCPUAffinity/initial'), label: `cpu affinity ${aff.initial} (initial)` });
  // after the fork: the waiting first process stays out of the container's cgroup (runc puts only the exec'd pid in)
  cgroupFds.forEach((f, i) => emit({ kind: 'cgroupJoin', procs: f, label: `join cgroup ${target.cgroupProcs[i]}` }));
  if (aff?.final) emit({ kind: 'cpuAffinity', mask: cpuListMask(aff.final, '/process/execCPUAffinity/final'), label: `cpu affinity ${aff.final} (final)` });
  // runc setns_init starts by joining the container's session keyring (as it is: no permission change)
  if (target.keyring) steps.push(...keyringSteps(target.keyring, 0n, proc.selinuxLabel || base?.selinuxLabel, ctx.lsm ?? NO_LSM));
  if (proc.terminal) {
    // in the joined mount namespace: a pty of the container's /dev/pts; its /dev/console is the init's, left alone
    emit({
      kind: 'console', socket: consoleFd, rows: BigInt(proc.consoleSize?.height ?? 0), cols: BigInt(proc.consoleSize?.width ?? 0),
      flags: STEP_FLAG.NO_DEV_CONSOLE, label: 'console: new pty of the container\'s /dev/pts, master to the console socket',
    });
  }
  steps.push(...rlimitSteps(proc.rlimits?.length ? proc.rlimits : base?.rlimits));
  steps.push(...schedSteps(proc));
  if (proc.noNewPrivileges) emit({ kind: 'noNewPrivs', label: 'no_new_privs' });
  // runc newInitConfig: the container's label and profile unless the process has its own; setns_init order:
  // SetExecLabel before seccomp and finalizeNamespace, ApplyProfile after it. No SELinux check here (runc has none)
  steps.push(...selinuxSteps(proc.selinuxLabel || base?.selinuxLabel));
  // without no_new_privs loading a filter is privileged: before the capabilities go (runc setns_init)
  if (target.seccomp && !proc.noNewPrivileges) steps.push(...seccompSteps(target.seccomp, listenerFd));
  emit({ kind: 'chdir', path: proc.cwd, label: `chdir ${proc.cwd}` }); // then getcwd must be inside the root (CVE-2024-21626)
  const capCfg = proc.capabilities ?? base?.capabilities;
  const caps = capCfg ? capSets(capCfg, ctx.lastCap, warnings) : undefined;
  if (caps) emit({ kind: 'capsBounding', keep: caps.bounding, label: `caps bounding = ${capList(caps.bounding)}` });
  if (uid !== 0n) emit({ kind: 'fixStdio', uid, gid, label: `chown stdio to ${uid}:${gid}` });
  const skipGroups = Boolean(target.setgroupsDenied) && userns;
  if (skipGroups && groups.length) warnings.push('/process/user/additionalGids: setgroups is denied in this user namespace; ignored');
  emit({ kind: 'user', uid, gid, groups, ...(skipGroups ? { flags: STEP_FLAG.SKIP_SETGROUPS } : {}), label: `user uid ${uid} gid ${gid} groups [${groups.join(' ')}]` });
  const umask = user.umask ?? 0o022;
  emit({ kind: 'umask', mask: BigInt(umask), label: `umask ${umask.toString(8).padStart(4, '0')}` });
  if (caps) {
    emit({
      kind: 'caps', effective: caps.effective, permitted: caps.permitted, inheritable: caps.inheritable, ambient: caps.ambient,
      label: `caps effective ${capList(caps.effective)} · permitted ${capList(caps.permitted)} · inheritable ${capList(caps.inheritable)} · ambient ${capList(caps.ambient)}`,
    });
  }
  steps.push(...apparmorSteps(proc.apparmorProfile || base?.apparmorProfile, ctx.lsm ?? NO_LSM));
  if (foreground) emit({ kind: 'pdeathsig', signal: SIGKILL, label: 'pdeathsig SIGKILL (again: changing ids cleared it)' });
  const envp = prepareEnv(proc.env, [], uid === 0n ? '/root' : '/');
  const name = proc.args![0]!;
  emit({ kind: 'resolve', name, searchPath: name.includes('/') ? [] : searchPath(envp), label: `resolve ${JSON.stringify(name)}${name.includes('/') ? '' : ' in PATH'}` });
  if (target.seccomp && proc.noNewPrivileges) steps.push(...seccompSteps(target.seccomp, listenerFd)); // as close to execve as possible
  // No `ready`: the control socket is close-on-exec, so its EOF tells tsrun the execve succeeded, and a failing
  // execve is still reported as FAILED (runc learns it the same way, from its init pipe).
  emit({ kind: 'exec', path: '', argv: proc.args!, envp, keepFds: BigInt(3 + ctx.preserveFds), label: `exec ${proc.args!.map(shellQuote).join(' ')}` });
  return { plan: { fds, slots: 0, steps }, warnings };
}

/** runc validateProcessSpec, plus what tsrun cannot do yet (refused, never ignored). */
function checkExecProcess(p: Process): void {
  if (!p.cwd) throw planError('Cwd property must not be empty');
  if (!p.cwd.startsWith('/')) throw planError('Cwd must be an absolute path');
  if (!p.args?.length) throw planError('args must not be empty');
}

/**
 * The container's filter; with NOTIFY first a `seccompListener` step (sync seccomp: the parent answers with runc's
 * message for the agent, which carries this process's host pid, known since the fork), then the filter, loaded with
 * NEW_LISTENER (in the flags), whose listener fd the executor sends to the agent.
 */
function seccompSteps(sc: NonNullable<ExecTarget['seccomp']>, listenerFd: number): Step[] {
  const out: Step[] = [];
  if (sc.notify) out.push({ kind: 'seccompListener', socket: listenerFd, label: `seccomp listener: ask the host for the agent's message (to ${sc.listenerPath})` });
  out.push({ kind: 'seccomp', filterFlags: sc.flags, program: sc.program, label: `seccomp filter of the container (${sc.program.length / 8} BPF instructions${sc.notify ? ', listener fd to the agent' : ''})` });
  return out;
}


/** "0-3,7" → a cpu_set_t bitmap (runc execCPUAffinity). */
export function cpuListMask(list: string, pointer: string): Uint8Array {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const m = /^\s*(\d{1,4})(?:-(\d{1,4}))?\s*$/.exec(part);
    if (!m) throw planError(`${pointer}: invalid CPU list ${JSON.stringify(list)}`, 'e.g. "0-3,7"');
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= 8192) throw planError(`${pointer}: invalid CPU range ${JSON.stringify(part.trim())}`);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  const mask = new Uint8Array(Math.max(8, Math.ceil((Math.max(...cpus) + 1) / 64) * 8));
  for (const c of cpus) mask[c >> 3]! |= 1 << (c & 7);
  return mask;
}

// ── runc's exec flags → Process ─────────────────────────────────────────────────────────────────────────────

export interface ExecFlags {
  args: string[];
  cwd?: string;
  env: string[];
  tty: boolean;
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivs?: boolean;
}

/**
 * runc getProcess() without --process: the container's process with the flags applied. args from the command
 * line; env appended (later entries win); terminal only from --tty (the container's terminal is not inherited);
 * --user "uid[:gid]" (a missing gid keeps the container's); --additional-gids appended; --cap added to bounding,
 * effective and permitted, and to ambient only when an inheritable set exists and lists it — never to
 * inheritable (security.md D9).
 */
export function applyExecFlags(base: Process, f: ExecFlags): Process {
  const p: Process = structuredClone(base);
  p.args = [...f.args];
  if (f.cwd) p.cwd = f.cwd;
  p.env = [...(p.env ?? []), ...f.env];
  p.terminal = f.tty;
  if (f.noNewPrivs !== undefined) p.noNewPrivileges = f.noNewPrivs;
  if (f.user !== undefined && f.user !== '') {
    const [uids, gids] = cut(f.user, ':');
    const user = { ...(p.user ?? { uid: 0, gid: 0 }) };
    if (gids !== undefined) user.gid = atoiId(gids, 'gid');
    user.uid = atoiId(uids, 'uid');
    p.user = user;
  }
  if (f.additionalGids.length) {
    const user = { ...(p.user ?? { uid: 0, gid: 0 }) };
    user.additionalGids = [...(user.additionalGids ?? []), ...f.additionalGids.map((g) => {
      if (!/^[0-9]+$/.test(g) || Number(g) > 0xffff_fffe) throw new TsrunError('ERR_TSRUN_USAGE', `additional-gids must be a positive number ${g}`);
      return Number(g);
    })];
    p.user = user;
  }
  if (f.caps.length) {
    const c: Capabilities = { ...(p.capabilities ?? {}) };
    const inheritable = c.inheritable;
    for (const raw of f.caps) {
      const name = capName(raw);
      for (const set of ['bounding', 'effective', 'permitted'] as const) c[set] = addCap(c[set], name);
      // an ambient cap must be permitted and inheritable (capabilities(7)); exec --cap never adds inheritable
      if (inheritable?.includes(name)) c.ambient = addCap(c.ambient, name);
    }
    p.capabilities = c;
  }
  return p;
}

/** "CAP_NET_ADMIN", "net_admin", "NET_ADMIN" → "CAP_NET_ADMIN"; unknown names are refused. */
export function capName(raw: string): string {
  const up = raw.trim().toUpperCase();
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!Object.hasOwn(CAPABILITIES, name)) throw new TsrunError('ERR_TSRUN_USAGE', `unknown capability ${JSON.stringify(raw)}`, { hint: 'e.g. --cap CAP_NET_ADMIN' });
  return name;
}

const addCap = (set: string[] | undefined, name: string) => (set?.includes(name) ? set : [...(set ?? []), name]);

function cut(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** runc: strconv.Atoi, then uint32. Stricter here: decimal digits only, and never (uid_t)-1. */
function atoiId(s: string, what: 'uid' | 'gid'): number {
  const fail = (why: string) => new TsrunError('ERR_TSRUN_USAGE', `parsing ${s} as int for ${what} failed: strconv.Atoi: parsing ${JSON.stringify(s)}: ${why}`);
  if (!/^[0-9]+$/.test(s)) throw fail('invalid syntax');
  if (s.length > 10 || Number(s) > 0xffff_fffe) throw fail('value out of range');
  return Number(s);
}

/**
 * runc getSubCgroupPaths: `--cgroup PATH` (every hierarchy) or `--cgroup CTRL[,CTRL]:PATH` (repeatable).
 * Returns controller → sub path; the key "" means every hierarchy.
 */
export function parseSubCgroups(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of args) {
    const parts = c.split(':');
    if (parts.length > 2) throw new TsrunError('ERR_TSRUN_USAGE', `invalid --cgroup argument: ${c}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new TsrunError('ERR_TSRUN_USAGE', `invalid --cgroup argument: ${c} (missing <controller>: prefix)`);
      out.set('', c);
      continue;
    }
    for (const ctrl of parts[0]!.split(',')) {
      if (ctrl === '') throw new TsrunError('ERR_TSRUN_USAGE', `invalid --cgroup argument: ${c} (empty <controller> prefix)`);
      if (out.has(ctrl)) throw new TsrunError('ERR_TSRUN_USAGE', `invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

function capList(mask: bigint): string {
  const names = capNames(mask, true);
  return names.length ? names.join(' ') : '(none)';
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : JSON.stringify(s);
}
