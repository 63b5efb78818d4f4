/**
 * Per-container lock, so concurrent commands on one container serialize (runc holds a flock).
 *
 * Why an abstract unix socket and not flock(2): Node has no flock, and loading an FFI costs 10-17 ms on every
 * call. Binding an abstract socket name is exclusive like flock and, like flock, the kernel releases it the
 * moment the holder dies (a caller's Pdeathsig SIGKILL mid-operation leaves no stale lock behind).
 * The name is a hash of the state directory, so two --root trees never contend.
 */
import { createServer, type Server } from 'node:net';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsrunError } from '../errors.js';

export interface Lock { release(): void }

function lockName(dir: string): string {
  return '\0tsrun-lock-' + createHash('sha256').update(dir).digest('hex').slice(0, 40);
}

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    srv.listen({ path: name, exclusive: true }, () => resolve(srv));
  });
}

export async function lockContainer(dir: string, timeoutMs = 30_000): Promise<Lock> {
  const name = lockName(dir);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const srv = await tryBind(name);
    if (srv) {
      srv.unref();
      return { release: () => srv.close() };
    }
    if (Date.now() > deadline) {
      throw new TsrunError('ERR_TSRUN_BUSY', `container is busy: another tsrun command holds its lock (${dir})`);
    }
    await sleep(delay);
  }
}

export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockContainer(dir);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
