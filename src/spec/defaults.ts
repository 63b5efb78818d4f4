/**
 * The config `tsrun spec` writes: runc's `runc spec` (libcontainer/specconv/example.go Example and ToRootless),
 * with hostname "tsrun" and always a cgroup namespace (runc adds it only on cgroup v2 hosts; a private cgroup view
 * is what we want on both).
 *
 * Security: no inheritable and no ambient capabilities (CVE-2022-29162, security.md D9).
 */
import type { Mount, Spec } from './types.js';

/** The runtime-spec version tsrun implements and writes (`spec`, `--version`, state); features' ociVersionMax is higher: it also reads the v1.3 fields schemas/README.md lists. */
export const SPEC_VERSION = '1.2.1';

export interface DefaultSpecOptions {
  /** `spec --rootless`: user namespace mapping the caller's ids to root, no network namespace, no cgroup limits. */
  rootless?: boolean;
  /** Host ids for the rootless mapping; default: this process's effective uid/gid. */
  uid?: number;
  gid?: number;
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** runc's default masked and read-only /proc and /sys entries. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  return opts.rootless ? toRootless(spec, opts) : spec;
}

/** runc specconv.ToRootless, applied to a copy. */
export function toRootless(spec: Spec, opts: { uid?: number; gid?: number } = {}): Spec {
  const out = structuredClone(spec);
  const linux = (out.linux ??= {});
  // No network namespace: an unprivileged user cannot give it connectivity. The user namespace goes last.
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== 'network' && n.type !== 'user'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: opts.uid ?? process.geteuid?.() ?? 0, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: opts.gid ?? process.getegid?.() ?? 0, size: 1 }];
  out.mounts = (out.mounts ?? []).map((m) => {
    // sysfs cannot be mounted without owning the network namespace: bind the host's, read-only.
    if (m.destination.replace(/\/+$/, '') === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    // uid=/gid= name ids that do not exist in a one-id user namespace (devpts gid=5 would fail).
    const options = m.options?.filter((o) => !o.startsWith('uid=') && !o.startsWith('gid='));
    return options === undefined ? { ...m } : { ...m, options };
  });
  // No cgroup limits: an unprivileged user usually cannot set them.
  delete linux.resources;
  return out;
}
