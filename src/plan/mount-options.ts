/**
 * The mount option table: one entry per option runc recognises (specconv's mountFlags, mountPropagationMapping,
 * recAttrFlags, extensionFlags, complexFlags). compile() parses with it, explain() decodes with it, and
 * `features` lists the supported ones. Any other option is filesystem data ("mode=755", "size=65536k", "acl").
 */
import { TsrunError } from '../errors.js';
import { MOUNT_ATTR, MS } from './constants.js';

export type MountOption =
  /** A mount(2) flag: set it, or clear it (and remember it was cleared: a bind then needs a remount). */
  | { kind: 'flag'; flag: bigint; clear?: true }
  /** A propagation change applied after the mount (one mount(2) call per option, in order). */
  | { kind: 'propagation'; flag: bigint }
  /** A recursive mount_setattr(2) attribute (bind mounts only, as in runc). */
  | { kind: 'attr'; attr: bigint; clear?: true }
  /** A runtime extension: tmpcopyup (tmpfs), idmap / ridmap (bind mounts; mounts.ts builds the steps). */
  | { kind: 'ext'; ext: 'tmpcopyup' | 'idmap' | 'ridmap' }
  /** Recognised, but tsrun cannot do it yet: compile refuses the config with `reason`. */
  | { kind: 'unsupported'; reason: string };

export const MOUNT_OPTIONS: Readonly<Record<string, MountOption>> = {
  // mount(2) flags. "acl" is deliberately absent: it is not MS_POSIXACL (runc #3738), so it goes to data.
  async: { kind: 'flag', flag: MS.SYNCHRONOUS, clear: true },
  atime: { kind: 'flag', flag: MS.NOATIME, clear: true },
  bind: { kind: 'flag', flag: MS.BIND },
  defaults: { kind: 'flag', flag: 0n },
  dev: { kind: 'flag', flag: MS.NODEV, clear: true },
  diratime: { kind: 'flag', flag: MS.NODIRATIME, clear: true },
  dirsync: { kind: 'flag', flag: MS.DIRSYNC },
  exec: { kind: 'flag', flag: MS.NOEXEC, clear: true },
  iversion: { kind: 'flag', flag: MS.I_VERSION },
  lazytime: { kind: 'flag', flag: MS.LAZYTIME },
  loud: { kind: 'flag', flag: MS.SILENT, clear: true },
  mand: { kind: 'flag', flag: MS.MANDLOCK },
  noatime: { kind: 'flag', flag: MS.NOATIME },
  nodev: { kind: 'flag', flag: MS.NODEV },
  nodiratime: { kind: 'flag', flag: MS.NODIRATIME },
  noexec: { kind: 'flag', flag: MS.NOEXEC },
  noiversion: { kind: 'flag', flag: MS.I_VERSION, clear: true },
  nolazytime: { kind: 'flag', flag: MS.LAZYTIME, clear: true },
  nomand: { kind: 'flag', flag: MS.MANDLOCK, clear: true },
  norelatime: { kind: 'flag', flag: MS.RELATIME, clear: true },
  nostrictatime: { kind: 'flag', flag: MS.STRICTATIME, clear: true },
  nosuid: { kind: 'flag', flag: MS.NOSUID },
  nosymfollow: { kind: 'flag', flag: MS.NOSYMFOLLOW },
  rbind: { kind: 'flag', flag: MS.BIND | MS.REC },
  relatime: { kind: 'flag', flag: MS.RELATIME },
  remount: { kind: 'flag', flag: MS.REMOUNT },
  ro: { kind: 'flag', flag: MS.RDONLY },
  rw: { kind: 'flag', flag: MS.RDONLY, clear: true },
  silent: { kind: 'flag', flag: MS.SILENT },
  strictatime: { kind: 'flag', flag: MS.STRICTATIME },
  suid: { kind: 'flag', flag: MS.NOSUID, clear: true },
  symfollow: { kind: 'flag', flag: MS.NOSYMFOLLOW, clear: true },
  sync: { kind: 'flag', flag: MS.SYNCHRONOUS },
  // propagation
  private: { kind: 'propagation', flag: MS.PRIVATE },
  rprivate: { kind: 'propagation', flag: MS.PRIVATE | MS.REC },
  shared: { kind: 'propagation', flag: MS.SHARED },
  rshared: { kind: 'propagation', flag: MS.SHARED | MS.REC },
  slave: { kind: 'propagation', flag: MS.SLAVE },
  rslave: { kind: 'propagation', flag: MS.SLAVE | MS.REC },
  unbindable: { kind: 'propagation', flag: MS.UNBINDABLE },
  runbindable: { kind: 'propagation', flag: MS.UNBINDABLE | MS.REC },
  // recursive attributes (mount_setattr, AT_RECURSIVE)
  rro: { kind: 'attr', attr: MOUNT_ATTR.RDONLY },
  rrw: { kind: 'attr', attr: MOUNT_ATTR.RDONLY, clear: true },
  rnosuid: { kind: 'attr', attr: MOUNT_ATTR.NOSUID },
  rsuid: { kind: 'attr', attr: MOUNT_ATTR.NOSUID, clear: true },
  rnodev: { kind: 'attr', attr: MOUNT_ATTR.NODEV },
  rdev: { kind: 'attr', attr: MOUNT_ATTR.NODEV, clear: true },
  rnoexec: { kind: 'attr', attr: MOUNT_ATTR.NOEXEC },
  rexec: { kind: 'attr', attr: MOUNT_ATTR.NOEXEC, clear: true },
  rnodiratime: { kind: 'attr', attr: MOUNT_ATTR.NODIRATIME },
  rdiratime: { kind: 'attr', attr: MOUNT_ATTR.NODIRATIME, clear: true },
  rrelatime: { kind: 'attr', attr: MOUNT_ATTR.RELATIME },
  rnorelatime: { kind: 'attr', attr: MOUNT_ATTR.RELATIME, clear: true },
  rnoatime: { kind: 'attr', attr: MOUNT_ATTR.NOATIME },
  ratime: { kind: 'attr', attr: MOUNT_ATTR.NOATIME, clear: true },
  rstrictatime: { kind: 'attr', attr: MOUNT_ATTR.STRICTATIME },
  rnostrictatime: { kind: 'attr', attr: MOUNT_ATTR.STRICTATIME, clear: true },
  rnosymfollow: { kind: 'attr', attr: MOUNT_ATTR.NOSYMFOLLOW },
  rsymfollow: { kind: 'attr', attr: MOUNT_ATTR.NOSYMFOLLOW, clear: true },
  // extensions
  tmpcopyup: { kind: 'ext', ext: 'tmpcopyup' },
  idmap: { kind: 'ext', ext: 'idmap' },
  ridmap: { kind: 'ext', ext: 'ridmap' },
};

/** The options `features` reports: everything compile() accepts, sorted (runc sorts too). */
export function supportedMountOptions(): string[] {
  return Object.entries(MOUNT_OPTIONS)
    .filter(([, o]) => o.kind !== 'unsupported')
    .map(([n]) => n)
    .sort();
}

export interface ParsedMountOptions {
  /** MS_* to pass to mount(2). */
  flags: bigint;
  /** MS_* the config asked to clear (rw, suid, …): a bind mount then needs a remount even with no flag set. */
  cleared: bigint;
  /** Propagation changes, in option order (each one mount(2) call in runc). */
  propagation: bigint[];
  attrSet: bigint;
  attrClr: bigint;
  /** Filesystem data options, in order. */
  data: string[];
  /** tmpcopyup was given. */
  copyup: boolean;
  /** idmap or ridmap was given (the last one wins). */
  idmap?: 'idmap' | 'ridmap';
}

/**
 * options → flags, as runc's parseMountOptions: later options override earlier ones for the same bit; an atime
 * attribute (rnoatime, rstrictatime, rrelatime, …) also clears the whole MOUNT_ATTR__ATIME field, as
 * mount_setattr(2) requires. `pointer` is the JSON pointer of the options array, for errors.
 */
export function parseMountOptions(options: readonly string[] | undefined, pointer: string): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0n, cleared: 0n, propagation: [], attrSet: 0n, attrClr: 0n, data: [], copyup: false };
  (options ?? []).forEach((name, i) => {
    const o = Object.hasOwn(MOUNT_OPTIONS, name) ? MOUNT_OPTIONS[name] : undefined;
    if (!o) {
      out.data.push(name);
      return;
    }
    switch (o.kind) {
      case 'flag':
        if (o.clear) {
          out.flags &= ~o.flag;
          out.cleared |= o.flag;
        } else {
          out.flags |= o.flag;
          out.cleared &= ~o.flag;
        }
        return;
      case 'propagation':
        out.propagation.push(o.flag);
        return;
      case 'attr':
        if (o.clear) {
          out.attrClr |= o.attr;
          out.attrSet &= ~o.attr;
        } else {
          out.attrSet |= o.attr;
          out.attrClr &= ~o.attr;
        }
        if ((o.attr & MOUNT_ATTR._ATIME) === o.attr) out.attrClr |= MOUNT_ATTR._ATIME;
        return;
      case 'ext':
        if (o.ext === 'tmpcopyup') out.copyup = true;
        else out.idmap = o.ext;
        return;
      case 'unsupported':
        throw new TsrunError('ERR_TSRUN_PLAN', `${pointer}/${i}: ${o.reason}`, {
          hint: `remove ${JSON.stringify(name)} from the mount's options`,
        });
    }
  });
  return out;
}

/** Flags → option names for explain: "ro,nosuid,nodev" (BIND/REC shown as bind/rbind). */
export function optionNames(flags: bigint): string {
  const names: string[] = [];
  if ((flags & (MS.BIND | MS.REC)) === (MS.BIND | MS.REC)) names.push('rbind');
  else if (flags & MS.BIND) names.push('bind');
  if (flags & MS.RDONLY) names.push('ro');
  for (const [name, o] of Object.entries(MOUNT_OPTIONS)) {
    if (o.kind !== 'flag' || o.clear || o.flag === 0n || o.flag & (MS.BIND | MS.RDONLY)) continue;
    if ((flags & o.flag) === o.flag) names.push(name);
  }
  return names.join(',');
}

/** A propagation flag → its option name ("rslave"), for labels. */
export function propagationName(flag: bigint): string {
  for (const [name, o] of Object.entries(MOUNT_OPTIONS)) if (o.kind === 'propagation' && o.flag === flag) return name;
  return '0x' + flag.toString(16);
}
