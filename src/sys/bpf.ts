/**
 * The bpf(2) syscall through koffi (glibc has no wrapper): the few commands the cgroup v2 device filter needs —
 * load a BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to a cgroup directory, list and detach the ones already
 * there. Loaded lazily, only when a device filter is set (pure cgroup v2 hosts): a v1 or hybrid create never
 * loads koffi.
 *
 * union bpf_attr is built by hand in a zeroed buffer (the kernel wants every byte past a command's fields to be
 * zero); pointers in it are the addresses of Node Buffers, whose memory does not move.
 */
import { createRequire } from 'node:module';
import { SyscallError } from '../errors.js';

export const BPF_CMD = { PROG_LOAD: 5, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_GET_FD_BY_ID: 13, PROG_QUERY: 16 } as const;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

const SYS_BPF: Partial<Record<string, number>> = { x64: 321, arm64: 280, riscv64: 280, loong64: 280, ppc64: 361, s390x: 351 };
const SYS_SETRLIMIT: Partial<Record<string, number>> = { x64: 160, arm64: 164, riscv64: 164, loong64: 164, ppc64: 75, s390x: 75 };
const RLIMIT_MEMLOCK = 8;
const EPERM = 1, EACCES = 13, ENOSPC = 28, EINVAL = 22;
/** The buffer every command's attr is built in: larger than any field used, zeros beyond. */
const ATTR_SIZE = 128;

/** A failed bpf command; a refused BPF_PROG_LOAD carries the verifier's log. */
export class BpfError extends SyscallError {
  readonly verifierLog?: string;
  constructor(command: string, errno: number, verifierLog?: string) {
    super(command, errno);
    if (verifierLog) this.verifierLog = verifierLog;
  }
}

interface Bound { syscall: (...a: unknown[]) => number; errno: () => number; address: (b: Buffer) => bigint }
let bound: Bound | undefined;

function load(): Bound {
  if (bound) return bound;
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load('libc.so.6');
  bound = {
    syscall: lib.func('long syscall(long, ...)'),
    errno: () => koffi.errno() as number,
    address: (b: Buffer) => koffi.address(b) as bigint,
  };
  return bound;
}

function sysno(table: Partial<Record<string, number>>, name: string): number {
  const n = table[process.arch];
  if (n === undefined) throw new SyscallError(name, 38 /* ENOSYS: tsrun does not know the number on this arch */);
  return n;
}

/** bpf(cmd, attr, sizeof attr): the result, or -errno. `keep` holds the buffers attr points into until the call returned. */
function bpf(cmd: number, attr: Buffer, ...keep: Buffer[]): number {
  const l = load();
  const r = Number(l.syscall(sysno(SYS_BPF, 'bpf'), 'int', cmd, 'void *', attr, 'uint', attr.length));
  void keep;
  return r < 0 ? -l.errno() : r;
}

const ptr = (b: Buffer) => load().address(b);

/**
 * BPF_PROG_LOAD of a cgroup device program (struct bpf_insn[] in `insns`). Returns the program's fd (close-on-exec).
 * On failure the program is loaded once more with the verifier log on, and the log comes with the error.
 * `name` (≤ 15 of [A-Za-z0-9_.]) is what bpftool shows.
 */
export function progLoadCgroupDevice(insns: Buffer, license: string, name = ''): number {
  const lic = Buffer.from(`${license}\0`);
  const attempt = (logBuf?: Buffer) => {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0); // prog_type
    attr.writeUInt32LE(insns.length / 8, 4); // insn_cnt
    attr.writeBigUInt64LE(ptr(insns), 8); // insns
    attr.writeBigUInt64LE(ptr(lic), 16); // license
    if (logBuf) {
      attr.writeUInt32LE(1, 24); // log_level
      attr.writeUInt32LE(logBuf.length, 28); // log_size
      attr.writeBigUInt64LE(ptr(logBuf), 32); // log_buf
    }
    attr.write(name.slice(0, 15), 48, 'latin1'); // prog_name[16]
    return bpf(BPF_CMD.PROG_LOAD, attr, insns, lic, ...(logBuf ? [logBuf] : []));
  };
  let fd = attempt();
  if (fd === -EPERM && raiseMemlock()) fd = attempt(); // kernels before 5.11 charge programs to RLIMIT_MEMLOCK (runc raises it too)
  if (fd >= 0) return fd;
  const logBuf = Buffer.alloc(1 << 16);
  const again = attempt(logBuf);
  if (again >= 0) return again; // a transient failure: keep the program
  const end = logBuf.indexOf(0);
  const log = logBuf.subarray(0, end < 0 ? logBuf.length : end).toString('utf8').trim();
  throw new BpfError('bpf(BPF_PROG_LOAD)', -fd, log || undefined);
}

/** setrlimit(RLIMIT_MEMLOCK, infinity); true when it was raised. Not inherited by the container (tsrun's own limit). */
function raiseMemlock(): boolean {
  const l = load();
  const rl = Buffer.alloc(16, 0xff); // { rlim_cur, rlim_max } = RLIM_INFINITY
  return Number(l.syscall(sysno(SYS_SETRLIMIT, 'setrlimit'), 'int', RLIMIT_MEMLOCK, 'void *', rl)) === 0;
}

function attachAttr(targetFd: number, progFd: number, attachType: number, flags: number): Buffer {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(targetFd, 0); // target_fd
  attr.writeUInt32LE(progFd, 4); // attach_bpf_fd
  attr.writeUInt32LE(attachType, 8); // attach_type
  attr.writeUInt32LE(flags, 12); // attach_flags
  return attr;
}

/** BPF_PROG_ATTACH of progFd to the cgroup directory opened as targetFd. */
export function progAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
  const r = bpf(BPF_CMD.PROG_ATTACH, attachAttr(targetFd, progFd, attachType, flags));
  if (r < 0) throw new BpfError('bpf(BPF_PROG_ATTACH)', -r);
}

/** BPF_PROG_DETACH of the program progFd refers to (with BPF_F_ALLOW_MULTI the program must be named). */
export function progDetach(targetFd: number, progFd: number, attachType: number): void {
  const r = bpf(BPF_CMD.PROG_DETACH, attachAttr(targetFd, progFd, attachType, 0));
  if (r < 0) throw new BpfError('bpf(BPF_PROG_DETACH)', -r);
}

/** BPF_PROG_QUERY: the ids of the programs attached directly to the cgroup (not inherited ones). */
export function progQuery(targetFd: number, attachType: number): number[] {
  let room = 64;
  for (let tries = 0; tries < 10; tries++) {
    const ids = Buffer.alloc(room * 4);
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(targetFd, 0); // target_fd
    attr.writeUInt32LE(attachType, 4); // attach_type
    attr.writeBigUInt64LE(ptr(ids), 16); // prog_ids
    attr.writeUInt32LE(room, 24); // prog_cnt (in: room, out: how many)
    const r = bpf(BPF_CMD.PROG_QUERY, attr, ids);
    const count = attr.readUInt32LE(24);
    if (r === -ENOSPC) { room = Math.max(count, room * 2); continue; } // more than fit: the kernel said how many
    if (r < 0) throw new BpfError('bpf(BPF_PROG_QUERY)', -r);
    return Array.from({ length: Math.min(count, room) }, (_, i) => ids.readUInt32LE(i * 4));
  }
  throw new BpfError('bpf(BPF_PROG_QUERY)', ENOSPC);
}

/** BPF_PROG_GET_FD_BY_ID: an fd for an attached program (EPERM/EACCES when an LSM forbids it). */
export function progGetFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0); // prog_id
  const r = bpf(BPF_CMD.PROG_GET_FD_BY_ID, attr);
  if (r < 0) throw new BpfError('bpf(BPF_PROG_GET_FD_BY_ID)', -r);
  return r;
}

export const BPF_ERRNO = { EPERM, EACCES, ENOSPC, EINVAL } as const;
