/**
 * What compile() needs to know besides config.json: the command's options and a few facts about the host.
 * The lifecycle code (src/container/) fills it; everything host-dependent comes in here so src/plan/ stays pure.
 */
import type { IDMapping } from '../spec/types.js';
import type { Plan } from './steps.js';

export interface CgroupMounts {
  /**
   * cgroup v1 (or hybrid) hierarchies, one per mounted hierarchy, in /proc/self/mountinfo order.
   * dir: the directory name under /sys/fs/cgroup ("cpu,cpuacct", "systemd");
   * data: the mount data for a fresh cgroup mount ("cpu,cpuacct", "none,name=systemd");
   * hostPath: the container's own cgroup directory in that hierarchy on the host (bound when there is no new
   * cgroup namespace).
   */
  v1: { dir: string; data: string; hostPath: string }[];
  /** Co-mount links made inside the tmpfs: name "cpu" → target "cpu,cpuacct". */
  links: { name: string; target: string }[];
  /**
   * Set when the host is pure cgroup v2. hostPath is bound instead of a fresh cgroup2 mount when the kernel would
   * refuse one (a user namespace without its own cgroup namespace): runc binds the host's /sys/fs/cgroup there;
   * the container's own cgroup directory also works and shows less.
   */
  v2?: { hostPath: string };
}

export interface CompileContext {
  id: string;
  /** Absolute path of the bundle directory. */
  bundle: string;
  /** Absolute host path of root.path (resolved against the bundle). */
  rootfs: string;
  /** run: setup ends with sync{start} instead of ready + waitStart, and there is no exec fifo. */
  mode: 'create' | 'run';
  /** run without -d: fork mode 1 (2 when !subreaper), and pdeathsig SIGKILL around the fork and the id change. */
  foreground: boolean;
  subreaper: boolean;
  /** <root>/<id>: the exec fifo is created there (create mode). */
  stateDir: string;
  /** A path the parent connects to and passes as an fd (terminal: true). */
  consoleSocket?: string;
  noPivot: boolean;
  /** --no-new-keyring: the init keeps its caller's session keyring (otherwise it joins "_ses.<id>", src/plan/keyring.ts). */
  noNewKeyring?: boolean;
  /** runc --preserve-fds. */
  preserveFds: number;
  /** LISTEN_FDS honoured (caller-contract §9) → env LISTEN_FDS=n, LISTEN_PID=1. */
  listenFds: number;
  /** Host paths of the cgroup.procs files the init joins (one per hierarchy). */
  cgroupProcs: string[];
  /** How /sys/fs/cgroup is presented inside for a mount of type "cgroup". */
  cgroupMounts: CgroupMounts;
  /** A --log fd is passed: emit logTo first. */
  log: boolean;
  logJson: boolean;
  /** /proc/sys/kernel/cap_last_cap of this kernel. */
  lastCap: number;
  /** stat(2) of a host path (bind sources, /proc/kcore), injected so compile() stays pure. */
  sourceKind: (hostPath: string) => 'dir' | 'file' | 'missing' | 'other';
  /** Owner and mode of a host path (stat, following symlinks), undefined when missing: whether a user namespace's
   *  root can reach a bind source (src/plan/mounts.ts cloneBinds). Absent: every source counts as out of reach. */
  statPath?: (hostPath: string) => { uid: number; gid: number; mode: number } | undefined;

  // ── optional facts; absent means the common rootful case ──────────────────────────────────────────────────
  /**
   * tsrun runs without privileges in the initial user namespace (rootless). Then a joined user namespace is
   * entered before the other joined namespaces (we only get CAP_SYS_ADMIN there), like runc's second pass.
   */
  rootless?: boolean;
  /** tsrun itself already runs inside a user namespace: device nodes are bound from the host instead of mknod. */
  inUserNs?: boolean;
  /**
   * /proc/self/setgroups of the container's user namespace will read "deny" (rootless with a single mapping):
   * the final `user` step then skips setgroups(2) (runc's allowSupGroups).
   */
  setgroupsDenied?: boolean;
  /**
   * Mappings of a user namespace the container joins (linux.namespaces user with a path), read by the caller
   * from /proc/<pid>/uid_map and gid_map. Used for the host ids of the container's root (exec fifo owner).
   */
  joinedUserNs?: { uidMappings: IDMapping[]; gidMappings: IDMapping[] };
  /**
   * Host path of the mount point that contains the rootfs (from /proc/self/mountinfo). When given, a
   * `propagation` step makes it private (slave for a slave rootfsPropagation) before the rootfs bind, as runc's
   * rootfsParentMountPropagation does: pivot_root refuses a shared parent, and a bind under a shared parent would
   * propagate back to the host. Needed whenever linux.rootfsPropagation is shared.
   */
  rootfsMountPoint?: string;
  /** HOME for the process when process.env has none: the caller may look it up in the rootfs's /etc/passwd. */
  homeDir?: (uid: number) => string | undefined;
  /**
   * linux.seccomp compiled by the caller (libseccomp, src/linux/seccomp.ts): the BPF program (struct sock_filter[])
   * and the seccomp(2) flags; notify: a rule uses SCMP_ACT_NOTIFY (the listener fd goes to listenerPath).
   * Required when the config has linux.seccomp.
   */
  seccomp?: { program: Uint8Array; flags: bigint; notify?: boolean };
  /**
   * The host's LSMs (src/linux/lsm.ts detectLsm). Absent: none enabled, AppArmor's attribute apparmor/exec.
   * selinux false refuses process.selinuxLabel (runc's validator) and ignores linux.mountLabel with a warning.
   */
  lsm?: LsmContext;
}

/** What compile() and compileExec() need to know of the host's security modules. */
export interface LsmContext {
  apparmor: boolean;
  /** Under /proc/thread-self/attr/: "apparmor/exec", or "exec" on kernels without the per-LSM directory. */
  apparmorExecAttr: string;
  selinux: boolean;
}

export interface Compiled {
  plan: Plan;
  /** Things the caller should log at warning level (runc logs the same ones): ignored or degraded config. */
  warnings: string[];
  /**
   * hostBeforeResume: the plan has a sync{hooks}; the parent runs prestart + createRuntime on the host and
   * answers with RESUME carrying the state JSON (which the executor's `hook` steps then feed to stdin).
   */
  hookPhases: { hostBeforeResume: boolean };
}
