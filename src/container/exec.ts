/**
 * exec: start a new process inside a running container. Reads like a table of contents:
 *   check the flags → load the state, refuse stopped/paused → build the Process (--process, or the container's
 *   process + flags) → find what differs from us (namespaces of the init, cgroups) → compileExec → open the ns
 *   files and cgroup.procs, then make sure the init is still the same process → spawn the executor →
 *   detached: return once the program runs (pidfile written); foreground: forward signals, return its status.
 * Nothing of Node enters the container: the executor joins the namespaces (setns on fds we opened) and execs.
 * No lock: a foreground exec lasts as long as its program, and runc does not hold one either.
 * Startup matters (an exec per health check): the config validators, create.ts and libseccomp are loaded only on
 * the paths that need them (--process, an old state without the stored config, a failure, a seccomp filter).
 */
import { closeSync, fstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { TsrunError, SpecInvalid, badState, errnoText, formatIssue, usage, isErrno } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { closeOwned, openPlanFds } from './plan-fds.js';
import { validateId } from './id.js';
import { load, seccompCacheDir, type StoredState } from './state-store.js';
import { deriveStatus, ociState } from './status.js';
import type { IDMapping, NamespaceType, Process, Seccomp } from '../spec/types.js';
import { sessionKeyringName } from '../plan/keyring.js';
import { applyExecFlags, compileExec, parseSubCgroups, type ExecFlags, type ExecTarget } from '../plan/exec.js';
import { encodePlan } from '../plan/encode.js';
import { SYNC_TOKEN, type Plan } from '../plan/steps.js';
import { startExecutor, type ExecutorRun } from '../linux/executor.js';
import { isSameLiveProcess, lastCap } from '../linux/proc.js';
import { hostLsm } from '../linux/lsm.js';
import { writePidFile } from '../linux/pidfile.js';
import { connectConsoleSocket, type ConsoleConn } from '../linux/console-socket.js';
import type { ListenerConn } from '../linux/seccomp.js';
import { SPEC_VERSION } from '../version.js';

/** runc's exec flags; those that shape the process (ExecFlags) are ignored with --process, as runc does. */
export interface ExecOptions extends ExecFlags {
  id: string;
  /** --process: a JSON OCI Process. */
  processFile?: string;
  apparmor?: string;
  processLabel?: string;
  preserveFds: number;
  /** --cgroup: [CTRL[,CTRL]:]PATH, a sub-cgroup of the container's. */
  cgroup: string[];
  ignorePaused: boolean;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
}

/** What create stores in StoredState.config for exec (runc keeps the whole config in its state). */
export interface StoredExecConfig {
  process?: Process;
  seccomp?: Seccomp;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'];

/** Namespace types with their /proc/<pid>/ns file names; user first is not implied (compileExec orders). */
const NS_FILES: ReadonlyArray<[NamespaceType, string]> = [
  ['user', 'user'], ['ipc', 'ipc'], ['uts', 'uts'], ['network', 'net'], ['pid', 'pid'], ['mount', 'mnt'], ['cgroup', 'cgroup'], ['time', 'time'],
];

const unsupported = (message: string, hint?: string) => new TsrunError('ERR_TSRUN_UNSUPPORTED', message, hint ? { hint } : {});

/** Returns the exit status for the CLI: the program's (foreground) or 0 (detached). */
export async function execContainer(env: RuntimeEnv, o: ExecOptions): Promise<number> {
  const phase = (name: string) => env.log.phase?.(name);
  validateId(o.id);
  if (o.pidfdSocket) throw unsupported('--pidfd-socket is not supported yet', 'use --pid-file');
  const pidFile = o.pidFile ? resolve(o.pidFile) : undefined;
  const consoleSocket = o.consoleSocket ? resolve(o.consoleSocket) : undefined;
  for (let fd = 3; fd < 3 + o.preserveFds; fd++) {
    try { fstatSync(fd); } catch { throw usage(`unable to stat preserved-fd ${fd - 3} (of ${o.preserveFds}): bad file descriptor`); }
  }
  const subCgroups = parseSubCgroups(o.cgroup);

  const st = load(env.root, o.id);
  const status = deriveStatus(env.root, st);
  if (status === 'stopped') throw badState('cannot exec in a stopped container');
  if (status === 'creating') throw badState('cannot exec in a container that is still being created');
  if (status === 'paused' && !o.ignorePaused) throw badState('cannot exec in a paused container (use --ignore-paused to override)');

  const stored = await storedConfig(st);
  let proc: Process;
  if (o.processFile) {
    proc = await readProcessFile(o.processFile);
    const { processWarnings } = await import('../spec/validate.js');
    for (const w of processWarnings(proc)) env.log.warn(formatIssue(w));
  } else {
    if (!o.args.length) throw usage('process args cannot be empty');
    proc = applyExecFlags(stored.process ?? { cwd: '/' }, {
      args: o.args, env: o.env, tty: o.tty, additionalGids: o.additionalGids, caps: o.caps,
      ...(o.cwd ? { cwd: o.cwd } : {}), ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.noNewPrivs !== undefined ? { noNewPrivs: o.noNewPrivs } : {}),
    });
    // runc getProcess: the flags override the container's (only without --process)
    if (o.apparmor) proc.apparmorProfile = o.apparmor;
    if (o.processLabel) proc.selinuxLabel = o.processLabel;
  }
  // runc checkTerminal: "detached" is exec -d. A foreground tty is ours to serve (like run -t).
  const terminal = Boolean(proc.terminal);
  if (terminal && o.detach && !consoleSocket) throw usage('cannot allocate tty if runc will detach without setting console socket');
  if (consoleSocket && (!o.detach || !terminal)) throw usage('cannot use console socket if runc will not detach or allocate tty');
  const ttyForeground = terminal && !o.detach;
  // Sized by the executor before the program starts (no sync gives us a window to resize it first, as run has).
  if (ttyForeground && !proc.consoleSize && process.stdout.isTTY) proc.consoleSize = { height: process.stdout.rows, width: process.stdout.columns };

  const target = execTarget(st, subCgroups, stored.process);
  if (stored.seccomp) target.seccomp = await seccompFor(env, stored.seccomp);
  const compiled = compileExec(proc, target, {
    detach: o.detach, preserveFds: o.preserveFds, log: Boolean(env.log.path), logJson: env.log.format === 'json',
    lastCap: lastCap(), rootless: process.geteuid?.() !== 0, lsm: hostLsm(),
    ...(consoleSocket ? { consoleSocket } : ttyForeground ? { consoleSocket: '<tsrun exec: terminal>' } : {}),
  });
  const plan = compiled.plan;
  for (const w of compiled.warnings) env.log.warn(w);
  phase(`exec: state and compile (${plan.steps.length} steps)`);

  let console: ConsoleConn | undefined;
  let listener: ListenerConn | undefined;
  let ttyPair: [number, number] | undefined;
  let fds: number[] = [];
  let run: ExecutorRun | undefined;
  const handlers: Array<readonly [NodeJS.Signals, () => void]> = [];
  try {
    if (consoleSocket) console = await connectConsoleSocket(consoleSocket);
    else if (ttyForeground) {
      ttyPair = await (await import('../linux/tty-proxy.js')).consolePair();
      const theirs = ttyPair[1];
      console = { fd: theirs, close: () => { try { closeSync(theirs); } catch { /* closed */ } } };
    }
    // SCMP_ACT_NOTIFY: connected before the spawn, as create does (runc dials the agent from the runtime too)
    const listenerSrc = plan.fds.find((f) => f.kind === 'seccompListener');
    if (listenerSrc?.kind === 'seccompListener') listener = await (await import('../linux/seccomp.js')).connectListener(listenerSrc.path);
    fds = openPlanFds(plan, {
      console, listener, logFd: () => env.log.fd(),
      // the init's /proc/<pid>/ns/* vanished between the status check and here: the container stopped
      onOpenError: (path, e) => (path.startsWith('/proc/') && e.code === 'ENOENT' ? badState('cannot exec in a stopped container') : undefined),
    });
    // The ns files are open: from here the init cannot be swapped for another process under the same pid.
    if (!isSameLiveProcess(st.pid, st.startTime)) throw badState('cannot exec in a stopped container');

    const stdio: Array<'inherit' | 'ignore' | number> = terminal ? ['ignore', 'ignore', 'ignore'] : ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < 3 + o.preserveFds; fd++) stdio.push(fd);
    let pid = 0;
    if (!o.detach) {
      for (const s of FORWARDED) {
        const h = () => { if (pid > 0) try { process.kill(pid, s); } catch { /* gone */ } };
        process.on(s, h);
        handlers.push([s, h]);
      }
    }
    const started = startExecutor({
      executorPath: join(env.pkgRoot, 'dist', 'libexec', 'tsrun-executor'),
      plan: encodePlan(plan),
      stdio,
      table: fds,
      onSync: async (step, token) => {
        if (BigInt(token) !== SYNC_TOKEN.seccomp || plan.steps[step]?.kind !== 'seccompListener') {
          throw new TsrunError('ERR_TSRUN_PROTOCOL', `executor asked for sync token ${token} at step ${step}; exec plans have only seccomp's`);
        }
        // runc setnsProcess: the exec'd process's host pid; the state says "running" with the init's pid
        const execPid = (await started.forked) ?? 0;
        const { containerProcessState } = await import('../linux/seccomp.js');
        return Buffer.from(containerProcessState(SPEC_VERSION, execPid, stored.seccomp?.listenerMetadata, ociState(env.root, st, 'running')));
      },
    });
    run = started;
    // Our copies of what the executor now holds: closing them lets EOF mean "the executor is done with it".
    closeOwned(plan, fds);
    fds = [];
    console?.close();
    console = undefined;
    listener?.close();
    listener = undefined;
    phase('exec: spawn executor');
    pid = (await run.forked) ?? 0;
    phase('exec: forked');

    if (o.detach) {
      // The control socket is close-on-exec: its EOF (after the first process exited) means execve succeeded.
      const done = await run.done;
      phase('exec: executor done');
      if (done.kind !== 'exited') throw await failure(plan, done);
      if (!pid) throw new TsrunError('ERR_TSRUN_INIT', 'the executor never reported the process\'s pid');
      if (pidFile) writePidFile(pidFile, pid);
      return 0;
    }

    // Foreground: `done` settles early only on a failure; otherwise when the program has ended.
    let master: number | undefined;
    if (ttyPair && pid) {
      const { receiveMaster } = await import('../linux/tty-proxy.js');
      try {
        master = await receiveMaster(ttyPair[0], proc.consoleSize); // it closes our end
        ttyPair[0] = -1;
      } catch {
        /* no master came (EOF): the executor failed before its console step; `done` says why */
      }
    }
    if (pid && pidFile) writePidFile(pidFile, pid);
    const tty = master !== undefined ? await (await import('../linux/tty-proxy.js')).proxyTty(master) : undefined;
    const done = await run.done;
    if (done.kind !== 'exited') {
      tty?.stop();
      throw await failure(plan, done);
    }
    const { code, signal } = await run.exit;
    if (tty) {
      await Promise.race([tty.finished, new Promise((r) => setTimeout(r, 500).unref())]);
      tty.stop();
    }
    return code ?? (signal ? 128 + ((constants.signals as Record<string, number>)[signal] ?? 0) : 1);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    closeOwned(plan, fds);
    console?.close();
    listener?.close();
    if (ttyPair && ttyPair[0] >= 0) try { closeSync(ttyPair[0]); } catch { /* closed */ }
  }
}

async function failure(plan: Plan, done: Exclude<Awaited<ExecutorRun['done']>, { kind: 'exited' }>): Promise<TsrunError> {
  switch (done.kind) {
    case 'failed': {
      const s = plan.steps[done.step];
      if (s?.kind === 'exec') return new TsrunError('ERR_TSRUN_INIT', `unable to start container process: exec ${s.argv[0]}: ${errnoText(done.errno)}`);
      const { describeFailure } = await import('./create.js');
      return new TsrunError('ERR_TSRUN_INIT', describeFailure(plan, done));
    }
    case 'rejected':
      return new TsrunError('ERR_TSRUN_PROTOCOL', `the executor rejected the plan at step ${done.step} (byte ${done.offset}): ${done.reason}`, { hint: 'tsrun and its executor disagree: rebuild with `npm run build`' });
    case 'aborted':
      return done.error instanceof TsrunError ? done.error : new TsrunError('ERR_TSRUN_INIT', `exec aborted: ${(done.error as Error)?.message ?? done.error}`, { cause: done.error });
    default:
      return new TsrunError('ERR_TSRUN_INIT', `unexpected executor report ${(done as { kind: string }).kind}`);
  }
}

/** The container's process (and seccomp) as stored at create; older states: the bundle's config.json (runc reads it there). */
async function storedConfig(st: StoredState): Promise<StoredExecConfig> {
  const c = st.config as StoredExecConfig | undefined;
  if (c && typeof c === 'object' && c.process) return c;
  const { loadConfig } = await import('../spec/load.js');
  const spec = loadConfig(st.bundle);
  return { ...(spec.process ? { process: spec.process } : {}), ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}) };
}

async function readProcessFile(file: string): Promise<Process> {
  const [{ parseConfig }, { validateProcess }] = await Promise.all([import('../spec/load.js'), import('../spec/validate.js')]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).errno;
    throw new TsrunError('ERR_TSRUN_SPEC_READ', `open ${file}: ${code ? errnoText(Math.abs(code)) : String(e)}`, { cause: e });
  }
  const obj = parseConfig(text, file);
  const issues = validateProcess(obj);
  if (issues.length) throw new SpecInvalid(issues, file);
  return obj as Process;
}

/**
 * What the exec joins: every namespace of the init that is not already ours (setns into our own would be a
 * no-op at best, EINVAL for a user namespace), the id maps of its user namespace, and the cgroup.procs files.
 */
function execTarget(st: StoredState, sub: Map<string, string>, containerProcess: Process | undefined): ExecTarget {
  const namespaces: ExecTarget['namespaces'] = [];
  for (const [type, file] of NS_FILES) {
    const theirs = `/proc/${st.pid}/ns/${file}`;
    let a;
    try {
      a = statSync(theirs);
    } catch (e) {
      if (isErrno(e, 'ENOENT') && !statOk(`/proc/self/ns/${file}`)) continue; // the kernel has no such namespace
      throw isErrno(e, 'ENOENT') || isErrno(e, 'ESRCH') ? badState('cannot exec in a stopped container') : e;
    }
    const b = statSync(`/proc/self/ns/${file}`);
    if (a.ino !== b.ino || a.dev !== b.dev) namespaces.push({ type, path: theirs });
  }
  const target: ExecTarget = {
    namespaces, cgroupProcs: cgroupTargets(st.cgroup.paths, sub), ...(containerProcess ? { containerProcess } : {}),
    ...(st.namespaces.includes('mount') ? {} : { root: `/proc/${st.pid}/root` }),
    ...(st.noNewKeyring ? {} : { keyring: sessionKeyringName(st.id) }),
  };
  if (namespaces.some((n) => n.type === 'user')) {
    target.uidMappings = readIdMap(`/proc/${st.pid}/uid_map`);
    target.gidMappings = readIdMap(`/proc/${st.pid}/gid_map`);
    try { target.setgroupsDenied = readFileSync(`/proc/${st.pid}/setgroups`, 'utf8').trim() === 'deny'; } catch { /* old kernel */ }
  }
  return target;
}

const statOk = (p: string) => { try { statSync(p); return true; } catch { return false; } };

function readIdMap(file: string): IDMapping[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const [c, h, n] = l.trim().split(/\s+/).map(Number);
    return { containerID: c!, hostID: h!, size: n! };
  });
}

/**
 * The container's cgroup in every hierarchy, or the --cgroup sub-cgroup (runc newSetnsProcess rules: a path for
 * all hierarchies, or per controller; it must stay below the container's cgroup). Co-mounted controllers are one
 * hierarchy: joined once.
 */
export function cgroupTargets(paths: Record<string, string>, sub: Map<string, string>, real: (p: string) => string = realOr): string[] {
  const byHier = new Map<string, { dir: string; keys: string[] }>();
  for (const [key, dir] of Object.entries(paths)) {
    const r = real(dir);
    const h = byHier.get(r) ?? { dir, keys: [] };
    h.keys.push(key);
    byHier.set(r, h);
  }
  for (const ctrl of sub.keys()) {
    if (ctrl !== '' && ![...byHier.values()].some((h) => h.keys.some((k) => k === ctrl || k.split(',').includes(ctrl)))) {
      throw usage(`unknown controller ${ctrl} in SubCgroupPaths`);
    }
  }
  const out: string[] = [];
  for (const { dir, keys } of byHier.values()) {
    const adds = new Set<string>();
    if (sub.has('')) adds.add(sub.get('')!);
    for (const [ctrl, p] of sub) if (ctrl !== '' && keys.some((k) => k === ctrl || k.split(',').includes(ctrl))) adds.add(p);
    if (adds.size > 1) throw usage(`--cgroup: conflicting sub-cgroups for one hierarchy (${[...adds].join(', ')})`);
    let target = dir;
    const add = [...adds][0];
    if (add !== undefined) {
      target = posix.join(dir, add);
      if (target !== dir && !target.startsWith(dir + '/')) throw usage(`${add} is not a sub cgroup path`);
    }
    out.push(join(target, 'cgroup.procs'));
  }
  return out;
}

function realOr(p: string): string {
  try { return realpathSync(p); } catch { return p; }
}

/** The container's linux.seccomp: from the cache create filled, else compiled again (libseccomp, koffi). */
async function seccompFor(env: RuntimeEnv, sc: Seccomp): Promise<NonNullable<ExecTarget['seccomp']>> {
  const { cachedCompileSeccompLazy } = await import('../linux/seccomp-cache.js');
  const { compiled: c, hit } = await cachedCompileSeccompLazy(sc, async () => (await import('../linux/seccomp.js')).compileSeccomp, {
    dir: seccompCacheDir(env.root), buildInfo: join(env.pkgRoot, 'dist', 'build-info.json'), log: env.log,
  });
  env.log.debug(`seccomp: ${hit ? 'compiled filter from the cache' : 'compiled with libseccomp'} (${c.program.length / 8} instructions)`);
  for (const w of c.warnings) env.log.debug(w);
  return { program: c.program, flags: c.flags, notify: c.notify, ...(sc.listenerPath ? { listenerPath: sc.listenerPath } : {}) };
}

