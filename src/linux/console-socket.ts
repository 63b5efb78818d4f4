/**
 * Connect to the caller's --console-socket from the host side (runc setupIO dials before the container exists);
 * the connected fd is handed to the executor, which sends the pty master over it from inside the container.
 * node:net does the connect on the event loop; the fd number comes from the libuv handle (Linux only, stable
 * since Node 0.x) so no FFI is needed on the create path.
 */
import { connect, type Socket } from 'node:net';
import { errnoText, TsrunError } from '../errors.js';

export interface ConsoleConn { fd: number; close(): void }

export function connectConsoleSocket(path: string): Promise<ConsoleConn> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ path });
    // Go's net.Dial wording, which runc (and so Docker's and podman's error text) shows: "dial unix S: connect: …"
    sock.once('error', (e) => {
      const errno = (e as NodeJS.ErrnoException).errno;
      const why = typeof errno === 'number' ? `connect: ${errnoText(Math.abs(errno))}` : (e as Error).message;
      reject(new TsrunError('ERR_TSRUN_CONSOLE', `dial unix ${path}: ${why}`, { cause: e }));
    });
    sock.once('connect', () => {
      const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) {
        sock.destroy();
        return reject(new TsrunError('ERR_TSRUN_CONSOLE', `console socket ${path}: cannot get the connected fd`));
      }
      sock.pause();
      resolve({ fd, close: () => sock.destroy() });
    });
  });
}
