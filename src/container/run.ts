/**
 * run = create + start in one call. Foreground (the default): the container's stdio is ours, signals we get are
 * forwarded to the init, and we exit with its status (128+N when killed by signal N), then remove it unless
 * --keep. The executor's first process waits for the init and carries that status to us, so tsrun needs no FFI
 * to wait for a process that is not its child; its PR_SET_PDEATHSIG chain kills the container if we die.
 * Detached (-d): return once the init has been released; it is orphaned to the caller's subreaper.
 */
import { constants } from 'node:os';
import type { RuntimeEnv } from './env.js';
import { createContainer, type CreateOptions } from './create.js';
import { destroy } from './destroy.js';
import { runHooks } from './hooks.js';
import { ociState } from './status.js';
import { load, save } from './state-store.js';
import { proxyTty, receiveMaster } from '../linux/tty-proxy.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'];

export async function runContainer(env: RuntimeEnv, o: Omit<CreateOptions, 'mode' | 'onStart'> & { keep: boolean }): Promise<number> {
  let initPid = 0;
  const forward = (sig: NodeJS.Signals) => { if (initPid > 0) try { process.kill(initPid, sig); } catch { /* gone */ } };
  const handlers = o.foreground ? FORWARDED.map((s) => { const h = () => forward(s); process.on(s, h); return [s, h] as const; }) : [];
  try {
    let master: number | undefined;
    const { state, executor } = await createContainer(env, {
      ...o,
      mode: 'run',
      onStart: async (st, peer) => {
        initPid = st.pid;
        if (peer !== undefined) master = await receiveMaster(peer, st.consoleSize);
      },
    });
    initPid = state.pid;
    // poststart hooks run once the user process has been released (runc runs them right after start).
    if (state.hooks.poststart?.length) {
      try {
        await runHooks('poststart', state.hooks.poststart, JSON.stringify(ociState(env.root, state, 'running')));
      } catch (e) {
        env.log.warn((e as Error).message);
      }
    }
    if (!o.foreground) return 0;
    let tty;
    try {
      tty = master !== undefined ? await proxyTty(master) : undefined;
    } catch (e) {
      // We cannot serve the terminal: take the container down rather than leave it behind.
      try { process.kill(state.pid, 'SIGKILL'); } catch { /* gone */ }
      await executor.exit;
      await destroy(env, load(env.root, state.id), { runPoststop: true });
      throw e;
    }
    const { code, signal } = await executor.exit;
    if (tty) {
      // Let the last output drain, but never hang on a pty some orphan still holds open.
      await Promise.race([tty.finished, new Promise((r) => setTimeout(r, 500).unref())]);
      tty.stop();
    }
    env.log.phase?.('run: container exited');
    const status = code ?? (signal ? 128 + signo(signal as NodeJS.Signals) : 1);
    if (!o.keep) {
      const st = (() => { try { return load(env.root, state.id); } catch { return state; } })();
      await destroy(env, st, { runPoststop: true });
    } else {
      save(env.root, { ...load(env.root, state.id), recorded: 'stopped' });
    }
    return status;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

function signo(name: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[name] ?? 0;
}
