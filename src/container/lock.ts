/**
 * Per-container lock, so concurrent commands on one container serialize (runc holds a flock).
 *
 * Why an abstract unix socket and not flock(2): Node has no flock, and loading an FFI costs 10-17 ms on every
 * call. Binding an abstract socket name is exclusive like flock and, like flock, the kernel releases it the
 * moment the holder dies (a caller's Pdeathsig SIGKILL mid-operation leaves no stale lock behind).
 * The name is a hash of the state directory, so two --root trees never contend.
 */
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsrunError } from '../errors.js';

export interface Lock { release(): void }

/**
 * 128 bits of cyrb128 over the path. Not node:crypto: loading it costs ≈ 2 ms on every locked command
 * (docs/performance.md), and a collision would only make two containers wait for each other.
 */
export function lockName(dir: string): string {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < dir.length; i++) {
    const k = dir.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4; h2 ^= h1; h3 ^= h1; h4 ^= h1;
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return '\0tsrun-lock-' + hex(h1) + hex(h2) + hex(h3) + hex(h4);
}

interface RawPipe { bind(name: string): number; close(): void; unref(): void }
let pipeWrap: { Pipe: new (type: number) => RawPipe; SERVER: number } | null | undefined;
const UV_EADDRINUSE = -98; // libuv returns -errno on Linux

/**
 * libuv's pipe handle from Node's own pipe_wrap binding (what node:net uses underneath): bind() is synchronous
 * and node:net is never loaded — loading it and listening cost ≈ 3.5 ms on every locked command
 * (docs/performance.md). null when this Node does not offer it: node:net then does the same thing.
 */
function rawPipe(): typeof pipeWrap {
  if (pipeWrap !== undefined) return pipeWrap;
  try {
    const b = (process as unknown as { binding(name: string): { Pipe?: unknown; constants?: { SERVER?: unknown } } }).binding('pipe_wrap');
    pipeWrap = typeof b?.Pipe === 'function' && typeof b.constants?.SERVER === 'number'
      ? { Pipe: b.Pipe as new (type: number) => RawPipe, SERVER: b.constants.SERVER } : null;
  } catch {
    pipeWrap = null;
  }
  return pipeWrap;
}

async function tryBind(name: string): Promise<Lock | undefined> {
  const raw = rawPipe();
  if (raw) {
    const p = new raw.Pipe(raw.SERVER);
    const rc = p.bind(name);
    if (rc === 0) {
      p.unref();
      return { release: () => p.close() };
    }
    p.close();
    if (rc === UV_EADDRINUSE) return undefined;
    // any other error: node:net below reports it in its own words
  }
  const { createServer } = await import('node:net');
  const srv = await new Promise<Server | undefined>((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    s.listen({ path: name, exclusive: true }, () => resolve(s));
  });
  if (!srv) return undefined;
  srv.unref();
  return { release: () => srv.close() };
}

export async function lockContainer(dir: string, timeoutMs = 30_000): Promise<Lock> {
  const name = lockName(dir);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const lock = await tryBind(name);
    if (lock) return lock;
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
