import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TsrunError } from '../errors.js';
import type { Process } from '../spec/types.js';
import { encodePlan } from './encode.js';
import { applyExecFlags, capName, compileExec, cpuListMask, parseSubCgroups, type ExecContext, type ExecTarget } from './exec.js';
import { CLONE } from './constants.js';
import { STEP_FLAG, type Step } from './steps.js';

const CAP = (n: number) => 1n << BigInt(n);
const proc = (over: Partial<Process> = {}): Process => ({
  cwd: '/', args: ['sh'], env: ['PATH=/usr/bin:/bin'], user: { uid: 0, gid: 0 },
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  ...over,
});
const ns = (...types: ExecTarget['namespaces'][number]['type'][]) => types.map((type) => ({ type, path: `/proc/42/ns/${type}` }));
const target = (over: Partial<ExecTarget> = {}): ExecTarget => ({
  namespaces: ns('pid', 'mount', 'network', 'ipc', 'uts', 'cgroup'),
  cgroupProcs: ['/sys/fs/cgroup/pids/c/cgroup.procs', '/sys/fs/cgroup/unified/c/cgroup.procs'],
  ...over,
});
const ctx = (over: Partial<ExecContext> = {}): ExecContext => ({ detach: true, preserveFds: 0, log: false, logJson: false, lastCap: 40, ...over });
const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const all = <K extends Step['kind']>(steps: Step[], kind: K) => steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
const one = <K extends Step['kind']>(steps: Step[], kind: K) => {
  const r = all(steps, kind);
  assert.is(r.length, 1, `exactly one ${kind}`);
  return r[0]!;
};
const at = (steps: Step[], kind: Step['kind']) => steps.findIndex((s) => s.kind === kind);
const lastAt = (steps: Step[], kind: Step['kind']) => steps.map((s) => s.kind).lastIndexOf(kind);
function throws(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, TsrunError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
}

test('joins every namespace given, pid/time before the fork, then cgroups, attributes, exec; no mount steps', () => {
  const { plan } = compileExec(proc(), target({ namespaces: ns('pid', 'mount', 'network', 'ipc', 'uts', 'cgroup', 'time') }), ctx());
  const s = plan.steps;
  const setns = all(s, 'setns');
  assert.equal(setns.map((x) => x.nstype), [CLONE.NEWIPC, CLONE.NEWUTS, CLONE.NEWNET, CLONE.NEWPID, CLONE.NEWNS, CLONE.NEWCGROUP, CLONE.NEWTIME]);
  const fork = at(s, 'fork');
  assert.ok(lastAt(s, 'setns') < fork, 'every setns (pid and time included) before the fork');
  assert.ok(at(s, 'cgroupJoin') > fork, 'the first process stays out of the container\'s cgroup');
  assert.is(all(s, 'cgroupJoin').length, 2);
  for (const k of ['unshare', 'mount', 'rootfsBind', 'pivotRoot', 'mkfifo', 'ready', 'waitStart', 'sync', 'hostname'] as const) assert.is(all(s, k).length, 0, `no ${k}`);
  assert.ok(at(s, 'chdir') < at(s, 'user') && at(s, 'capsBounding') < at(s, 'user') && at(s, 'user') < at(s, 'caps'));
  assert.ok(at(s, 'caps') < at(s, 'resolve') && at(s, 'resolve') === s.length - 2 && s[s.length - 1]!.kind === 'exec');
  // the fd table: one read-only fd per namespace, one write-only per cgroup.procs, in the order the steps use
  assert.equal(plan.fds.map((f) => (f.kind === 'path' ? f.flags : f.kind)), ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'write', 'write']);
  assert.equal(setns.map((x) => (plan.fds[x.ns] as { path: string }).path).sort(), ns('pid', 'mount', 'network', 'ipc', 'uts', 'cgroup', 'time').map((n) => n.path).sort());
  assert.is(plan.slots, 0);
  encodePlan(plan); // the executor's contract holds
});

test('detached: fork mode 0, no pdeathsig; foreground: mode 1 with pdeathsig around the fork and after the ids', () => {
  const d = compileExec(proc(), target(), ctx({ detach: true })).plan.steps;
  assert.is(one(d, 'fork').mode, 0n);
  assert.is(all(d, 'pdeathsig').length, 0);
  const f = compileExec(proc(), target(), ctx({ detach: false })).plan.steps;
  assert.is(one(f, 'fork').mode, 1n);
  const pd = f.map((x, i) => (x.kind === 'pdeathsig' ? i : -1)).filter((i) => i >= 0);
  assert.is(pd.length, 3);
  assert.ok(pd[0]! < at(f, 'fork') && pd[1]! > at(f, 'fork') && pd[2]! > at(f, 'caps'));
});

test('user namespace: joined last as root on the host (others first), first when rootless; then become root', () => {
  const t = target({ namespaces: ns('user', 'mount', 'pid'), uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] });
  const rootful = compileExec(proc(), t, ctx()).plan.steps;
  const order = all(rootful, 'setns').map((x) => x.nstype);
  assert.equal(order, [CLONE.NEWPID, CLONE.NEWNS, CLONE.NEWUSER]);
  const iu = rootful.findIndex((x) => x.kind === 'setns' && x.nstype === CLONE.NEWUSER);
  const become = rootful[iu + 1]!;
  assert.ok(become.kind === 'user' && become.uid === 0n && become.flags === STEP_FLAG.SKIP_SETGROUPS, 'become root right after');
  assert.ok(iu < at(rootful, 'fork'));
  const rootless = compileExec(proc(), t, ctx({ rootless: true })).plan.steps;
  assert.equal(all(rootless, 'setns').map((x) => x.nstype), [CLONE.NEWUSER, CLONE.NEWPID, CLONE.NEWNS]);
  // mapped ids are checked here, with runc's words
  throws(() => compileExec(proc({ user: { uid: 70000, gid: 0 } }), t, ctx()), /cannot setuid to unmapped uid 70000 in user namespace/);
  throws(() => compileExec(proc({ user: { uid: 0, gid: 70000 } }), t, ctx()), /cannot setgid to unmapped gid 70000/);
  // setgroups denied: the final user step skips setgroups
  const denied = compileExec(proc({ user: { uid: 1, gid: 1, additionalGids: [5] } }), { ...t, setgroupsDenied: true }, ctx());
  const u = all(denied.plan.steps, 'user').at(-1)!;
  assert.is(u.flags, STEP_FLAG.SKIP_SETGROUPS);
  assert.ok(denied.warnings.some((w) => w.includes('setgroups is denied')));
});

test('no namespace differs (a container sharing all of ours): no setns at all, still forks and execs', () => {
  const s = compileExec(proc(), target({ namespaces: [] }), ctx()).plan.steps;
  assert.is(all(s, 'setns').length, 0);
  assert.ok(at(s, 'fork') >= 0 && at(s, 'exec') > at(s, 'fork'));
});

test('ids, env, cwd, rlimits, oom and caps: the process first, the container\'s defaults where runc takes them', () => {
  const base: Process = proc({
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }], oomScoreAdj: 300,
    capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
  });
  const p: Process = { cwd: '/tmp', args: ['ls', '-l'], env: ['A=1'], user: { uid: 1000, gid: 100, additionalGids: [5, 6] } };
  const s = compileExec(p, target({ containerProcess: base }), ctx()).plan.steps;
  const u = all(s, 'user').at(-1)!;
  assert.equal([u.uid, u.gid, u.groups], [1000n, 100n, [5n, 6n]]);
  assert.equal(one(s, 'fixStdio'), { kind: 'fixStdio', uid: 1000n, gid: 100n, label: 'chown stdio to 1000:100' });
  assert.is(one(s, 'chdir').path, '/tmp');
  assert.equal(one(s, 'exec').envp, ['A=1', 'HOME=/']);
  assert.equal(one(s, 'exec').argv, ['ls', '-l']);
  assert.is(one(s, 'rlimit').soft, 100n, 'rlimits from the container when the process has none');
  assert.is(one(s, 'oomScoreAdj').value, '300');
  assert.ok(at(s, 'oomScoreAdj') < at(s, 'setns'), 'oom score before joining anything');
  assert.is(one(s, 'caps').effective, CAP(0), 'caps from the container when the process has none');
  // the process's own win
  const own = compileExec({ ...p, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 7, hard: 7 }], capabilities: { effective: ['CAP_KILL'], permitted: ['CAP_KILL'], bounding: ['CAP_KILL'] } },
    target({ containerProcess: base }), ctx()).plan.steps;
  assert.is(one(own, 'rlimit').soft, 7n);
  assert.is(one(own, 'caps').effective, CAP(5));
  // root gets HOME=/root and no fixStdio; no caps anywhere: the sets are left alone
  const r = compileExec({ cwd: '/', args: ['id'] }, target(), ctx()).plan.steps;
  assert.equal(one(r, 'exec').envp, ['HOME=/root']);
  assert.is(all(r, 'fixStdio').length, 0);
  assert.is(all(r, 'caps').length + all(r, 'capsBounding').length, 0);
});

test('resolve uses the process PATH; exec keeps stdio + --preserve-fds; --log and no_new_privs', () => {
  const { plan } = compileExec(proc({ args: ['top'], env: ['PATH=/a::/b'], noNewPrivileges: true }), target(), ctx({ preserveFds: 2, log: true, logJson: true }));
  const s = plan.steps;
  assert.equal(one(s, 'resolve').searchPath, ['/a', '/b']);
  assert.is(one(s, 'exec').keepFds, 5n);
  assert.is(s[0]!.kind, 'logTo');
  assert.is(one(s, 'logTo').format, 1n);
  assert.is(plan.fds.at(-1)!.kind, 'log');
  assert.ok(at(s, 'noNewPrivs') < at(s, 'capsBounding'));
  assert.equal(one(compileExec(proc({ args: ['/bin/x'] }), target(), ctx()).plan.steps, 'resolve').searchPath, []);
});

test('terminal: a console socket is required; the console step makes no /dev/console and comes before the ids change', () => {
  throws(() => compileExec(proc({ terminal: true }), target(), ctx()), /cannot allocate tty if runc will detach without setting console socket/);
  const { plan } = compileExec(proc({ terminal: true, consoleSize: { height: 30, width: 100 } }), target(), ctx({ consoleSocket: '/tmp/c.sock' }));
  const c = one(plan.steps, 'console');
  assert.is(c.flags, STEP_FLAG.NO_DEV_CONSOLE);
  assert.equal([c.rows, c.cols], [30n, 100n]);
  assert.equal(plan.fds[c.socket], { kind: 'consoleSocket', path: '/tmp/c.sock', what: 'console socket (receives the pty master)' });
  assert.ok(at(plan.steps, 'console') > at(plan.steps, 'cgroupJoin') && at(plan.steps, 'console') < at(plan.steps, 'user'));
  encodePlan(plan);
});

test('seccomp of the container: before the caps without no_new_privs, right before exec with it', () => {
  const sc = { program: new Uint8Array(16), flags: 0n };
  const a = compileExec(proc(), target({ seccomp: sc }), ctx()).plan.steps;
  assert.ok(at(a, 'seccomp') < at(a, 'capsBounding'));
  const b = compileExec(proc({ noNewPrivileges: true }), target({ seccomp: sc }), ctx()).plan.steps;
  assert.is(at(b, 'seccomp'), b.length - 2);
  assert.is(all(b, 'seccompListener').length, 0, 'no listener without NOTIFY');
});

test('SCMP_ACT_NOTIFY: the agent socket in the fd table, seccompListener right before the filter, after the fork', () => {
  const NEW_LISTENER = 1n << 3n;
  const sc = { program: new Uint8Array(16), flags: NEW_LISTENER, notify: true, listenerPath: '/run/agent.sock' };
  for (const [noNewPrivileges, detach] of [[false, true], [true, true], [false, false], [true, false]] as const) {
    const { plan } = compileExec(proc({ noNewPrivileges }), target({ seccomp: sc }), ctx({ detach, log: true }));
    const s = plan.steps;
    const l = one(s, 'seccompListener');
    const f = one(s, 'seccomp');
    assert.equal(plan.fds[l.socket], { kind: 'seccompListener', path: '/run/agent.sock', what: 'seccomp agent socket (receives the listener fd)' });
    assert.is(plan.fds.filter((x) => x.kind === 'seccompListener').length, 1);
    assert.is(s.indexOf(f), s.indexOf(l) + 1, 'the listener step right before the filter');
    assert.is(f.filterFlags & NEW_LISTENER, NEW_LISTENER, 'loaded with NEW_LISTENER');
    // the agent's message carries the exec'd process's host pid: known to the parent only after the fork
    assert.ok(at(s, 'fork') < s.indexOf(l) && lastAt(s, 'cgroupJoin') < s.indexOf(l));
    if (noNewPrivileges) {
      assert.is(s.indexOf(f), s.length - 2, 'with no_new_privs: as close to execve as possible');
      assert.ok(at(s, 'noNewPrivs') < s.indexOf(l) && at(s, 'caps') < s.indexOf(l));
    } else {
      assert.ok(s.indexOf(f) < at(s, 'capsBounding') && s.indexOf(f) < at(s, 'user'), 'privileged: before the caps drop');
    }
    encodePlan(plan); // fd indices inside the table
  }
  throws(() => compileExec(proc(), target({ seccomp: { ...sc, listenerPath: undefined } }), ctx()), /listenerPath: is required when a syscall uses SCMP_ACT_NOTIFY/);
});

test('refused: empty args, relative cwd', () => {
  throws(() => compileExec(proc({ args: [] }), target(), ctx()), /args must not be empty/);
  throws(() => compileExec(proc({ cwd: 'tmp' }), target(), ctx()), /Cwd must be an absolute path/);
});

test('execCPUAffinity: initial before the cgroup, final after; CPU lists', () => {
  const s = compileExec(proc({ execCPUAffinity: { initial: '0', final: '1-2' } }), target(), ctx()).plan.steps;
  const aff = all(s, 'cpuAffinity');
  assert.is(aff.length, 2);
  assert.ok(s.indexOf(aff[0]!) < at(s, 'cgroupJoin') && s.indexOf(aff[1]!) > lastAt(s, 'cgroupJoin'));
  assert.equal([...cpuListMask('0-3,9', 'p')], [0x0f, 0x02, 0, 0, 0, 0, 0, 0]);
  throws(() => cpuListMask('3-1', 'p'), /invalid CPU range/);
  throws(() => cpuListMask('a', 'p'), /invalid CPU list/);
});

test('applyExecFlags: runc getProcess rules', () => {
  const base = proc({ terminal: true, env: ['A=1', 'B=2'], user: { uid: 5, gid: 6, additionalGids: [7] },
    capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] } });
  const p = applyExecFlags(base, { args: ['x', 'y'], env: ['B=3'], tty: false, additionalGids: ['8'], caps: ['net_admin', 'CAP_KILL'], cwd: '/w', user: '10' });
  assert.equal(p.args, ['x', 'y']);
  assert.equal(p.env, ['A=1', 'B=2', 'B=3']);
  assert.is(p.terminal, false, 'the container\'s terminal is not inherited');
  assert.equal(p.user, { uid: 10, gid: 6, additionalGids: [7, 8] }, 'uid only: the gid stays');
  assert.is(p.cwd, '/w');
  assert.equal(p.capabilities, { bounding: ['CAP_KILL', 'CAP_NET_ADMIN'], effective: ['CAP_KILL', 'CAP_NET_ADMIN'], permitted: ['CAP_KILL', 'CAP_NET_ADMIN'] });
  assert.equal(base.env, ['A=1', 'B=2'], 'the base is not changed');
  assert.equal(applyExecFlags(base, { args: ['x'], env: [], tty: true, additionalGids: [], caps: [], user: '1:2' }).user, { uid: 1, gid: 2, additionalGids: [7] });
  assert.is(applyExecFlags(base, { args: ['x'], env: [], tty: false, additionalGids: [], caps: [], noNewPrivs: true }).noNewPrivileges, true);
  for (const [u, re] of [['x', /parsing x as int for uid failed: strconv.Atoi: parsing "x": invalid syntax/], ['1:x', /parsing x as int for gid failed/],
    ['-1', /invalid syntax/], ['1:', /for gid failed/], ['99999999999', /value out of range/], ['4294967295', /value out of range/]] as const) {
    throws(() => applyExecFlags(base, { args: ['x'], env: [], tty: false, additionalGids: [], caps: [], user: u }), re);
  }
  throws(() => applyExecFlags(base, { args: ['x'], env: [], tty: false, additionalGids: ['-1'], caps: [] }), /additional-gids must be a positive number -1/);
});

test('--cap never adds inheritable; ambient only when an inheritable set lists it (security.md D9)', () => {
  const noInh = applyExecFlags(proc(), { args: ['x'], env: [], tty: false, additionalGids: [], caps: ['CAP_NET_ADMIN'] });
  assert.is(noInh.capabilities!.inheritable, undefined);
  assert.is(noInh.capabilities!.ambient, undefined);
  const withInh = applyExecFlags(proc({ capabilities: { inheritable: ['CAP_NET_RAW'], permitted: [], effective: [], bounding: [] } }),
    { args: ['x'], env: [], tty: false, additionalGids: [], caps: ['CAP_NET_ADMIN', 'CAP_NET_RAW'] });
  assert.equal(withInh.capabilities!.inheritable, ['CAP_NET_RAW'], 'inheritable unchanged');
  assert.equal(withInh.capabilities!.ambient, ['CAP_NET_RAW']);
  const s = compileExec(noInh, target(), ctx()).plan.steps;
  assert.is(one(s, 'caps').inheritable, 0n);
  assert.is(one(s, 'caps').effective, CAP(5) | CAP(12));
  assert.is(one(s, 'capsBounding').keep, CAP(5) | CAP(12));
  assert.is(capName('sys_admin'), 'CAP_SYS_ADMIN');
  throws(() => capName('CAP_NOPE'), /unknown capability "CAP_NOPE"/);
});

test('parseSubCgroups: runc getSubCgroupPaths', () => {
  assert.equal([...parseSubCgroups(['sub'])], [['', 'sub']]);
  assert.equal([...parseSubCgroups(['cpu,cpuacct:a', 'pids:b'])], [['cpu', 'a'], ['cpuacct', 'a'], ['pids', 'b']]);
  assert.equal([...parseSubCgroups([])], []);
  throws(() => parseSubCgroups(['a', 'b']), /missing <controller>: prefix/);
  throws(() => parseSubCgroups([':a']), /empty <controller> prefix/);
  throws(() => parseSubCgroups(['cpu:a', 'cpu:b']), /controller cpu specified multiple times/);
  throws(() => parseSubCgroups(['a:b:c']), /invalid --cgroup argument: a:b:c/);
});

test('a container without a mount namespace: chroot into the init\'s root after the joins, before the fork', () => {
  const { plan } = compileExec(proc(), target({ namespaces: ns('pid', 'network', 'user'), root: '/proc/42/root' }), ctx());
  const c = one(plan.steps, 'chroot');
  assert.equal(plan.fds[c.dir], { kind: 'path', path: '/proc/42/root', flags: 'dir', what: 'root of the container\'s init' });
  assert.ok(at(plan.steps, 'chroot') > lastAt(plan.steps, 'setns'), 'after every setns (a joined mount namespace would reset the root)');
  assert.ok(at(plan.steps, 'chroot') < at(plan.steps, 'fork'));
  assert.is(all(compileExec(proc(), target({ namespaces: ns('mount') }), ctx()).plan.steps, 'chroot').length, 0, 'with a mount namespace: none');
});

test('session keyring: the container\'s "_ses.<id>" is joined as it is (no permission change), after the cgroups, before the ids', () => {
  const { plan } = compileExec(proc(), target({ keyring: '_ses.c1' }), ctx());
  const key = one(plan.steps, 'sessionKeyring');
  assert.equal([key.name, key.permSet], ['_ses.c1', 0n]);
  assert.ok(at(plan.steps, 'sessionKeyring') > lastAt(plan.steps, 'cgroupJoin') && at(plan.steps, 'sessionKeyring') < at(plan.steps, 'user'));
  assert.is(all(compileExec(proc(), target(), ctx()).plan.steps, 'sessionKeyring').length, 0, 'created with --no-new-keyring');
});

test.run();

