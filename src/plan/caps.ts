/**
 * Capability names ↔ bits (linux/capability.h, all 41 as of Linux 5.9+), and the set arithmetic compile() needs.
 * `features` lists CAPABILITIES; explain decodes masks with capNames().
 */

export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5,
  CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

/** The highest capability this table knows (CAP_LAST_CAP of the kernel headers it was written from). */
export const CAP_LAST_KNOWN = 40;

/** Names in bit order: what `features` reports. */
export const CAPABILITY_NAMES: readonly string[] = Object.entries(CAPABILITIES)
  .sort((a, b) => a[1] - b[1])
  .map(([n]) => n);

const BY_BIT: readonly string[] = CAPABILITY_NAMES;

export interface CapSets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** OCI process.capabilities, as config.json spells it. */
export interface CapsConfig {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

const SET_KEYS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

/**
 * Names → masks. Names this build does not know and known names above lastCap (newer than this kernel) are
 * skipped, as runc does and config-linux.md asks (log them, do not fail): the unavailable ones get one warning
 * here ("ignoring unknown or unavailable capabilities"), the unknown ones are warned about by the validator with
 * their field named (configWarnings for config.json, processWarnings for `exec --process`). Absent sets are
 * empty — inheritable in particular (CVE-2022-29162: never default inheritable to anything). Ambient is passed as configured; the kernel refuses an
 * ambient cap that is not both permitted and inheritable, which is runc's behaviour too.
 */
export function capSets(cfg: CapsConfig, lastCap: number, warnings: string[]): CapSets {
  const skipped = new Set<string>();
  const out: CapSets = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };
  for (const key of SET_KEYS) {
    const names = cfg[key] ?? [];
    names.forEach((name) => {
      const bit = Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
      if (bit === undefined) return;
      if (bit > lastCap) {
        skipped.add(name);
        return;
      }
      out[key] |= 1n << BigInt(bit);
    });
  }
  if (skipped.size) {
    warnings.push(
      `ignoring unknown or unavailable capabilities: [${[...skipped].sort().join(' ')}] (this kernel's cap_last_cap is ${lastCap})`,
    );
  }
  return out;
}

/** A mask with every capability 0 … lastCap set. */
export function allCaps(lastCap: number): bigint {
  return (1n << BigInt(lastCap + 1)) - 1n;
}

/** Mask → names, in bit order, without the CAP_ prefix when short (explain). Unknown bits print as "cap N". */
export function capNames(mask: bigint, short = false): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) {
      const name = BY_BIT[bit] ?? `cap ${bit}`;
      out.push(short ? name.replace(/^CAP_/, '') : name);
    }
  }
  return out;
}
