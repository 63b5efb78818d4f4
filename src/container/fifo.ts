// libuv opens every fd with O_CLOEXEC, so nothing opened here leaks into the executor or hooks.
/**
 * The exec fifo, start side. The init blocks in open(exec.fifo, O_WRONLY) until someone opens the read side;
 * then it writes one byte and goes on to execve. We open O_RDONLY|O_NONBLOCK (never blocks, so a dead init
 * cannot hang us in open) and read the byte synchronously, napping 0.1 ms between tries with Atomics.wait
 * (the byte normally arrives within a fraction of a millisecond); whether the init is still alive is checked
 * only when the byte is late. Until the init's open has returned, read() gives EOF (no writer yet), so EOF
 * means "not yet" and the liveness check decides.
 * Not a net.Socket on the event loop: setting one up cost ≈ 2.5 ms of the ≈ 3 ms `start` spent here, and
 * node:net ≈ 2 ms more to load (docs/performance.md).
 */
import { openSync, closeSync, readSync, constants as C } from 'node:fs';
import { isErrno, TsrunError } from '../errors.js';

export async function releaseFifo(path: string, initAlive: () => boolean): Promise<void> {
  const fd = openSync(path, C.O_RDONLY | C.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; ; i++) {
      let n = 0;
      try {
        n = readSync(fd, buf, 0, 1, null);
      } catch (e) {
        if (!isErrno(e, 'EAGAIN')) throw e;
      }
      if (n > 0) return;
      const fast = i < 200; // 20 ms of 0.1 ms naps, then 5 ms ones
      if ((!fast || i % 50 === 49) && !initAlive()) {
        throw new TsrunError('ERR_TSRUN_START', 'cannot start a container that has stopped');
      }
      Atomics.wait(nap, 0, 0, fast ? 0.1 : 5);
    }
  } finally {
    closeSync(fd);
  }
}
