/**
 * The setup plan: the contract between the TypeScript compiler (policy) and the C executor (mechanism).
 *
 * TypeScript decides everything — which namespaces, in which order, every mount with its flags, every id — and
 * writes it down as an ordered list of steps. The executor (src/executor/) decodes the whole list first, then
 * carries the steps out one by one and reports the first failure as (step index, errno, op, path).
 *
 * Wire shape of every step (little-endian, see encode.ts and ARCHITECTURE.md "Plan format"):
 *     u16 kind · u16 flags · u32 body_len · str label · fields in the order of STEP_SIGNATURE[kind]
 * Field alphabet:  s = str (u32 len, bytes, NUL)   u = u64   f = fd reference (u32 index into the fd table)
 *                  v = strv (u32 count, str*)     U = u64 array (u32 count, u64*)   b = bytes (u32 len, bytes)
 *
 * STEP_CODE and STEP_SIGNATURE are mirrored by src/executor/proto.h; steps.mirror.test.ts compares the two.
 * Codes are never reused: a retired kind keeps its number, commented out.
 */

export const PLAN_MAGIC = 'TSRP';
export const PLAN_VERSION = 1;
/** Upper bounds the executor enforces too (proto.h). */
export const PLAN_MAX_BYTES = 4 * 1024 * 1024;
export const PLAN_MAX_STEPS = 4096;
export const PLAN_MAX_FDS = 64;

/** Index into the fd table: passed fds first (0 … nfds-1), then slots filled by steps (nfds … nfds+nslots-1). */
export type FdRef = number;

/** Per-step flag bits. The executor rejects bits it does not know. */
export const STEP_FLAG = {
  /** ENOENT from this step is not an error: the step is skipped (masked/readonly paths missing in the image). */
  OK_ENOENT: 1 << 0,
  /** `user`: do not call setgroups() (a user namespace whose setgroups is "deny"). */
  SKIP_SETGROUPS: 1 << 1,
  /** `console` (exec): the pty comes from the joined root's /dev/pts; /dev/console (the init's) is left alone. */
  NO_DEV_CONSOLE: 1 << 2,
  /** `hook`: feed the part of the last RESUME payload after its first NUL (startContainer's state). */
  SECOND_STATE: 1 << 3,
} as const;

type S<K extends string, F> = { kind: K; label: string; flags?: number } & F;

export type Step =
  // ── namespaces and process tree ─────────────────────────────────────────────────────────────────────────
  /** Write "0" to a cgroup.procs fd: moves the executing process into that cgroup. */
  | S<'cgroupJoin', { procs: FdRef }>
  /** unshare(2) with CLONE_* flags. CLONE_NEWPID / CLONE_NEWTIME apply to the children of the next `fork`. */
  | S<'unshare', { cloneFlags: bigint }>
  /** setns(2) on an fd the parent opened (a /proc/PID/ns/* file or a bind-mounted ns path). */
  | S<'setns', { ns: FdRef; nstype: bigint }>
  /**
   * fork(2). The child goes on with the next step. The parent sends FORKED {pid} and then
   * mode 0 (detach): exits 0 — the child is orphaned to the caller's subreaper (create, run -d, exec -d);
   * mode 1 (wait): waits for the child and exits with its status (128+N when killed by signal N), reaping any
   *        other child too (it made itself a child subreaper) — foreground run/exec;
   * mode 2 (wait, no subreaper): the same without PR_SET_CHILD_SUBREAPER (run --no-subreaper).
   */
  | S<'fork', { mode: bigint }>
  /** Send SYNC {step, token} and block until RESUME; the RESUME payload (the state JSON) is kept for `hook`. */
  | S<'sync', { token: bigint }>
  /** mkfifoat(dir, name, mode), fchownat to uid:gid, then open it O_PATH into fd slot `slot` (the exec fifo). */
  | S<'mkfifo', { dir: FdRef; name: string; mode: bigint; uid: bigint; gid: bigint; slot: bigint }>
  /** prctl(PR_SET_PDEATHSIG); then, if the parent already died (getppid changed), exit — closes the race. */
  | S<'pdeathsig', { signal: bigint }>
  /** Where to write diagnostics after READY (nobody listens on the control socket then). format 0 text, 1 json. */
  | S<'logTo', { fd: FdRef; format: bigint }>
  /** Write the text to /proc/self/timens_offsets (after unshare(CLONE_NEWTIME), before fork). */
  | S<'timeOffsets', { text: string }>
  /**
   * Set IFF_UP on "lo" (SIOCGIFFLAGS/SIOCSIFFLAGS on an AF_INET socket) in a network namespace the container made:
   * runc gives every new network namespace its "loopback" network (specconv; setupNetwork), so 127.0.0.1 works
   * in `--network none` containers (Docker, podman).
   */
  | S<'loopbackUp', {}>
  /**
   * keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): the container gets its own session keyring instead of its caller's
   * (runc's "_ses.<id>", unless --no-new-keyring). permSet ≠ 0: OR these bits into the keyring's permissions
   * (KEYCTL_DESCRIBE, KEYCTL_SETPERM) — runc makes a new container's keyring searchable. ENOSYS is not an error.
   */
  | S<'sessionKeyring', { name: string; permSet: bigint }>
  // ── rootfs and mounts (paths named "target"/"path" are inside the container root, resolved fd-relative) ──
  /** mount(NULL, hostPath, NULL, flags): propagation changes on the host-side tree (e.g. "/" MS_SLAVE|MS_REC). */
  | S<'propagation', { hostPath: string; mountFlags: bigint }>
  /** Bind the rootfs (a host path) onto itself, recursively, and open it as the root every later path resolves in. */
  | S<'rootfsBind', { hostPath: string }>
  /**
   * One mount. target is resolved inside the root with openat2(RESOLVE_IN_ROOT); missing components are created
   * (MOUNT_OPT.MKDIR / MKFILE for the last one). With MOUNT_OPT.BIND_FD the host source is opened O_PATH first and
   * mounted through /proc/self/fd. After mounting, when remountFlags ≠ 0, the target is reopened and remounted
   * with MS_REMOUNT|MS_BIND|remountFlags; when propagation ≠ 0 it is applied; attrSet/attrClr go to mount_setattr.
   */
  | S<'mount', {
      source: string; target: string; fstype: string; mountFlags: bigint; data: string;
      opts: bigint; remountFlags: bigint; propagation: bigint; attrSet: bigint; attrClr: bigint;
    }>
  /**
   * Before any namespace is entered (it needs CAP_SYS_ADMIN over the source's filesystem): open_tree(source,
   * OPEN_TREE_CLONE [| AT_RECURSIVE when bit 0 of recursive is set: rbind]) and make the detached tree idmapped
   * (mount_setattr MOUNT_ATTR_IDMAP [| AT_RECURSIVE when bit 1 is set: ridmap]) with the user namespace passed at
   * `userns` (an `idmapUserns` entry of the fd table: the parent made it with the mount's mapping); the tree goes
   * into fd slot `slot` for a later `mountTree`.
   */
  | S<'idmapTree', { source: string; userns: FdRef; recursive: bigint; slot: bigint }>
  /**
   * Before any namespace is entered, as host root: open_tree(source, OPEN_TREE_CLONE [| AT_RECURSIVE when bit 0 of
   * recursive is set]) into fd slot `slot`, for a later `mountTree`. For bind mounts of a container with a user
   * namespace, whose mapped root may not be able to reach the source (runc opens those from the host side too).
   */
  | S<'cloneTree', { source: string; recursive: bigint; slot: bigint }>
  /**
   * Attach a detached tree (an fd slot filled by idmapTree or cloneTree) at target with move_mount; the rest as for `mount`
   * (target resolution and creation by opts, then remountFlags, propagation, attrSet/attrClr).
   */
  | S<'mountTree', { tree: FdRef; target: string; opts: bigint; remountFlags: bigint; propagation: bigint; attrSet: bigint; attrClr: bigint }>
  /** mknodat in the root (mode includes S_IFCHR/S_IFBLK/S_IFIFO), then fchown. MOUNT_OPT.BIND_FD: bind the host node instead. */
  | S<'mknod', { path: string; mode: bigint; dev: bigint; uid: bigint; gid: bigint; opts: bigint }>
  /** symlinkat(linkTarget, root, path). An existing entry at path is an error unless OK_ENOENT semantics say otherwise. */
  | S<'symlink', { linkTarget: string; path: string }>
  /** mode 0: pivot_root into the root and detach the old one; mode 1: MS_MOVE + chroot (--no-pivot); mode 2: chroot only (no mount namespace). */
  | S<'pivotRoot', { mode: bigint }>
  /** exec into a container without a mount namespace: fchdir + chroot into the init's root (/proc/<pid>/root). */
  | S<'chroot', { dir: number }>
  /** maskedPaths entry (after pivot): a file gets a bind of a verified /dev/null (1:3), a directory a read-only tmpfs. */
  | S<'mask', { path: string }>
  /** readonlyPaths entry (after pivot): bind onto itself, remount read-only (keeping nosuid/nodev/noexec). */
  | S<'readonly', { path: string }>
  /** mount("", path, "", MS_REMOUNT|MS_BIND|flags) on the mount at path (e.g. "/" read-only for root.readonly). */
  | S<'remount', { path: string; mountFlags: bigint }>
  /**
   * terminal: open /dev/pts/ptmx (verified devpts), unlockpt, peer via TIOCGPTPEER, bind the peer onto /dev/console,
   * set the window size, send the master over `socket` (one SCM_RIGHTS fd, payload "/dev/ptmx"), setsid, TIOCSCTTY,
   * dup the peer onto 0, 1, 2.
   */
  | S<'console', { socket: FdRef; rows: bigint; cols: bigint }>
  // ── process attributes ──────────────────────────────────────────────────────────────────────────────────
  | S<'hostname', { name: string }>
  | S<'domainname', { name: string }>
  /** Write value to path (a /proc/sys/... path computed by TypeScript from the sysctl key). */
  | S<'sysctl', { path: string; value: string }>
  | S<'rlimit', { resource: bigint; soft: bigint; hard: bigint }>
  /** Write the decimal text to /proc/self/oom_score_adj. */
  | S<'oomScoreAdj', { value: string }>
  | S<'personality', { persona: bigint }>
  /**
   * sched_setattr(0, {policy, flags, nice, priority, runtime, deadline, period}). nice is two's complement.
   * The sched flags field is named schedFlags: `flags` is every step's own flag word.
   */
  | S<'scheduler', { policy: bigint; schedFlags: bigint; nice: bigint; priority: bigint; runtime: bigint; deadline: bigint; period: bigint }>
  /** ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | level). */
  | S<'ioPriority', { ioClass: bigint; level: bigint }>
  /** sched_setaffinity(0, mask): the bytes are a cpu_set_t bitmap. */
  | S<'cpuAffinity', { mask: Uint8Array }>
  | S<'umask', { mask: bigint }>
  | S<'noNewPrivs', {}>
  /** PR_CAPBSET_DROP every capability 0…CAP_LAST_CAP whose bit is not set in keep; sets PR_SET_KEEPCAPS. */
  | S<'capsBounding', { keep: bigint }>
  /** setgroups(groups) (unless SKIP_SETGROUPS), setresgid(gid), setresuid(uid). Capabilities survive (keepcaps). */
  | S<'user', { uid: bigint; gid: bigint; groups: bigint[] }>
  /** capset(effective, permitted, inheritable), then raise each ambient bit; clears PR_SET_KEEPCAPS. */
  | S<'caps', { effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }>
  /**
   * Create path and its missing parents inside the root (each new directory with mode, owned by the caller),
   * following symlinks inside the root; an existing directory is fine. process.cwd, as runc creates it.
   */
  | S<'mkdirAll', { path: string; mode: bigint }>
  /** chdir(path) inside the root, then getcwd() must return a path starting with "/" (CVE-2024-21626). */
  | S<'chdir', { path: string }>
  /** fchown fds 0–2 to uid:gid unless they are /dev/null or already owned (runc fixStdioPermissions). */
  | S<'fixStdio', { uid: bigint; gid: bigint }>
  /**
   * Resolve the program: name with a "/" is checked as is; otherwise each dir of searchPath is tried in order.
   * Regular file and executable (X_OK) required. The result is what `exec` runs when its path is "".
   * Fails at create time so callers get runc's 127/126 wording (kind tells TypeScript which sentence to use).
   */
  | S<'resolve', { name: string; searchPath: string[] }>
  /**
   * seccomp(SECCOMP_SET_MODE_FILTER, flags, program) — program is a sock_filter array (8 bytes per insn). With
   * SECCOMP_FILTER_FLAG_NEW_LISTENER the returned listener fd is sent over the socket of the preceding
   * `seccompListener` step (SCM_RIGHTS, with the message that step received), then both are closed.
   */
  | S<'seccomp', { filterFlags: bigint; program: Uint8Array }>
  /**
   * Prepares SCMP_ACT_NOTIFY (right before `seccomp`): sends SYNC {step, token seccomp} and keeps the RESUME
   * payload (runc's container process state JSON for the agent) apart from the hooks' state; `socket` is the
   * connection to linux.seccomp.listenerPath. Reading it here, before the filter exists, means no read(2) after.
   */
  | S<'seccompListener', { socket: FdRef }>
  /**
   * Write value to /proc/thread-self/attr/<attr> (AppArmor: attr apparmor/exec or exec, value "exec <profile>";
   * SELinux: attr exec, value the process label; the field is not `label`, every step's own description) — the LSM applies it at the next execve. Only through a verified procfs handle: /proc must
   * be a procfs root (PROC_SUPER_MAGIC, inode 1) and attr is opened beneath it with openat2(RESOLVE_BENEATH |
   * RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS), so a fake /proc or a bind over the file fails (security.md D3).
   */
  | S<'lsmLabel', { attr: string; value: string }>
  /** fork + execve(path, argv, envp) with the last RESUME payload (state JSON) on stdin; kill after timeout s (0 = none). */
  | S<'hook', { path: string; argv: string[]; envp: string[]; timeout: bigint }>
  // ── end of setup ──────────────────────────────────────────────────────────────────────────────────────────
  /** Send READY, then close the control socket: from here on, failures go to the logTo fd. */
  | S<'ready', {}>
  /** Open the fifo (fd slot, via /proc/self/fd) O_WRONLY: blocks until `tsrun start` opens the read side; write "0". */
  | S<'waitStart', { fifo: FdRef }>
  /**
   * Reset every signal disposition and the mask, close every fd ≥ keepFds, execve(path || resolved, argv, envp).
   * Never returns on success.
   */
  | S<'exec', { path: string; argv: string[]; envp: string[]; keepFds: bigint }>;

export type StepKind = Step['kind'];

/** Wire codes. `satisfies` makes a kind without a code, or a code without a kind, a compile error. */
export const STEP_CODE = {
  cgroupJoin: 1, unshare: 2, setns: 3, fork: 4, sync: 5, mkfifo: 6, pdeathsig: 7, logTo: 8, timeOffsets: 9,
  propagation: 10, rootfsBind: 11, mount: 12, mknod: 13, symlink: 14, pivotRoot: 15, mask: 16, readonly: 17,
  remount: 18, console: 19,
  hostname: 20, domainname: 21, sysctl: 22, rlimit: 23, oomScoreAdj: 24, personality: 25, scheduler: 26,
  ioPriority: 27, cpuAffinity: 28, umask: 29, noNewPrivs: 30, capsBounding: 31, user: 32, caps: 33, chdir: 34,
  fixStdio: 35, resolve: 36, seccomp: 37, hook: 38, seccompListener: 39,
  mkdirAll: 40, /* 41: idmapTree "sssuu" (the executor made the user namespace itself), retired */ mountTree: 42,
  lsmLabel: 43, chroot: 44, loopbackUp: 45, idmapTree: 46, sessionKeyring: 47, cloneTree: 48,
  ready: 50, waitStart: 51, exec: 52,
} as const satisfies Record<StepKind, number>;

/**
 * Field names of each kind in wire order, with their type letter. The encoder walks this table; the executor's
 * decoder walks the signature string of the same kind (proto.h STEP_SIGNATURES) and fills s[], u[], f[], v[], U, b
 * of `struct step` in order of appearance.
 */
export const STEP_FIELDS = {
  cgroupJoin: [['procs', 'f']],
  unshare: [['cloneFlags', 'u']],
  setns: [['ns', 'f'], ['nstype', 'u']],
  fork: [['mode', 'u']],
  sync: [['token', 'u']],
  mkfifo: [['dir', 'f'], ['name', 's'], ['mode', 'u'], ['uid', 'u'], ['gid', 'u'], ['slot', 'u']],
  pdeathsig: [['signal', 'u']],
  logTo: [['fd', 'f'], ['format', 'u']],
  timeOffsets: [['text', 's']],
  loopbackUp: [],
  sessionKeyring: [['name', 's'], ['permSet', 'u']],
  propagation: [['hostPath', 's'], ['mountFlags', 'u']],
  rootfsBind: [['hostPath', 's']],
  mount: [['source', 's'], ['target', 's'], ['fstype', 's'], ['mountFlags', 'u'], ['data', 's'], ['opts', 'u'],
    ['remountFlags', 'u'], ['propagation', 'u'], ['attrSet', 'u'], ['attrClr', 'u']],
  mknod: [['path', 's'], ['mode', 'u'], ['dev', 'u'], ['uid', 'u'], ['gid', 'u'], ['opts', 'u']],
  symlink: [['linkTarget', 's'], ['path', 's']],
  pivotRoot: [['mode', 'u']],
  chroot: [['dir', 'f']],
  mask: [['path', 's']],
  readonly: [['path', 's']],
  remount: [['path', 's'], ['mountFlags', 'u']],
  console: [['socket', 'f'], ['rows', 'u'], ['cols', 'u']],
  hostname: [['name', 's']],
  domainname: [['name', 's']],
  sysctl: [['path', 's'], ['value', 's']],
  rlimit: [['resource', 'u'], ['soft', 'u'], ['hard', 'u']],
  oomScoreAdj: [['value', 's']],
  personality: [['persona', 'u']],
  scheduler: [['policy', 'u'], ['schedFlags', 'u'], ['nice', 'u'], ['priority', 'u'], ['runtime', 'u'], ['deadline', 'u'], ['period', 'u']],
  ioPriority: [['ioClass', 'u'], ['level', 'u']],
  cpuAffinity: [['mask', 'b']],
  umask: [['mask', 'u']],
  noNewPrivs: [],
  capsBounding: [['keep', 'u']],
  user: [['uid', 'u'], ['gid', 'u'], ['groups', 'U']],
  caps: [['effective', 'u'], ['permitted', 'u'], ['inheritable', 'u'], ['ambient', 'u']],
  chdir: [['path', 's']],
  mkdirAll: [['path', 's'], ['mode', 'u']],
  idmapTree: [['source', 's'], ['userns', 'f'], ['recursive', 'u'], ['slot', 'u']],
  cloneTree: [['source', 's'], ['recursive', 'u'], ['slot', 'u']],
  mountTree: [['tree', 'f'], ['target', 's'], ['opts', 'u'], ['remountFlags', 'u'], ['propagation', 'u'], ['attrSet', 'u'], ['attrClr', 'u']],
  lsmLabel: [['attr', 's'], ['value', 's']],
  fixStdio: [['uid', 'u'], ['gid', 'u']],
  resolve: [['name', 's'], ['searchPath', 'v']],
  seccomp: [['filterFlags', 'u'], ['program', 'b']],
  seccompListener: [['socket', 'f']],
  hook: [['path', 's'], ['argv', 'v'], ['envp', 'v'], ['timeout', 'u']],
  ready: [],
  waitStart: [['fifo', 'f']],
  exec: [['path', 's'], ['argv', 'v'], ['envp', 'v'], ['keepFds', 'u']],
} as const satisfies { [K in StepKind]: readonly (readonly [string, 's' | 'u' | 'f' | 'v' | 'U' | 'b'])[] };

/** The signature string of a kind ("sssusuuuuu" for mount): what proto.h lists. */
export const stepSignature = (kind: StepKind): string => STEP_FIELDS[kind].map(([, t]) => t).join('');

/** Bits of the `opts` field of `mount` and `mknod`. */
export const MOUNT_OPT = {
  /** Create the target as a directory when missing. */
  MKDIR: 1n << 0n,
  /** Create the target as an empty file when missing (bind of a file). */
  MKFILE: 1n << 1n,
  /** The source is a host path: open it O_PATH and mount through /proc/self/fd (bind mounts, device binds). */
  BIND_FD: 1n << 2n,
  /** Refuse when the resolved target is not a real directory on a real mount (proc, sysfs: CVE-2019-19921). */
  TARGET_MUST_BE_DIR: 1n << 3n,
  /** tmpfs "tmpcopyup": copy what the target directory held (files, directories, links, nodes; mode, owner, times) into the new mount. */
  COPYUP: 1n << 4n,
} as const;

export const SYNC_TOKEN = { idmap: 1n, hooks: 2n, start: 3n, seccomp: 4n } as const;

/** A compiled plan: the steps plus what the parent must open and pass (fd table entries, in order). */
export interface Plan {
  /** Passed fds, in table order; the parent opens each before spawning. `what` is for explain and errors. */
  fds: FdSource[];
  /** Extra table entries that steps fill (mkfifo). */
  slots: number;
  steps: Step[];
}

export type FdSource =
  | { kind: 'path'; path: string; flags: 'read' | 'write' | 'dir'; what: string }
  | { kind: 'consoleSocket'; path: string; what: string }
  /** linux.seccomp.listenerPath, connected by the parent (SCMP_ACT_NOTIFY). */
  | { kind: 'seccompListener'; path: string; what: string }
  | { kind: 'log'; what: string }
  /**
   * A user namespace with these uid_map / gid_map texts, made by the parent before the executor starts (a helper
   * executor unshares it and the parent writes the maps), for idmapped mounts (`idmapTree`). One per distinct pair.
   */
  | { kind: 'idmapUserns'; uidMap: string; gidMap: string; what: string };
