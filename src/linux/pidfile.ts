/**
 * The pidfile: decimal digits, no newline (containerd parses it with strconv.Atoi and no trimming), written
 * atomically — a temp file beside it, then rename — exactly when runc writes it: after any console fd was handed
 * over and before the runtime exits.
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, constants as C } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoText, TsrunError } from '../errors.js';

/** Node's "ENOENT: no such file or directory, open '…'" → Go's "open …: no such file or directory" (runc's). */
function pidFileError(op: string, path: string, e: unknown): unknown {
  const errno = (e as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' ? new TsrunError('ERR_TSRUN_PIDFILE', `${op} ${path}: ${errnoText(Math.abs(errno))}`, { cause: e }) : e;
}

export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${basename(path)}`);
  let fd: number;
  try {
    fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_SYNC, 0o644);
  } catch (e) {
    throw pidFileError('open', tmp, e);
  }
  try {
    writeSync(fd, String(pid));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw pidFileError('write', tmp, e);
  } finally {
    try { closeSync(fd); } catch { /* closed above */ }
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw pidFileError('rename', path, e);
  }
}
