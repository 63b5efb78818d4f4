/**
 * Foreground `run` of a terminal container: receive the pty master the executor sends (runc's console protocol,
 * over our own socketpair) and proxy it to our stdio — raw mode on our terminal, window size kept in sync,
 * input forwarded, output copied until the container side closes.
 */
import { closeSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';

/** Our end and the executor's end of a fresh console socketpair (foreground `run -t`). */
export async function consolePair(): Promise<[number, number]> {
  return (await import('../sys/libc.js')).socketPair();
}

export interface TtyProxy { finished: Promise<void>; stop(): void }

/**
 * Take the pty master off our end of the console socketpair and size it, while the init still waits at
 * `sync start` — so the user program never sees a 0x0 terminal.
 */
export async function receiveMaster(peer: number, consoleSize?: { height: number; width: number }): Promise<number> {
  const { recvFd, setWinsize } = await import('../sys/libc.js');
  const { fd: master } = recvFd(peer);
  closeSync(peer);
  // runc sizes the pty from the caller's terminal unless the config says otherwise.
  if (!consoleSize && process.stdout.isTTY) try { setWinsize(master, process.stdout.rows, process.stdout.columns); } catch { /* ok */ }
  return master;
}

export async function proxyTty(master: number): Promise<TtyProxy> {
  const { setWinsize } = await import('../sys/libc.js');
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  const resize = () => {
    if (process.stdout.isTTY) try { setWinsize(master, process.stdout.rows, process.stdout.columns); } catch { /* gone */ }
  };
  if (stdin.isTTY) stdin.setRawMode(true);
  // libuv opens a pty master as a TTY handle: read through tty.ReadStream, write with plain writes.
  const sock = new ReadStream(master);
  const finished = new Promise<void>((resolve) => {
    sock.on('data', (d) => process.stdout.write(d));
    // Reading a master whose slave side is gone fails with EIO: that is the end of the output.
    sock.on('error', () => resolve());
    sock.on('end', () => resolve());
    sock.on('close', () => resolve());
  });
  const onInput = (d: Buffer) => {
    if (sock.destroyed) return;
    for (let off = 0; off < d.length;) {
      try { off += writeSync(master, d, off); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return; }
    }
  };
  stdin.on('data', onInput);
  process.stdout.on('resize', resize);
  return {
    finished,
    stop() {
      stdin.off('data', onInput);
      stdin.pause();
      process.stdout.off('resize', resize);
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
      sock.destroy();
    },
  };
}
