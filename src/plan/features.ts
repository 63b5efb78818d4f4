/**
 * `tsrun features` (runtime-spec features.md): only what compile() really supports. Callers act on it
 * (containerd enables rro and Kubernetes user namespaces from it), so an entry is added with its feature, never
 * before (caller-contract.md §10.4).
 */
import type { Features, HookName } from '../spec/types.js';
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
}

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
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      netDevices: { enabled: false },
    },
    ...(opts.version ? { annotations: { 'io.github.tsrun.version': opts.version } } : {}),
  };
}
