/**
 * The pidfile: decimal digits, no newline (containerd parses it with strconv.Atoi and no trimming), written
 * atomically — a temp file beside it, then rename — exactly when runc writes it: after any console fd was handed
 * over and before the runtime exits.
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, constants as C } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${basename(path)}`);
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_SYNC, 0o644);
  try {
    writeSync(fd, String(pid));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  } finally {
    try { closeSync(fd); } catch { /* closed above */ }
  }
  renameSync(tmp, path);
}
