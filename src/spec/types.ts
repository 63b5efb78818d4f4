/**
 * The OCI runtime-spec documents tsrun reads and writes: config.json (Spec), the state object (State) and the
 * `features` output (Features). Hand-written to match schemas/*.schema.json, which is what actually validates them;
 * a value of these types has passed that schema (see spec/validate.ts).
 *
 * Numbers: uint64/int64 fields are JS numbers. Values above 2^53 (e.g. rlimit 18446744073709551615, RLIM_INFINITY)
 * arrive rounded by JSON.parse; consumers that need them exactly must clamp (>= 2^64 - 1 → infinity).
 * Unknown properties are kept by the parser and allowed by the schema (config.md "Extensibility"); the types leave
 * them out on purpose, so that a misspelt field name is a compile error.
 */

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface Spec {
  ociVersion: string;
  root?: Root;
  mounts?: Mount[];
  process?: Process;
  hostname?: string;
  domainname?: string;
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Root {
  /** Absolute, or relative to the bundle directory. */
  path: string;
  readonly?: boolean;
}

export interface Mount {
  /** Absolute path inside the container (tsrun refuses the deprecated relative form). */
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  /** Idmapped mount (mount_setattr MOUNT_ATTR_IDMAP); always given together with gidMappings. */
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  /** Absolute; required (checked with runc's wording). */
  cwd: string;
  env?: string[];
  /** At least one entry; required (checked with runc's wording). */
  args?: string[];
  /** Windows only; accepted and ignored. */
  commandLine?: string;
  rlimits?: Rlimit[];
  apparmorProfile?: string;
  capabilities?: Capabilities;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: IOPriority;
  execCPUAffinity?: { initial?: string; final?: string };
  user?: User;
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  /** Windows only; accepted and ignored. */
  username?: string;
}

export interface Rlimit {
  /** RLIMIT_NOFILE, … (see known.ts RLIMITS). */
  type: string;
  soft: number;
  hard: number;
}

/** Five capability sets. An absent set is empty: in particular no inheritable caps unless listed (security.md D9). */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export type SchedulerPolicy =
  | 'SCHED_OTHER' | 'SCHED_FIFO' | 'SCHED_RR' | 'SCHED_BATCH' | 'SCHED_ISO' | 'SCHED_IDLE' | 'SCHED_DEADLINE';
export type SchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK' | 'SCHED_FLAG_RECLAIM' | 'SCHED_FLAG_DL_OVERRUN' | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS' | 'SCHED_FLAG_UTIL_CLAMP_MIN' | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export interface Scheduler {
  policy: SchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: SchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export interface IOPriority {
  class: 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';
  /** 0 (highest) to 7 (lowest). */
  priority: number;
}

export interface Hook {
  /** Absolute path in the runtime (or, for startContainer, the container) mount namespace. */
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds, > 0. */
  timeout?: number;
}

export interface Hooks {
  /** Deprecated in favour of createRuntime, still sent by Docker 20.10's network setup. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export type HookName = keyof Hooks;

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  timeOffsets?: Partial<Record<'monotonic' | 'boottime', TimeOffset>>;
  devices?: Device[];
  netDevices?: Record<string, NetDevice>;
  cgroupsPath?: string;
  resources?: Resources;
  intelRdt?: IntelRdt;
  sysctl?: Record<string, string>;
  seccomp?: Seccomp;
  /** The spec's four values, plus runc's recursive forms (Docker sends rslave/rshared) and "" (default). */
  rootfsPropagation?: 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave' | 'unbindable' | 'runbindable' | '';
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: Personality;
  memoryPolicy?: MemoryPolicy;
}

export interface Namespace {
  type: NamespaceType;
  /** Absolute path of a namespace file to join; absent → create a new namespace. */
  path?: string;
}

export interface TimeOffset {
  secs?: number;
  nanosecs?: number;
}

export interface Device {
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  /** Required unless type is "p". */
  major?: number;
  minor?: number;
  /** Decimal, not octal. */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface NetDevice {
  /** Name inside the container; absent → the host name. */
  name?: string;
}

export interface Resources {
  devices?: DeviceRule[];
  memory?: Memory;
  cpu?: Cpu;
  blockIO?: BlockIO;
  hugepageLimits?: HugepageLimit[];
  network?: Network;
  pids?: { limit?: number };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  /** cgroup v2 file name → content. */
  unified?: Record<string, string>;
}

export interface DeviceRule {
  allow: boolean;
  /** a (all, the default), c or b. */
  type?: 'a' | 'c' | 'b';
  /** Absent → all (*). */
  major?: number;
  minor?: number;
  /** Some of r, w, m. */
  access?: string;
}

/** Bytes, or -1 for unlimited. */
export interface Memory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  /** 0..100; Docker may send 2^64-1 meaning "unset". */
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface Cpu {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface BlockIODevice {
  major: number;
  minor: number;
}

export interface WeightDevice extends BlockIODevice {
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice extends BlockIODevice {
  rate: number;
}

export interface BlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export interface HugepageLimit {
  /** <size><K|M|G>B, e.g. 2MB. */
  pageSize: string;
  limit: number;
}

export interface Network {
  classID?: number;
  priorities?: { name: string; priority: number }[];
}

export interface IntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
  /** runtime-spec 1.1.0–1.2.1; replaced by enableMonitoring. */
  enableCMT?: boolean;
  enableMBM?: boolean;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG' | 'SCMP_ACT_NOTIFY';
export type SeccompOperator =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
export type SeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC' | 'SECCOMP_FILTER_FLAG_LOG' | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';
/** SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, … (the full list is in known.ts SECCOMP_ARCHES). */
export type SeccompArch = `SCMP_ARCH_${string}`;

export interface Seccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: SeccompArch[];
  flags?: SeccompFlag[];
  /** AF_UNIX socket for SCMP_ACT_NOTIFY; required when any syscall uses it. */
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: Syscall[];
}

export interface Syscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SyscallArg[];
}

export interface SyscallArg {
  /** 0..5 */
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface Personality {
  domain: 'LINUX' | 'LINUX32';
  flags?: string[];
}

export type MemoryPolicyMode =
  | 'MPOL_DEFAULT' | 'MPOL_BIND' | 'MPOL_INTERLEAVE' | 'MPOL_WEIGHTED_INTERLEAVE' | 'MPOL_PREFERRED'
  | 'MPOL_PREFERRED_MANY' | 'MPOL_LOCAL';
export type MemoryPolicyFlag = 'MPOL_F_NUMA_BALANCING' | 'MPOL_F_RELATIVE_NODES' | 'MPOL_F_STATIC_NODES';

export interface MemoryPolicy {
  mode: MemoryPolicyMode;
  /** Node list such as 0-3,7. */
  nodes?: string;
  flags?: MemoryPolicyFlag[];
}

// ---- state (runtime.md "State", plus runc's extensions) ----

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface State {
  ociVersion: string;
  id: string;
  status: Status;
  /** 0 when stopped; required when created or running. */
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
  /** runc extensions (caller-contract.md §10.1). */
  rootfs?: string;
  created?: string;
  owner?: string;
}

// ---- features (features.md, features-linux.md) ----

export interface Enabled {
  enabled?: boolean;
}

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: HookName[];
  mountOptions?: string[];
  linux?: LinuxFeatures;
  annotations?: Record<string, string>;
  potentiallyUnsafeConfigAnnotations?: string[];
}

export interface LinuxFeatures {
  namespaces?: NamespaceType[];
  capabilities?: string[];
  cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean; systemdUser?: boolean; rdma?: boolean };
  seccomp?: {
    enabled?: boolean;
    actions?: SeccompAction[];
    operators?: SeccompOperator[];
    archs?: SeccompArch[];
    knownFlags?: SeccompFlag[];
    supportedFlags?: SeccompFlag[];
  };
  apparmor?: Enabled;
  selinux?: Enabled;
  intelRdt?: Enabled & { schemata?: boolean; monitoring?: boolean };
  memoryPolicy?: { modes?: MemoryPolicyMode[]; flags?: MemoryPolicyFlag[] };
  mountExtensions?: { idmap?: Enabled };
  netDevices?: Enabled;
}
