/**
 * create (and the first half of run). Reads like a table of contents:
 *   check the flags → load and validate config.json → claim <root>/<id> → cgroups → compile the plan →
 *   open what the plan needs → spawn the executor → answer its syncs (id maps, hooks) → record pid, state,
 *   pidfile → exit, leaving the init blocked on the exec fifo and orphaned to the caller's subreaper.
 * Any failure on the way undoes everything: no state dir, cgroup or process is left behind.
 */
import { fstatSync, closeSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { TsrunError, usage, errnoText, formatIssue } from '../errors.js';
import type { RuntimeEnv } from './env.js';
import { closeAll, closeOwned, makeIdmapUsernses, openPlanFds } from './plan-fds.js';
import { validateId } from './id.js';
import { lockContainer } from './lock.js';
import { claim, ensureRoot, save, remove, nowRfc3339Nano, seccompCacheDir, type StoredState } from './state-store.js';
import { ociState } from './status.js';
import { runHooks, type HookSpec } from './hooks.js';
import { destroy } from './destroy.js';
import { waitInitGone } from './signal.js';
import { loadConfig } from '../spec/load.js';
import { configWarnings } from '../spec/validate.js';
import type { Spec } from '../spec/types.js';
import { compile } from '../plan/compile.js';
import type { CompileContext } from '../plan/context.js';
import { encodePlan } from '../plan/encode.js';
import type { Plan, Step } from '../plan/steps.js';
import { SYNC_TOKEN } from '../plan/steps.js';
import { startExecutor, type ExecutorRun } from '../linux/executor.js';
import { lastCap, readStat } from '../linux/proc.js';
import { createCgroups, freezerState, resolveCgroupPaths } from '../linux/cgroups/fs.js';
import { parseSystemdCgroupsPath, systemdCgroupPaths } from '../linux/cgroups/systemd-path.js';
import type { OpenScope } from '../linux/cgroups/systemd.js';
import { fromSpec } from '../linux/cgroups/resources.js';
import { applyResources } from '../linux/cgroups/apply.js';
import { applyConfigResources } from './update.js';
import { hostCgroupMounts } from '../linux/cgroups/mounts.js';
import { writeIdMaps } from '../linux/idmap.js';
import { writePidFile } from '../linux/pidfile.js';
import { connectConsoleSocket, type ConsoleConn } from '../linux/console-socket.js';
import { compileSeccomp, connectListener, containerProcessState, type ListenerConn } from '../linux/seccomp.js';
import { cachedCompileSeccomp } from '../linux/seccomp-cache.js';
import { hostLsm } from '../linux/lsm.js';
import { findBind, recordHostMounts } from '../linux/host-mounts.js';
import { SPEC_VERSION } from '../version.js';

export interface CreateOptions {
  id: string;
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** run: setup ends at `sync start` (no exec fifo); create: the init waits on the fifo. */
  mode: 'create' | 'run';
  /** run without -d: the executor's first process waits and carries the exit status. */
  foreground: boolean;
  subreaper: boolean;
  /** Called at `sync start` (run mode) once the state says running, before the init is released. */
  onStart?: (st: StoredState, consolePeer?: number) => Promise<void>;
}

export interface Created {
  state: StoredState;
  executor: ExecutorRun;
  /** Foreground `run` with a terminal: our end of the socketpair the executor sends the pty master over. */
  consolePeer?: number;
}

/** runc checkTerminal (caller-contract.md §8.6). */
function checkTerminal(spec: Spec, o: CreateOptions): void {
  const terminal = Boolean(spec.process?.terminal);
  const detached = !o.foreground;
  if (terminal && detached && !o.consoleSocket) throw usage('cannot allocate tty if runc will detach without setting console socket');
  if (o.consoleSocket && (!detached || !terminal)) throw usage('cannot use console socket if runc will not detach or allocate tty');
}

/** runc's validator: before anything is made, a root.path that is not a directory fails with its words. */
function checkRootfs(rootfs: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).errno;
    throw new TsrunError('ERR_TSRUN_ROOTFS', `invalid rootfs: stat ${rootfs}: ${errno ? errnoText(Math.abs(errno)) : String(e)}`, {
      hint: 'root.path in config.json names the container\'s root filesystem, relative to the bundle or absolute', cause: e,
    });
  }
  if (!isDir) throw new TsrunError('ERR_TSRUN_ROOTFS', `invalid rootfs: ${rootfs}: not a directory`);
}

/**
 * The executor died during setup without reporting a step (in create mode its first process exits 0 after the
 * fork, so the status says little). The usual cause is the OOM killer in the container's memory cgroup — a limit
 * below what the setup itself needs: when the kernel's counter of the cgroup we made says so, say so.
 */
async function setupExitText(done: { code: number | null; signal: string | null }, st: StoredState, spec: Spec): Promise<string> {
  const text = `container init exited during setup${done.signal ? ` (${done.signal})` : done.code ? ` (status ${done.code})` : ''}`;
  const limit = spec.linux?.resources?.memory?.limit;
  const v2 = !st.cgroup.paths.memory && Boolean(st.cgroup.paths.unified);
  const dir = v2 ? st.cgroup.paths.unified : st.cgroup.paths.memory;
  if (limit === undefined || limit < 0 || !dir || !st.cgroup.created.includes(dir)) return text;  // a fresh counter only
  const { oomCounters } = await import('../linux/cgroups/stats.js');
  const oom = oomCounters(st.cgroup.paths, v2);
  if (!oom?.oomKill) return text;
  return `${text}: the OOM killer ended it in the container's memory cgroup (${v2 ? 'memory.events' : 'memory.oom_control'}: oom_kill ${oom.oomKill}); ` +
    `linux.resources.memory.limit ${limit} bytes is less than the setup needs`;
}

/** LISTEN_FDS is honoured only when LISTEN_PID names this very process (conmon rewrites it for us). */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? 0);
  return process.env.LISTEN_PID === String(process.pid) && Number.isInteger(n) && n > 0 ? n : 0;
}

/** The FAILED frame of the executor, in runc's words where callers match them (caller-contract.md §11.5). */
export function describeFailure(plan: Plan, f: { step: number; errno: number; op: string; path: string }): string {
  const s: Step | undefined = plan.steps[f.step];
  const prefix = 'unable to start container process: ';
  if (s?.kind === 'resolve') {
    const name = s.name;
    if (f.errno === 2) return prefix + (name.includes('/') ? `exec: "${name}": stat ${name}: no such file or directory` : `exec: "${name}": executable file not found in $PATH`);
    if (f.errno === 13) return prefix + `exec: "${name}": permission denied`;
  }
  // runc's words (finalizeNamespace); `docker exec -w /missing` shows them as they are
  if (s?.kind === 'chdir' && f.op === 'chdir') {
    return `${prefix}chdir to cwd (${JSON.stringify(s.path)}) set in config.json failed: ${errnoText(f.errno)}`;
  }
  if (s?.kind === 'chdir' && f.op === 'getcwd') {  // runc verifyCwd, CVE-2024-21626
    return `${prefix}current working directory is outside of container mount namespace root -- possible container breakout detected`;
  }
  // runc's words (standard_init / apparmor changeOnExec); podman spots LSM errors by the /proc/…/attr/… path
  if (s?.kind === 'lsmLabel' && f.op === 'write' && s.value.startsWith('exec ') && s.attr.endsWith('exec')) {
    return `${prefix}error during container init: unable to apply apparmor profile: apparmor failed to apply profile: write ${f.path}: ${errnoText(f.errno)}`;
  }
  const where = `step ${f.step + 1}/${plan.steps.length} (${s?.label ?? 'unknown step'})`;
  const what = `${f.op}${f.path ? ' ' + f.path : ''}: ${errnoText(f.errno)}`;
  return `${prefix}error during container init: ${where}: ${what}`;
}

export async function createContainer(env: RuntimeEnv, o: CreateOptions): Promise<Created> {
  validateId(o.id);
  // Relative paths are the caller's, resolved before anything changes directory (caller-contract.md §12).
  const bundle = resolve(o.bundle ?? '.');
  const pidFile = o.pidFile ? resolve(o.pidFile) : undefined;
  const phase = (name: string) => env.log.phase?.(name);
  phase('create: module load');
  const spec = loadConfig(bundle);
  phase('config load and validate');
  checkTerminal(spec, o);
  for (const w of configWarnings(spec)) env.log.warn(formatIssue(w));
  const listen = listenFds();
  for (let fd = 3 + listen; fd < 3 + listen + o.preserveFds; fd++) {
    try { fstatSync(fd); } catch { throw usage(`unable to stat preserved-fd ${fd - 3 - listen} (of ${o.preserveFds}): bad file descriptor`); }
  }
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : join(bundle, spec.root!.path);
  checkRootfs(rootfs);

  ensureRoot(env.root);
  const dir = join(env.root, o.id);
  const lock = await lockContainer(dir);
  phase('lock');
  let st: StoredState | undefined;
  let run: ExecutorRun | undefined;
  let console: ConsoleConn | undefined;
  let listener: ListenerConn | undefined;
  let ttyPair: [number, number] | undefined;
  let fds: number[] = [];
  let idmapUserns = new Map<number, number>();
  const executorPath = join(env.pkgRoot, 'dist', 'libexec', 'tsrun-executor');
  let plan: Plan | undefined;
  let scope: OpenScope | undefined;
  let unitStart: Promise<void> | undefined;
  try {
    claim(env.root, o.id);
    const self = readStat(process.pid)!;
    st = {
      schemaVersion: 1, id: o.id, ociVersion: spec.ociVersion ?? SPEC_VERSION, pid: 0, startTime: 0, bundle, rootfs,
      created: nowRfc3339Nano(), owner: '', ...(spec.annotations ? { annotations: spec.annotations } : {}),
      recorded: 'creating', creator: { pid: process.pid, startTime: self.startTime },
      cgroup: { paths: {}, created: [] },
      hooks: { ...(spec.hooks?.poststart ? { poststart: spec.hooks.poststart as HookSpec[] } : {}), ...(spec.hooks?.poststop ? { poststop: spec.hooks.poststop as HookSpec[] } : {}) },
      sharedPidNs: !spec.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path),
      namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type),
      terminal: Boolean(spec.process?.terminal),
      ...(o.noNewKeyring ? { noNewKeyring: true } : {}),
      ...(spec.process?.consoleSize ? { consoleSize: spec.process.consoleSize } : {}),
      // what `exec` inherits (runc keeps the config in its state): the process defaults and the seccomp filter
      config: { process: spec.process, ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}) },
    };
    // no mount namespace: what delete must detach in ours (runc leaves these mounts behind)
    if (!spec.linux?.namespaces?.some((n) => n.type === 'mount')) st.hostMounts = recordHostMounts(rootfs);
    save(env.root, st);

    const mounts = hostCgroupMounts();
    if (env.systemdCgroup) {
      // systemd driver: connect first (no bus → nothing made); the scope's directories are made and joined as with
      // cgroupfs, and the transient unit adopts the init as soon as it is forked (unitReady below)
      const unit = parseSystemdCgroupsPath(spec.linux?.cgroupsPath, o.id);
      scope = await (await import('../linux/cgroups/systemd.js')).openScope({ unit, resources: fromSpec(spec.linux?.resources, spec.linux?.devices), annotations: spec.annotations, v2: mounts.mode === 'v2' }, (m) => env.log.warn(m));
      st.cgroup.paths = systemdCgroupPaths(unit, mounts);
      st.cgroup.systemd = { unit: unit.unit, slice: unit.slice };
      phase('systemd: connected');
    } else {
      st.cgroup.paths = resolveCgroupPaths(spec.linux?.cgroupsPath, o.id, mounts);
    }
    st.cgroup.created = createCgroups(st.cgroup.paths, mounts);
    // systemd owns the slices: only the unit's own directories are ours to remove (runc RemovePaths)
    if (st.cgroup.systemd) { const own = new Set(Object.values(st.cgroup.paths)); st.cgroup.created = st.cgroup.created.filter((d) => own.has(d)); }
    save(env.root, st);
    // A process that joins a frozen cgroup stops at once: create would wait for it forever (runc checks too).
    const frozen = freezerState(st.cgroup.paths);
    if (frozen === 'FROZEN' || frozen === 'FREEZING') {
      const where = st.cgroup.paths.freezer ? join(st.cgroup.paths.freezer, 'freezer.state') : join(st.cgroup.paths.unified!, 'cgroup.freeze');
      throw new TsrunError('ERR_TSRUN_CGROUP', `container's cgroup unexpectedly frozen (${where}: ${frozen})`, {
        hint: 'is a paused container using the same cgroupsPath? resume it, or give this one a cgroupsPath of its own',
      });
    }
    applyConfigResources(env, dir, spec, st.cgroup.paths, mounts); // linux.resources, before the init joins
    phase('state dir and cgroups');

    // Foreground `run` of a terminal container: we are the console socket's receiver ourselves (runc run -t).
    if (o.foreground && st.terminal && !o.consoleSocket) ttyPair = await (await import('../linux/tty-proxy.js')).consolePair();
    const ctx = compileContextFor(env, spec, ttyPair ? { ...o, consoleSocket: '<tsrun run: terminal>' } : o, { bundle, rootfs, dir, listen, cgroupPaths: st.cgroup.paths, mounts, writeSeccompCache: true });
    const compiled = compile(spec, ctx);
    plan = compiled.plan;
    for (const w of compiled.warnings) env.log.warn(w);
    phase(`compile (${plan.steps.length} steps)`);

    if (o.consoleSocket) console = await connectConsoleSocket(o.consoleSocket);
    else if (ttyPair) console = { fd: ttyPair[1], close: () => { try { closeSync(ttyPair![1]); } catch { /* closed */ } } };
    const listenerSrc = plan.fds.find((f) => f.kind === 'seccompListener');
    if (listenerSrc?.kind === 'seccompListener') listener = await connectListener(listenerSrc.path);
    idmapUserns = await makeIdmapUsernses(plan, executorPath);
    fds = openPlanFds(plan, { console, listener, logFd: () => env.log.fd(), idmapUserns });
    const passThrough: Array<'inherit' | 'ignore' | number> = st.terminal ? ['ignore', 'ignore', 'ignore'] : ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < 3 + listen + o.preserveFds; fd++) passThrough.push(fd);
    const cur = st;
    const thePlan = plan;
    let startSynced = false;
    // run mode has no READY: setup is over once `sync start` has been answered. Waiting for `done` would hold
    // the container's lock until the container ends.
    let markStarted!: () => void;
    const startedSync = new Promise<{ kind: 'started' }>((res) => { markStarted = () => res({ kind: 'started' }); });
    // systemd: StartTransientUnit(PIDs=[init]) once forked; awaited before hooks run, before `start`, before
    // `created` — so the unit holds the init before anything of the user's runs. Then, as runc's Set after Apply,
    // our cgroupfs values again: systemd may have rewritten what it manages (v1 devices: allow-all).
    const unitReady = () => (unitStart ??= started.forked.then(async (pid) => {
      if (!pid) throw new TsrunError('ERR_TSRUN_INIT', 'the executor never reported the container\'s pid');
      await scope!.start(pid);
      applyResources(cur.cgroup.paths, fromSpec(spec.linux?.resources, spec.linux?.devices), mounts);
      phase('systemd: unit started');
    }));
    const started = startExecutor({
      executorPath,
      plan: encodePlan(plan),
      stdio: passThrough,
      table: fds,
      onSync: async (_step: number, token: number) => {
        if (BigInt(token) === SYNC_TOKEN.idmap) {
          writeIdMaps(started.pid, spec.linux?.uidMappings ?? [], spec.linux?.gidMappings ?? [], undefined);
          return;
        }
        if (BigInt(token) === SYNC_TOKEN.hooks) {
          phase('executor: sync hooks');
          if (scope) await unitReady();
          const json = JSON.stringify(ociState(env.root, cur, 'creating'));
          await runHooks('prestart', spec.hooks?.prestart as HookSpec[] | undefined, json);
          await runHooks('createRuntime', spec.hooks?.createRuntime as HookSpec[] | undefined, json);
          // Two states, NUL-separated: createContainer hooks get "creating", startContainer hooks "created" (runc).
          return Buffer.from(JSON.stringify(ociState(env.root, cur, 'creating')) + '\0' + JSON.stringify(ociState(env.root, cur, 'created')));
        }
        if (BigInt(token) === SYNC_TOKEN.start) {
          startSynced = true;
          phase('executor: sync start');
          if (scope) await unitReady();
          if (cur.hostMounts) cur.hostMounts = findBind(cur.hostMounts);
          cur.recorded = 'running';
          delete cur.creator;
          save(env.root, cur);
          if (pidFile) writePidFile(pidFile, cur.pid);
          await o.onStart?.(cur, ttyPair?.[0]);
          queueMicrotask(markStarted);
          // startContainer hooks (run in the container after this) read the state on stdin.
          return Buffer.from('\0' + JSON.stringify(ociState(env.root, cur, 'created')));
        }
        if (BigInt(token) === SYNC_TOKEN.seccomp) {
          // runc's message to the seccomp agent: the init's host pid and the state (status creating)
          const pid = (await started.forked) ?? 0;
          return Buffer.from(containerProcessState(SPEC_VERSION, pid, spec.linux?.seccomp?.listenerMetadata, { ...ociState(env.root, cur, 'creating'), pid }));
        }
        throw new TsrunError('ERR_TSRUN_PROTOCOL', `executor asked for unknown sync token ${token} at step ${_step}`);
      },
    });
    run = started;
    phase('spawn executor');
    started.forked.then((pid) => {
      if (!pid) return;
      if (scope) unitReady().catch(() => {}); // its failure is seen where it is awaited
      cur.pid = pid;
      cur.startTime = readStat(pid)?.startTime ?? 0;
      save(env.root, cur);
    }, () => {});
    const done = await Promise.race([started.done, startedSync]);
    phase(`executor: ${done.kind}`);
    if (done.kind === 'started') return { state: st, executor: started, ...(ttyPair ? { consolePeer: ttyPair[0] } : {}) };
    if (done.kind === 'failed') throw new TsrunError('ERR_TSRUN_INIT', describeFailure(thePlan, done));
    if (done.kind === 'rejected') throw new TsrunError('ERR_TSRUN_PROTOCOL', `the executor rejected the plan at step ${done.step} (byte ${done.offset}): ${done.reason}`, { hint: 'tsrun and its executor disagree: rebuild with `npm run build`' });
    if (done.kind === 'aborted') throw done.error instanceof TsrunError ? done.error : new TsrunError('ERR_TSRUN_INIT', `container setup aborted: ${(done.error as Error)?.message ?? done.error}`, { cause: done.error });
    if (done.kind === 'exited' && !(o.mode === 'run' && startSynced)) throw new TsrunError('ERR_TSRUN_INIT', await setupExitText(done, st, spec));
    if (!(await started.forked)) throw new TsrunError('ERR_TSRUN_INIT', 'the executor never reported the container\'s pid');
    if (scope) await unitReady();
    if (o.mode === 'create') {
      if (st.hostMounts) st.hostMounts = findBind(st.hostMounts);
      st.recorded = 'created';
      delete st.creator;
      save(env.root, st);
      if (pidFile) writePidFile(pidFile, st.pid);
    }
    return { state: st, executor: started };
  } catch (e) {
    if (unitStart) await unitStart.catch(() => {}); // a unit still being started would race its StopUnit
    if (st) {
      if (st.pid === 0 && run) st.pid = (await run.forked) ?? 0;
      await cleanupFailed(env, st, run);
    } else if (!(e instanceof TsrunError && e.code === 'ERR_TSRUN_EXISTS')) {
      remove(env.root, o.id);
    }
    throw e;
  } finally {
    if (plan) closeOwned(plan, fds);
    closeAll(idmapUserns);
    console?.close();
    listener?.close();
    scope?.close();
    lock.release();
  }
}

async function cleanupFailed(env: RuntimeEnv, st: StoredState, run: ExecutorRun | undefined): Promise<void> {
  try {
    // Our processes by pid, never the whole cgroup (destroy: it may hold someone else's): the init (its pid
    // namespace dies with it) and the executor, our child, which may be in the cgroup without having forked yet.
    if (st.pid > 0) try { process.kill(st.pid, 'SIGKILL'); } catch { /* gone */ }
    if (run && run.pid > 0) {
      run.child.kill('SIGKILL');  // a no-op once Node has reaped it: never a recycled pid
      // bounded like waitInitGone: a cgroup frozen meanwhile holds SIGKILL back, and destroy reports what is left
      await Promise.race([run.exit, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    if (st.pid > 0) await waitInitGone(st, 10_000);
    // runtime-spec: a failed create continues the lifecycle at delete, which runs the poststop hooks.
    await destroy(env, st, { runPoststop: st.pid > 0 });
  } catch (e) {
    env.log.debug(`cleanup after failed create: ${(e as Error).message}`);
    remove(env.root, st.id);
  }
}

/** Everything compile() needs besides config.json; shared with `explain`, which creates nothing. */
export function compileContextFor(env: RuntimeEnv, spec: Spec, o: Pick<CreateOptions, 'id' | 'mode' | 'foreground' | 'subreaper' | 'consoleSocket' | 'noPivot' | 'noNewKeyring' | 'preserveFds'>,
  h: { bundle: string; rootfs: string; dir: string; listen: number; cgroupPaths: Record<string, string>; mounts: ReturnType<typeof hostCgroupMounts>; writeSeccompCache: boolean }): CompileContext {
  return {
    id: o.id, bundle: h.bundle, rootfs: h.rootfs, mode: o.mode, foreground: o.foreground, subreaper: o.subreaper, stateDir: h.dir,
    ...(o.consoleSocket ? { consoleSocket: o.consoleSocket } : {}),
    noPivot: o.noPivot, noNewKeyring: o.noNewKeyring, preserveFds: o.preserveFds, listenFds: h.listen,
    cgroupProcs: Object.values(h.cgroupPaths).map((d) => join(d, 'cgroup.procs')),
    cgroupMounts: cgroupMountsFor(h.cgroupPaths, h.mounts),
    log: Boolean(env.log.path), logJson: env.log.format === 'json',
    lastCap: lastCap(), sourceKind, statPath, ...rootfsMountPoint(h.rootfs), lsm: hostLsm(),
    ...(spec.linux?.seccomp ? { seccomp: seccompFor(env, spec, h.writeSeccompCache) } : {}),
  };
}

/** linux.seccomp → BPF: from the cache of compiled filters, else with libseccomp (loads koffi). */
function seccompFor(env: RuntimeEnv, spec: Spec, write: boolean): NonNullable<CompileContext['seccomp']> {
  const { compiled: c, hit } = cachedCompileSeccomp(spec.linux!.seccomp!, compileSeccomp, {
    dir: seccompCacheDir(env.root), buildInfo: join(env.pkgRoot, 'dist', 'build-info.json'), write, log: env.log,
  });
  env.log.debug(`seccomp: ${hit ? 'compiled filter from the cache' : 'compiled with libseccomp'} (${c.program.length / 8} instructions)`);
  for (const w of c.warnings) env.log.warn(w);
  // runc: `unknown seccomp syscall %q ignored`, at debug level (profiles name syscalls of newer kernels)
  for (const n of c.unknownSyscalls) env.log.debug(`unknown seccomp syscall ${JSON.stringify(n)} ignored`);
  return { program: c.program, flags: c.flags, notify: c.notify };
}

function cgroupMountsFor(paths: Record<string, string>, mounts: ReturnType<typeof hostCgroupMounts>): CompileContext['cgroupMounts'] {
  const v1 = mounts.v1.map((h) => {
    const key = h.controllers.join(',');
    return { dir: h.mountpoint.slice(h.mountpoint.lastIndexOf('/') + 1), data: key, hostPath: paths[key]! };
  }).filter((h) => h.hostPath);
  const links: { name: string; target: string }[] = [];
  for (const h of v1) {
    const parts = h.data.split(',').filter((c) => !c.startsWith('name='));
    if (parts.length > 1) for (const p of parts) if (p !== h.dir) links.push({ name: p, target: h.dir });
  }
  return { v1, links, ...(paths.unified && mounts.mode === 'v2' ? { v2: { hostPath: paths.unified } } : {}) };
}


function statPath(p: string): { uid: number; gid: number; mode: number } | undefined {
  try {
    const s = statSync(p);
    return { uid: s.uid, gid: s.gid, mode: s.mode };
  } catch {
    return undefined;
  }
}

function sourceKind(p: string): 'dir' | 'file' | 'missing' | 'other' {
  try {
    const s = statSync(p);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * The host mount point holding the rootfs: the longest mount point in /proc/self/mountinfo that is a prefix of the
 * rootfs's real path. compile() makes it private (slave) in the container's mount namespace before binding the
 * rootfs, as runc's rootfsParentMountPrivate: pivot_root refuses a shared parent, and a bind under one would
 * propagate to the host.
 */
function rootfsMountPoint(rootfs: string): { rootfsMountPoint?: string } {
  let real: string;
  let text: string;
  try {
    real = realpathSync(rootfs);
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return {}; // a missing rootfs fails later, with its own error
  }
  let best = '';
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if ((point === '/' || real === point || real.startsWith(point + '/')) && point.length > best.length) best = point;
  }
  return best ? { rootfsMountPoint: best } : {};
}
