/**
 * `tsrun explain`: a compiled plan as text for people (explain) and as stable text for golden tests (canonical).
 * Pure: returns lines, the CLI prints them. Environment values are hidden unless showEnv (they often hold secrets).
 *
 * Host actions are shown where they happen: before the spawn (the fd table), at each `sync`, and at `ready`.
 */
import type { Spec } from '../spec/types.js';
import { capNames } from './caps.js';
import { CLONE, flagNames, MOUNT_ATTR_NAMES, MS_NAMES, S_IFBLK, S_IFCHR, S_IFIFO, S_IFMT } from './constants.js';
import type { CompileContext, Compiled } from './context.js';
import { optionNames, propagationName } from './mount-options.js';
import { signalName } from './signals.js';
import { MOUNT_OPT, PLAN_VERSION, STEP_FIELDS, STEP_FLAG, SYNC_TOKEN, type Plan, type Step } from './steps.js';

export interface ExplainOptions {
  spec: Spec;
  ctx: CompileContext;
  /** Print environment values (exec and hooks); otherwise only the names. */
  showEnv?: boolean;
  /** Fold runs of ≥ 3 steps of the same kind (mknod, symlink, mask, readonly, sysctl, rlimit) into one line. Default true. */
  fold?: boolean;
}

/** CLONE_NEWPID|CLONE_NEWNS … as the kernel headers spell them. */
const CLONE_FLAG_NAMES = Object.entries(CLONE).map(([k, v]) => [v, `CLONE_${k}`] as const);

const FOLDABLE = new Set<Step['kind']>(['mknod', 'symlink', 'mask', 'readonly', 'sysctl', 'rlimit']);

export function explain(compiled: Compiled, opts: ExplainOptions): string[] {
  const { plan, warnings } = compiled;
  const { spec, ctx } = opts;
  const out: string[] = [];
  out.push(`plan v${PLAN_VERSION} · bundle ${ctx.bundle} · container ${JSON.stringify(ctx.id)} · ${plan.steps.length} executor steps · ${ctx.mode}${ctx.foreground ? ' (foreground)' : ''}`);
  out.push('');
  out.push('host, before the executor starts');
  if (ctx.mode === 'create') out.push(`  state      ${ctx.stateDir}: state.json (creating)`);
  if (ctx.cgroupProcs.length) {
    out.push(`  cgroup     create the container's cgroup (${ctx.cgroupProcs.length} cgroup.procs file${ctx.cgroupProcs.length > 1 ? 's' : ''}) and apply linux.resources`);
    // device rules: linux.resources.devices, then runc's default allow list
    if (ctx.cgroupMounts.v2) out.push('             device rules: an eBPF program attached to it (BPF_CGROUP_DEVICE)');
    else if (ctx.cgroupMounts.v1.some((h) => h.data.split(',').includes('devices'))) out.push('             device rules: devices.allow / devices.deny');
  }
  plan.fds.forEach((f, i) => out.push(`  fd ${String(i).padEnd(7)} ${fdText(f)}`));
  if (plan.slots) out.push(`  slots      ${plan.slots} (filled by mkfifo: fd ${plan.fds.length}${plan.slots > 1 ? `–${plan.fds.length + plan.slots - 1}` : ''})`);
  out.push(`  spawn      tsrun-executor · fd 0-2 the caller's stdio${ctx.listenFds + ctx.preserveFds ? ` · fd 3-${2 + ctx.listenFds + ctx.preserveFds} passed through (LISTEN_FDS ${ctx.listenFds}, --preserve-fds ${ctx.preserveFds})` : ''} · then the control socket`);
  out.push('');
  out.push('executor');
  const steps = plan.steps;
  const fold = opts.fold ?? true;
  for (let i = 0; i < steps.length;) {
    const s = steps[i]!;
    let j = i + 1;
    if (fold && FOLDABLE.has(s.kind)) while (j < steps.length && steps[j]!.kind === s.kind && steps[j]!.flags === s.flags) j++;
    if (fold && j - i >= 3) {
      const run = steps.slice(i, j);
      out.push(`${`${i + 1}–${j}`.padStart(7)}  ${s.kind.padEnd(12)} ${run.map(short).join(' · ')}${s.flags ? `   [${stepFlags(s.flags)}]` : ''}`);
      i = j;
      continue;
    }
    out.push(`${String(i + 1).padStart(7)}  ${s.kind.padEnd(12)} ${s.label}${s.flags ? `   [${stepFlags(s.flags)}]` : ''}`);
    for (const d of detail(s, opts)) out.push(' '.repeat(23) + d);
    for (const h of hostAt(s, spec, ctx)) out.push(' '.repeat(9) + 'host  ' + h);
    i = i + 1;
  }
  if (warnings.length) {
    out.push('');
    out.push('warnings');
    for (const w of warnings) out.push(`  ${w}`);
  }
  return out;
}

function fdText(f: Plan['fds'][number]): string {
  switch (f.kind) {
    case 'path': return `${f.path} (${f.flags === 'dir' ? 'O_PATH directory' : f.flags === 'read' ? 'O_RDONLY' : 'O_WRONLY'}) · ${f.what}`;
    case 'consoleSocket': return `${f.path} (connected unix socket) · ${f.what}`;
    case 'seccompListener': return `${f.path} (connected unix socket) · ${f.what}`;
    case 'log': return f.what;
    case 'idmapUserns': return `a new user namespace, made by tsrun before the executor starts · ${f.what}`;
  }
}

function stepFlags(flags: number): string {
  const n: string[] = [];
  if (flags & STEP_FLAG.OK_ENOENT) n.push('skip if missing');
  if (flags & STEP_FLAG.SKIP_SETGROUPS) n.push('no setgroups');
  const rest = flags & ~(STEP_FLAG.OK_ENOENT | STEP_FLAG.SKIP_SETGROUPS);
  if (rest) n.push(`0x${rest.toString(16)}`);
  return n.join(', ');
}

/** The distinctive part of a step in a folded run. */
function short(s: Step): string {
  switch (s.kind) {
    case 'mknod': return `${s.path} ${devText(s.mode, s.dev)}${s.opts & MOUNT_OPT.BIND_FD ? ' (bind of the host node)' : ''}`;
    case 'symlink': return `${s.path}→${s.linkTarget}`;
    case 'mask': case 'readonly': return s.path;
    case 'sysctl': return `${s.path.replace('/proc/sys/', '')}=${s.value}`;
    case 'rlimit': return s.label.replace(/^rlimit /, '');
    default: return s.label;
  }
}

function devText(mode: bigint, dev: bigint): string {
  const t = mode & S_IFMT;
  const type = t === S_IFCHR ? 'c' : t === S_IFBLK ? 'b' : t === S_IFIFO ? 'p' : '?';
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${type} ${major}:${minor} ${(mode & 0o7777n).toString(8).padStart(4, '0')}`;
}

function envText(envp: readonly string[], show: boolean | undefined): string {
  if (show) return envp.join(' ');
  return envp.map((kv) => kv.slice(0, Math.max(0, kv.indexOf('=')))).join(' ') + ' (values hidden; --show-env)';
}

/** Decoded fields worth a second line. */
function detail(s: Step, opts: ExplainOptions): string[] {
  switch (s.kind) {
    case 'unshare': return [flagNames(s.cloneFlags, CLONE_FLAG_NAMES)];
    case 'mount': {
      const d = [`${s.fstype || '(bind)'} ${s.source} → ${s.target} · flags ${flagNames(s.mountFlags, MS_NAMES)}${s.data ? ` · data ${s.data}` : ''}`];
      const extra: string[] = [];
      if (s.remountFlags) extra.push(`remount ${optionNames(s.remountFlags) || flagNames(s.remountFlags, MS_NAMES)}`);
      if (s.propagation) extra.push(`propagation ${propagationName(s.propagation)}`);
      if (s.attrSet || s.attrClr) extra.push(`mount_setattr +${flagNames(s.attrSet, MOUNT_ATTR_NAMES)} -${flagNames(s.attrClr, MOUNT_ATTR_NAMES)}`);
      const o: string[] = [];
      if (s.opts & MOUNT_OPT.BIND_FD) o.push('source opened on the host');
      if (s.opts & MOUNT_OPT.MKDIR) o.push('mkdir target');
      if (s.opts & MOUNT_OPT.MKFILE) o.push('create target file');
      if (s.opts & MOUNT_OPT.TARGET_MUST_BE_DIR) o.push('target must be a real directory');
      if (extra.length || o.length) d.push([...extra, ...o].join(' · '));
      return d;
    }
    case 'propagation': return [`mount(NULL, ${s.hostPath}, NULL, ${flagNames(s.mountFlags, MS_NAMES)})`];
    case 'remount': return [`MS_REMOUNT|MS_BIND|${flagNames(s.mountFlags, MS_NAMES)}`];
    case 'mknod': return [`${devText(s.mode, s.dev)} uid ${s.uid} gid ${s.gid}${s.opts & MOUNT_OPT.BIND_FD ? ' · bind of the host node' : ''}`];
    case 'pdeathsig': return [signalName(Number(s.signal))];
    case 'setns': return [`fd ${s.ns} · ${flagNames(s.nstype, CLONE_FLAG_NAMES)}`];
    case 'cgroupJoin': return [`write 0 to fd ${s.procs}`];
    case 'capsBounding': return [`drop every other capability from the bounding set (${capNames(s.keep).length} kept)`];
    case 'exec': return [
      `argv ${JSON.stringify(s.argv)} · ${s.path ? `path ${s.path}` : 'path from resolve'}`,
      `env ${envText(s.envp, opts.showEnv)}`,
      `signals reset · fds ≥ ${s.keepFds} closed`,
    ];
    case 'hook': return [`argv ${JSON.stringify(s.argv)} · env ${s.envp.length ? envText(s.envp, opts.showEnv) : '(empty)'} · state JSON on stdin`];
    case 'resolve': return [s.searchPath.length ? `search ${s.searchPath.join(':')}` : 'as given'];
    case 'mkfifo': return [`mode ${s.mode.toString(8).padStart(4, '0')} · owner ${s.uid}:${s.gid} · into fd ${s.slot}`];
    case 'waitStart': return [`fd ${s.fifo}: open for writing blocks until tsrun start reads it`];
    default: return [];
  }
}

/** What the host does when the executor reaches this step. */
function hostAt(s: Step, spec: Spec, ctx: CompileContext): string[] {
  if (s.kind === 'sync') {
    if (s.token === SYNC_TOKEN.idmap) {
      const m = (l: { containerID: number; hostID: number; size: number }[] | undefined) => (l ?? []).map((x) => `${x.containerID} ${x.hostID} ${x.size}`).join(', ') || '(none)';
      return [`write uid_map ${m(spec.linux?.uidMappings)}; gid_map ${m(spec.linux?.gidMappings)}; then RESUME`];
    }
    if (s.token === SYNC_TOKEN.hooks) {
      const names = [...(spec.hooks?.prestart ?? []).map((h) => `prestart ${h.path}`), ...(spec.hooks?.createRuntime ?? []).map((h) => `createRuntime ${h.path}`)];
      return [`${names.length ? `run ${names.join(', ')}` : 'no host hooks'}; RESUME with the state JSON`];
    }
    if (s.token === SYNC_TOKEN.start) return ['write the pidfile and state (running); RESUME; then poststart hooks'];
  }
  if (s.kind === 'fork') return ['learns the init\'s host pid (FORKED)'];
  if (s.kind === 'seccompListener') return ['RESUME with the container process state for the agent (pid, state, metadata)'];
  if (s.kind === 'ready') return [`write the pidfile and state.json (created); ${ctx.mode === 'create' ? '`tsrun create` exits' : ''}`];
  return [];
}

/**
 * A stable, complete rendering for golden tests and for comparing with the executor's plan dump: one line per fd
 * and per step; every field in wire order; u64 in decimal, strings JSON-quoted, bytes in hex.
 */
export function canonical(plan: Plan): string[] {
  const out: string[] = [`plan v${PLAN_VERSION} fds=${plan.fds.length} slots=${plan.slots} steps=${plan.steps.length}`];
  plan.fds.forEach((f, i) => out.push(`fd ${i} ${f.kind}${'path' in f ? ` ${JSON.stringify(f.path)}` : ''}${f.kind === 'path' ? ` ${f.flags}` : ''}`));
  plan.steps.forEach((s, i) => {
    const rec = s as unknown as Record<string, unknown>;
    const fields = STEP_FIELDS[s.kind].map(([name, t]) => `${name}=${fieldText(rec[name], t)}`);
    out.push(`${i + 1} ${s.kind} flags=${s.flags ?? 0} label=${JSON.stringify(s.label)}${fields.length ? ' ' + fields.join(' ') : ''}`);
  });
  return out;
}

function fieldText(v: unknown, t: string): string {
  switch (t) {
    case 'u': case 'f': return String(v);
    case 's': return JSON.stringify(v);
    case 'v': return JSON.stringify(v);
    case 'U': return `[${(v as bigint[]).join(',')}]`;
    case 'b': return Buffer.from(v as Uint8Array).toString('hex');
    default: return String(v);
  }
}

