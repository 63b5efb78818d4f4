/**
 * The Node side of tsrun-executor: spawn it, send the plan, answer SYNCs, and report how it ended.
 *
 * Only child_process (libuv's child side is C: node-limits.md §3) and the net.Socket libuv gives us for the
 * control stream. The child gets a fixed, empty environment, never Node's (node-limits.md §5.4).
 *
 *   fds 0 … ctl-1            opts.stdio: the container's stdio (0-2) and preserved/LISTEN fds (3 …)
 *   fd  ctl                  the control stream ('pipe': a SOCK_STREAM socketpair), ctl = opts.stdio.length
 *   fds ctl+1 … ctl+nfds     opts.table: the plan's fd table, by number
 *
 * None of the promises ever rejects: every way the run can end is a value of `done`. After `done` settles the
 * control stream is destroyed, so the only handle left is the child process itself, which keeps Node alive until
 * the first process exits — what a foreground `run` wants (fork mode 1) and immediate for `create` (mode 0).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { encodeAbort, encodePlanFrame, encodeResume, FrameReader, decodeMessage, ProtocolError } from '../plan/protocol.js';

export type ExecutorDone =
  /** READY: setup finished; the executor closed the control stream (it now waits for start, or execs). */
  | { kind: 'ready' }
  /** A step failed (step -1: the prologue, e.g. sealing). stepKind is the wire code (STEP_CODE). */
  | { kind: 'failed'; step: number; stepKind: number; errno: number; op: string; path: string }
  /** The plan was refused before anything ran (step -1: the header). */
  | { kind: 'rejected'; step: number; offset: number; reason: string }
  /** The control stream closed with none of the above; code/signal are the first process's exit. */
  | { kind: 'exited'; code: number | null; signal: string | null }
  /** We stopped it: onSync threw (ABORT was sent), a protocol error (the executor was killed), or spawn failed. */
  | { kind: 'aborted'; error: unknown };

export interface ExecutorRun {
  /** The spawned executor (the first process); 0 if it could not be spawned. */
  pid: number;
  /** Host pid from FORKED; null if the run ended without a `fork` step reporting one. */
  forked: Promise<number | null>;
  done: Promise<ExecutorDone>;
  /** The first process's exit (for fork mode 1/2: the container's status, 128+N for signal N). */
  exit: Promise<{ code: number | null; signal: string | null }>;
  /** For 'pipe' stdio entries (tests) and for unref() by callers that do not wait for the exit. */
  child: ChildProcess;
}

export interface ExecutorOptions {
  executorPath: string;
  plan: Uint8Array;
  /** fds 0 … ctl-1 of the executor (at least the three stdio entries). */
  stdio: Array<'inherit' | 'ignore' | 'pipe' | number>;
  /** fds to pass as the plan's fd table, in table order (Plan.fds). */
  table: number[];
  /** Called for each SYNC; the returned bytes (state JSON for hooks) go back in RESUME. Throwing aborts. */
  onSync: (step: number, token: number) => Promise<Uint8Array | void>;
}

export function startExecutor(opts: ExecutorOptions): ExecutorRun {
  const ctl = opts.stdio.length;
  if (ctl < 3) throw new RangeError('startExecutor: stdio needs at least the three entries 0, 1, 2');
  const stdio: StdioOptions = [...opts.stdio, 'pipe', ...opts.table];
  const child = spawn(opts.executorPath, [String(ctl), String(opts.table.length)], { stdio, env: {} });

  let resolveExit!: (v: { code: number | null; signal: string | null }) => void;
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => (resolveExit = r));
  let resolveForked!: (pid: number | null) => void;
  const forked = new Promise<number | null>((r) => (resolveForked = r));
  let resolveDone!: (d: ExecutorDone) => void;
  const done = new Promise<ExecutorDone>((r) => (resolveDone = r));

  child.on('exit', (code, signal) => resolveExit({ code, signal }));
  const sock = child.stdio[ctl] as Socket | null;
  let settled = false;
  const settle = (d: ExecutorDone): void => {
    if (settled) return;
    settled = true;
    resolveForked(null);  // no-op when FORKED came first
    resolveDone(d);
    sock?.destroy();      // no handle of ours outlives the setup
  };
  child.on('error', (error) => {  // spawn failed (ENOENT, EACCES): there is no exit event
    resolveExit({ code: null, signal: null });
    settle({ kind: 'aborted', error });
  });
  if (!sock) {
    settle({ kind: 'aborted', error: new Error('executor control stream missing') });
    return { pid: child.pid ?? 0, forked, done, exit, child };
  }

  const reader = new FrameReader();
  let queue = Promise.resolve();  // messages are handled in order, one SYNC at a time
  const abort = (error: unknown, kill: boolean): void => {
    if (kill) child.kill('SIGKILL');
    else if (sock.writable) sock.write(encodeAbort());
    settle({ kind: 'aborted', error });
  };
  const handle = async (type: number, payload: Buffer): Promise<void> => {
    if (settled) return;
    const m = decodeMessage(type, payload);
    switch (m.type) {
      case 'forked': resolveForked(m.pid); return;
      case 'ready': settle({ kind: 'ready' }); return;
      case 'failed': settle({ kind: 'failed', step: m.step, stepKind: m.kind, errno: m.errno, op: m.op, path: m.path }); return;
      case 'reject': settle({ kind: 'rejected', step: m.step, offset: m.offset, reason: m.reason }); return;
      case 'sync': {
        let out: Uint8Array | void;
        try {
          out = await opts.onSync(m.step, m.token);
        } catch (error) {
          abort(error, false);
          return;
        }
        if (!settled) sock.write(encodeResume(m.step, out ?? undefined));
      }
    }
  };
  sock.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch (error) {
      abort(error, true);
      return;
    }
    for (const f of frames) {
      queue = queue.then(() => handle(f.type, f.payload)).catch((error) => abort(error, true));
    }
  });
  sock.on('error', () => { /* EPIPE/ECONNRESET: the close handler below decides */ });
  sock.on('close', () => {
    void queue.then(async () => {
      if (settled) return;
      if (reader.pending) {
        settle({ kind: 'aborted', error: new ProtocolError(`stream ended inside a frame (${reader.pending} bytes)`) });
        return;
      }
      const e = await exit;
      settle({ kind: 'exited', code: e.code, signal: e.signal });
    });
  });
  sock.write(encodePlanFrame(opts.plan));
  return { pid: child.pid ?? 0, forked, done, exit, child };
}
