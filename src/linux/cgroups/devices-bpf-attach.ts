/**
 * Put a device filter (devices-bpf.ts) on a cgroup v2 directory, replacing the one there, the way runc's
 * LoadAttachCgroupDeviceFilter does: list the BPF_CGROUP_DEVICE programs attached to the directory, load the new
 * program, attach it with BPF_F_ALLOW_MULTI, and only then detach the old ones. The kernel allows a device access
 * only when every attached program allows it, so between the two steps the rules are the stricter of old and new:
 * there is never a moment without a filter. Programs an LSM hides from us (EPERM/EACCES on
 * BPF_PROG_GET_FD_BY_ID, e.g. systemd's under SELinux) are left alone, as runc does: they can only restrict.
 *
 * The attached program lives as long as the cgroup (removing the directory detaches it); tsrun keeps no fd.
 */
import { closeSync, constants as C, openSync, readFileSync } from 'node:fs';
import { TsrunError } from '../../errors.js';
import * as sys from '../../sys/bpf.js';
import { DEVICE_FILTER_LICENSE, deviceFilterProgram, encodeProgram } from './devices-bpf.js';
import type { DeviceCgroupRule } from './devices.js';

/** The bpf commands used, replaceable in tests. */
export interface BpfOps {
  query(dirFd: number): number[];
  getFdById(id: number): number;
  load(program: Buffer): number;
  attach(dirFd: number, progFd: number): void;
  detach(dirFd: number, progFd: number): void;
  close(fd: number): void;
}

export const realBpf: BpfOps = {
  query: (dirFd) => sys.progQuery(dirFd, sys.BPF_CGROUP_DEVICE),
  getFdById: (id) => sys.progGetFdById(id),
  load: (program) => sys.progLoadCgroupDevice(program, DEVICE_FILTER_LICENSE, 'tsrun_devices'),
  attach: (dirFd, progFd) => sys.progAttach(dirFd, progFd, sys.BPF_CGROUP_DEVICE, sys.BPF_F_ALLOW_MULTI),
  detach: (dirFd, progFd) => sys.progDetach(dirFd, progFd, sys.BPF_CGROUP_DEVICE),
  close: (fd) => closeSync(fd),
};

const errnoOf = (e: unknown) => (e as { errno?: number })?.errno;
const fail = (what: string, e: unknown, hint?: string) =>
  new TsrunError('ERR_TSRUN_CGROUP', `${what}: ${(e as Error).message.replace(/^bpf\([A-Z_]+\): /, '')}`, { cause: e, ...(hint ? { hint } : {}) });

function openDir(dir: string): number {
  try {
    return openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  } catch (e) {
    throw new TsrunError('ERR_TSRUN_CGROUP', `cannot open cgroup ${dir} to attach the device filter: ${(e as Error).message}`, { cause: e });
  }
}

/** The ids of the device programs attached to a cgroup v2 directory. */
export function attachedDeviceFilters(dir: string, bpf: BpfOps = realBpf): number[] {
  const fd = openDir(dir);
  try {
    return bpf.query(fd);
  } catch (e) {
    throw fail('bpf_prog_query(BPF_CGROUP_DEVICE) failed', e);
  } finally {
    bpf.close(fd);
  }
}

/** runc userns.RunningInUserNS: anything but the identity map of the initial user namespace. */
function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

/**
 * setDeviceFilter for the v2 driver, with runc's tolerance (fs2 setDevices, canSkipEBPFError): a failure is only a
 * warning (returned) when tsrun runs unprivileged or in a user namespace, where bpf(2) is not expected to work, or
 * when every rule allows everything anyway; otherwise it is the error.
 */
export function applyDeviceFilter(dir: string, rules: readonly DeviceCgroupRule[], bpf: BpfOps = realBpf,
  unprivileged = () => process.geteuid?.() !== 0 || inUserNamespace()): string | undefined {
  try {
    setDeviceFilter(dir, rules, bpf);
    return undefined;
  } catch (e) {
    const harmless = rules.every((r) => r.allow && [...'rwm'].every((c) => r.access.includes(c)));
    if (!(e instanceof TsrunError && e.code === 'ERR_TSRUN_CGROUP' && e.cause) || !(harmless || unprivileged())) throw e;
    return `linux.resources.devices is not enforced: ${e.message}`;
  }
}

/** Compile `rules` (resources.ts order: the config's, then runc's defaults) and make it the cgroup's only device filter. */
export function setDeviceFilter(dir: string, rules: readonly DeviceCgroupRule[], bpf: BpfOps = realBpf): void {
  const program = encodeProgram(deviceFilterProgram(rules)); // rule errors first, before any syscall
  const dirFd = openDir(dir);
  const old: number[] = [];
  try {
    let ids: number[];
    try {
      ids = bpf.query(dirFd);
    } catch (e) {
      throw fail('bpf_prog_query(BPF_CGROUP_DEVICE) failed', e, 'the kernel needs CONFIG_CGROUP_BPF (4.15 or later) for cgroup v2 device rules');
    }
    for (const id of ids) {
      try {
        old.push(bpf.getFdById(id));
      } catch (e) {
        if (errnoOf(e) === sys.BPF_ERRNO.EPERM || errnoOf(e) === sys.BPF_ERRNO.EACCES) continue;
        throw fail(`cannot fetch program from id ${id}`, e);
      }
    }
    let prog: number;
    try {
      prog = bpf.load(program);
    } catch (e) {
      const log = (e as sys.BpfError).verifierLog;
      throw fail('load program', e, log ? `verifier log:\n${log}` : undefined);
    }
    try {
      bpf.attach(dirFd, prog);
    } catch (e) {
      throw fail('failed to call BPF_PROG_ATTACH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)', e);
    } finally {
      bpf.close(prog); // the attachment holds the program
    }
    for (const fd of old) {
      try {
        bpf.detach(dirFd, fd);
      } catch (e) {
        throw fail('failed to call BPF_PROG_DETACH (BPF_CGROUP_DEVICE) on old filter program', e);
      }
    }
  } finally {
    for (const fd of old) bpf.close(fd);
    bpf.close(dirFd);
  }
}
