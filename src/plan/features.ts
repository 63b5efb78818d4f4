/**
 * `tsrun features` (runtime-spec features.md): only what compile() really supports. Callers act on it
 * (containerd enables rro and Kubernetes user namespaces from it), so an entry is added with its feature, never
 * before (caller-contract.md §10.4).
 */
import type { Features, HookName, SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from '../spec/types.js';
import { CAPABILITY_NAMES } from './caps.js';
import { supportedMountOptions } from './mount-options.js';
import { NAMESPACE_NAMES } from './namespaces.js';

/** The runtime-spec version tsrun's config types follow. */
export const OCI_VERSION_MAX = '1.3.0';
export const OCI_VERSION_MIN = '1.0.0';

export const HOOK_NAMES: readonly HookName[] = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

export interface FeaturesOptions {
  /** Which cgroup managers this build/host can drive (filled by the cgroup code). */
  cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser?: boolean; rdma?: boolean };
  /** tsrun's version, reported as an annotation when given. */
  version?: string;
  /**
   * Set when libseccomp could be loaded (the caller probes it): the architectures it resolves, the filter flags
   * this kernel takes, and its version (runc's io.github.seccomp.libseccomp.version annotation).
   */
  seccomp?: { archs: SeccompArch[]; supportedFlags: SeccompFlag[]; libseccompVersion: string };
}

/** Every action and operator linux.seccomp may use: src/linux/seccomp.ts compiles them all. */
export const SECCOMP_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP',
];
export const SECCOMP_OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE',
];
/** Flags tsrun knows how to pass to seccomp(2). */
export const SECCOMP_KNOWN_FLAGS: readonly SeccompFlag[] = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

export function features(opts: FeaturesOptions): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_NAMES],
    mountOptions: supportedMountOptions(),
    linux: {
      namespaces: [...NAMESPACE_NAMES],
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: opts.cgroup.v1, v2: opts.cgroup.v2, systemd: opts.cgroup.systemd, systemdUser: opts.cgroup.systemdUser ?? false, rdma: opts.cgroup.rdma ?? false },
      seccomp: opts.seccomp
        ? {
          enabled: true, actions: [...SECCOMP_ACTIONS], operators: [...SECCOMP_OPERATORS], archs: [...opts.seccomp.archs],
          knownFlags: [...SECCOMP_KNOWN_FLAGS], supportedFlags: [...opts.seccomp.supportedFlags],
        }
        : { enabled: false },
      // features-linux.md: "true if AppArmor [SELinux] support is compiled in. Unrelated to whether the host supports
      // AppArmor [SELinux] or not" — runc says true on hosts without either. The lsmLabel step is that support.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      // idmap/ridmap: the executor's idmapTree + mountTree steps (open_tree, mount_setattr MOUNT_ATTR_IDMAP, move_mount)
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: false },
    },
    ...(opts.version || opts.seccomp
      ? {
        annotations: {
          ...(opts.seccomp ? { 'io.github.seccomp.libseccomp.version': opts.seccomp.libseccompVersion } : {}),
          ...(opts.version ? { 'io.github.tsrun.version': opts.version } : {}),
        },
      }
      : {}),
  };
}
