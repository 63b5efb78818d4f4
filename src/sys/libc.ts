/**
 * libc through koffi, for the few host-side calls Node cannot make itself. Loaded lazily, only by the code
 * paths that need it (foreground `run -t` receiving the pty master; deleting a container that had no mount
 * namespace of its own): an FFI load costs 10-17 ms, which the
 * common create/start/state/delete calls never pay.
 */
import { createRequire } from 'node:module';
import { SyscallError } from '../errors.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const TIOCSWINSZ = 0x5414;
const TIOCGWINSZ = 0x5413;

type Fn = (...a: unknown[]) => number;
interface Libc { socketpair: Fn; recvmsg: Fn; ioctl: Fn; umount2: Fn; errno: () => number }
let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi');
  const lib = koffi.load('libc.so.6');
  const iovec = koffi.struct('tsrun_iovec', { iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = koffi.struct('tsrun_msghdr', {
    msg_name: 'void *', msg_namelen: 'uint32', msg_iov: koffi.pointer(iovec), msg_iovlen: 'size_t',
    msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int',
  });
  libc = {
    socketpair: lib.func('int socketpair(int, int, int, _Out_ int *sv)'),
    recvmsg: lib.func('long recvmsg(int, _Inout_ tsrun_msghdr *msg, int)'),
    ioctl: lib.func('int ioctl(int, unsigned long, void *)'),
    umount2: lib.func('int umount2(const char *, int)'),
    errno: () => koffi.errno() as number,
  };
  void msghdr;
  return libc;
}

/** A connected AF_UNIX stream pair, both ends close-on-exec. */
export function socketPair(): [number, number] {
  const l = load();
  const sv = [0, 0];
  if (l.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw new SyscallError('socketpair', l.errno());
  return [sv[0]!, sv[1]!];
}

/** Block until one message arrives and return the single fd it carries (runc's console protocol). */
export function recvFd(sock: number): { fd: number; payload: string } {
  const l = load();
  const data = Buffer.alloc(4096);
  const control = Buffer.alloc(64);
  const msg = { msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: data, iov_len: data.length }], msg_iovlen: 1,
    msg_control: control, msg_controllen: control.length, msg_flags: 0 };
  const n = l.recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
  if (n < 0) throw new SyscallError('recvmsg', l.errno());
  // struct cmsghdr { size_t len; int level; int type; } then the fds.
  const len = Number(control.readBigUInt64LE(0));
  if (len < 20 || control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_RIGHTS) {
    throw new SyscallError('recvmsg', 5 /* EIO: no fd came with the message */);
  }
  return { fd: control.readInt32LE(16), payload: data.subarray(0, n).toString() };
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  const l = load();
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  if (l.ioctl(fd, TIOCSWINSZ, ws) < 0) throw new SyscallError('ioctl(TIOCSWINSZ)', l.errno());
}

export function getWinsize(fd: number): { rows: number; cols: number } | undefined {
  const l = load();
  const ws = Buffer.alloc(8);
  if (l.ioctl(fd, TIOCGWINSZ, ws) < 0) return undefined;
  return { rows: ws.readUInt16LE(0), cols: ws.readUInt16LE(2) };
}

const MNT_DETACH = 2;
const UMOUNT_NOFOLLOW = 8;

/** umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW): the mount and every mount under it leave the namespace now. */
export function detachMount(path: string): void {
  const l = load();
  if (l.umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) throw new SyscallError('umount2', l.errno(), path);
}
