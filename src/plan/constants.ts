/**
 * Kernel constants the plan compiler writes into steps (Linux UAPI values, identical on every architecture tsrun
 * supports: x86_64, aarch64, riscv64, ppc64le, s390x). bigint where a step field is u64, number otherwise.
 * Pure data: no imports, no side effects. Each table has a name list for `explain` to decode flags with.
 */

// ── clone(2) / unshare(2) / setns(2) ──────────────────────────────────────────────────────────────────────────
export const CLONE = {
  NEWTIME: 0x00000080n,
  NEWNS: 0x00020000n,
  NEWCGROUP: 0x02000000n,
  NEWUTS: 0x04000000n,
  NEWIPC: 0x08000000n,
  NEWUSER: 0x10000000n,
  NEWPID: 0x20000000n,
  NEWNET: 0x40000000n,
} as const;

/** CLONE_* bit → the short name explain prints (the OCI namespace names, "mount" for NEWNS). */
export const CLONE_NAMES: readonly (readonly [bigint, string])[] = [
  [CLONE.NEWUSER, 'user'],
  [CLONE.NEWNS, 'mount'],
  [CLONE.NEWUTS, 'uts'],
  [CLONE.NEWIPC, 'ipc'],
  [CLONE.NEWNET, 'net'],
  [CLONE.NEWCGROUP, 'cgroup'],
  [CLONE.NEWPID, 'pid'],
  [CLONE.NEWTIME, 'time'],
];

// ── mount(2) flags ────────────────────────────────────────────────────────────────────────────────────────────
export const MS = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  SYNCHRONOUS: 0x10n,
  REMOUNT: 0x20n,
  MANDLOCK: 0x40n,
  DIRSYNC: 0x80n,
  NOSYMFOLLOW: 0x100n,
  NOATIME: 0x400n,
  NODIRATIME: 0x800n,
  BIND: 0x1000n,
  MOVE: 0x2000n,
  REC: 0x4000n,
  SILENT: 0x8000n,
  POSIXACL: 0x10000n,
  UNBINDABLE: 0x20000n,
  PRIVATE: 0x40000n,
  SLAVE: 0x80000n,
  SHARED: 0x100000n,
  RELATIME: 0x200000n,
  I_VERSION: 0x800000n,
  STRICTATIME: 0x1000000n,
  LAZYTIME: 0x2000000n,
} as const;

export const MS_NAMES: readonly (readonly [bigint, string])[] = Object.entries(MS).map(([k, v]) => [v, k] as const);

/** The propagation type bits: exactly one of them may be passed per mount(2) call. */
export const MS_PROPAGATION_TYPES = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

// ── mount_setattr(2) attributes ───────────────────────────────────────────────────────────────────────────────
export const MOUNT_ATTR = {
  RDONLY: 0x1n,
  NOSUID: 0x2n,
  NODEV: 0x4n,
  NOEXEC: 0x8n,
  /** The atime mode is an enum in these bits: setting one needs the whole field in attr_clr. */
  _ATIME: 0x70n,
  RELATIME: 0x0n,
  NOATIME: 0x10n,
  STRICTATIME: 0x20n,
  NODIRATIME: 0x80n,
  IDMAP: 0x100000n,
  NOSYMFOLLOW: 0x200000n,
} as const;

export const MOUNT_ATTR_NAMES: readonly (readonly [bigint, string])[] = [
  [MOUNT_ATTR.RDONLY, 'RDONLY'],
  [MOUNT_ATTR.NOSUID, 'NOSUID'],
  [MOUNT_ATTR.NODEV, 'NODEV'],
  [MOUNT_ATTR.NOEXEC, 'NOEXEC'],
  [MOUNT_ATTR.NOATIME, 'NOATIME'],
  [MOUNT_ATTR.STRICTATIME, 'STRICTATIME'],
  [MOUNT_ATTR.NODIRATIME, 'NODIRATIME'],
  [MOUNT_ATTR.IDMAP, 'IDMAP'],
  [MOUNT_ATTR.NOSYMFOLLOW, 'NOSYMFOLLOW'],
];

// ── file types (mknod) ────────────────────────────────────────────────────────────────────────────────────────
export const S_IFMT = 0o170000n;
export const S_IFIFO = 0o010000n;
export const S_IFCHR = 0o020000n;
export const S_IFBLK = 0o060000n;

/** glibc's makedev(): the dev_t encoding mknodat(2) expects. */
export function makedev(major: number | bigint, minor: number | bigint): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

// ── personality(2), sched_setattr(2), ioprio_set(2) ───────────────────────────────────────────────────────────
export const PERSONALITY: Readonly<Record<string, bigint>> = { LINUX: 0x0n, LINUX32: 0x8n };

export const SCHED_POLICY: Readonly<Record<string, bigint>> = {
  SCHED_OTHER: 0n,
  SCHED_FIFO: 1n,
  SCHED_RR: 2n,
  SCHED_BATCH: 3n,
  SCHED_ISO: 4n,
  SCHED_IDLE: 5n,
  SCHED_DEADLINE: 6n,
};

export const SCHED_FLAG: Readonly<Record<string, bigint>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};

export const IOPRIO_CLASS: Readonly<Record<string, bigint>> = {
  IOPRIO_CLASS_RT: 1n,
  IOPRIO_CLASS_BE: 2n,
  IOPRIO_CLASS_IDLE: 3n,
};

/** 2^64 − 1: RLIM_INFINITY, and the largest value a u64 field holds. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Render a bit set with a name table: "BIND|REC", or "0". Unknown bits are printed in hex. */
export function flagNames(value: bigint, table: readonly (readonly [bigint, string])[], sep = '|'): string {
  const out: string[] = [];
  let rest = value;
  for (const [bit, name] of table) {
    if (bit !== 0n && (rest & bit) === bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0n) out.push('0x' + rest.toString(16));
  return out.length ? out.join(sep) : '0';
}
