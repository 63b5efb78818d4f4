// libuv opens every fd with O_CLOEXEC, so nothing opened here leaks into the executor or hooks.
/**
 * The exec fifo, start side. The init blocks in open(exec.fifo, O_WRONLY) until someone opens the read side;
 * then it writes one byte and goes on to execve. We open O_RDONLY|O_NONBLOCK (never blocks, so a dead init
 * cannot hang us in open), wait for the byte on the event loop, and check the init is still alive only when
 * the byte is late — no timer runs on the normal path.
 */
import { openSync, closeSync, constants as C } from 'node:fs';
import { Socket } from 'node:net';
import { TsrunError } from '../errors.js';

export function releaseFifo(path: string, initAlive: () => boolean): Promise<void> {
  const fd = openSync(path, C.O_RDONLY | C.O_NONBLOCK);
  return new Promise<void>((resolve, reject) => {
    const sock = new Socket({ fd, readable: true, writable: false });
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearInterval(watch);
      sock.destroy();
      err ? reject(err) : resolve();
    };
    sock.on('data', () => finish());
    sock.on('end', () => finish(new TsrunError('ERR_TSRUN_START', 'container init exited before start could release it')));
    sock.on('error', (e) => finish(e));
    // Only reached when the byte is slow: the init may have died while waiting.
    const watch = setInterval(() => {
      if (!initAlive()) finish(new TsrunError('ERR_TSRUN_START', 'cannot start a container that has stopped'));
    }, 100);
  }).finally(() => { try { closeSync(fd); } catch { /* the socket closed it */ } });
}
