import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TsrunError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { compile } from './compile.js';
import { CLONE, MOUNT_ATTR, MS } from './constants.js';
import type { CompileContext } from './context.js';
import defaultConfig from './fixtures/default.config.json' with { type: 'json' };
import usernsConfig from './fixtures/userns.config.json' with { type: 'json' };
import { MOUNT_OPT, STEP_FLAG, SYNC_TOKEN, type Step } from './steps.js';

const spec = (base: unknown = defaultConfig): Spec => structuredClone(base) as Spec;

function context(over: Partial<CompileContext> = {}): CompileContext {
  return {
    id: 'demo', bundle: '/b', rootfs: '/b/rootfs', mode: 'create', foreground: false, subreaper: true,
    stateDir: '/run/tsrun/demo', noPivot: false, preserveFds: 0, listenFds: 0,
    cgroupProcs: ['/sys/fs/cgroup/tsrun/demo/cgroup.procs'],
    cgroupMounts: { v1: [], links: [], v2: { hostPath: '/sys/fs/cgroup' } },
    log: false, logJson: false, lastCap: 40,
    sourceKind: (p) => (p.startsWith('/missing') ? 'missing' : p.endsWith('.conf') || p.endsWith('.sock') ? 'file' : 'dir'),
    // a host of root-owned 0755 directories, but /private is 0700
    statPath: (p) => ({ uid: 0, gid: 0, mode: p === '/private' ? 0o40700 : 0o40755 }),
    ...over,
  };
}

const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const find = <K extends Step['kind']>(steps: Step[], kind: K, pred: (s: Extract<Step, { kind: K }>) => boolean = () => true) =>
  steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind && pred(s as Extract<Step, { kind: K }>));
const one = <K extends Step['kind']>(steps: Step[], kind: K, pred?: (s: Extract<Step, { kind: K }>) => boolean) => {
  const r = find(steps, kind, pred);
  assert.is(r.length, 1, `exactly one ${kind}`);
  return r[0]!;
};
const mountAt = (steps: Step[], target: string) => one(steps, 'mount', (m) => m.target === target);
const idx = (steps: Step[], pred: (s: Step) => boolean) => steps.findIndex(pred);

function planError(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, TsrunError);
    assert.is((e as TsrunError).code, 'ERR_TSRUN_PLAN');
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a plan error matching ${re}`);
}

test('default config: the step kinds in runc order', () => {
  const { plan, warnings, hookPhases } = compile(spec(), context());
  assert.equal(kinds(plan.steps), [
    'mkfifo', 'unshare', 'fork',
    'cgroupJoin', 'unshare', 'loopbackUp', 'sessionKeyring', 'propagation', 'rootfsBind',
    'mount', 'mount', 'mount', 'mount', 'mount', 'mount', 'mount',
    'mknod', 'mknod', 'mknod', 'mknod', 'mknod', 'mknod',
    'symlink', 'symlink', 'symlink', 'symlink', 'symlink', 'symlink',
    'pivotRoot', 'remount', 'hostname',
    'readonly', 'readonly', 'readonly', 'readonly', 'readonly',
    'mask', 'mask', 'mask', 'mask', 'mask', 'mask', 'mask', 'mask', 'mask', 'mask',
    'rlimit', 'chdir', 'noNewPrivs', 'capsBounding', 'user', 'umask', 'caps', 'resolve',
    'ready', 'waitStart', 'exec',
  ]);
  assert.equal(warnings, []);
  assert.is(hookPhases.hostBeforeResume, false);
  for (const s of plan.steps) assert.ok(s.label.length > 3, `${s.kind} has a label`);
});

test('default config: fd table, fifo slot and namespaces', () => {
  const { plan } = compile(spec(), context());
  assert.equal(plan.fds, [
    { kind: 'path', path: '/run/tsrun/demo', flags: 'dir', what: 'state directory (exec.fifo is made in it)' },
    { kind: 'path', path: '/sys/fs/cgroup/tsrun/demo/cgroup.procs', flags: 'write', what: 'cgroup.procs of the container' },
  ]);
  assert.is(plan.slots, 1);
  const fifo = one(plan.steps, 'mkfifo');
  assert.equal({ dir: fifo.dir, name: fifo.name, mode: fifo.mode, uid: fifo.uid, gid: fifo.gid, slot: fifo.slot },
    { dir: 0, name: 'exec.fifo', mode: 0o622n, uid: 0n, gid: 0n, slot: 2n });
  assert.is(one(plan.steps, 'waitStart').fifo, 2);
  const [early, late] = find(plan.steps, 'unshare');
  assert.is(early!.cloneFlags, CLONE.NEWPID);
  assert.is(late!.cloneFlags, CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWCGROUP);
  assert.is(late!.label, 'unshare mount uts ipc net cgroup');
  assert.is(one(plan.steps, 'fork').mode, 0n);
  assert.is(one(plan.steps, 'cgroupJoin').procs, 1);
  // cgroup join comes before the cgroup namespace is made
  assert.ok(idx(plan.steps, (s) => s.kind === 'cgroupJoin') < idx(plan.steps, (s) => s.kind === 'unshare' && (s.cloneFlags & CLONE.NEWCGROUP) !== 0n));
  assert.is(one(plan.steps, 'propagation').mountFlags, MS.SLAVE | MS.REC);
  assert.is(one(plan.steps, 'rootfsBind').hostPath, '/b/rootfs');
});

test('default config: mounts, devices and links', () => {
  const { plan } = compile(spec(), context());
  const proc = mountAt(plan.steps, '/proc');
  assert.equal([proc.fstype, proc.source, proc.mountFlags, proc.opts], ['proc', 'proc', 0n, MOUNT_OPT.MKDIR | MOUNT_OPT.TARGET_MUST_BE_DIR]);
  assert.is(proc.label, 'mount proc on /proc');
  const dev = mountAt(plan.steps, '/dev');
  assert.equal([dev.fstype, dev.mountFlags, dev.data, dev.remountFlags], ['tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k', 0n]);
  assert.is(mountAt(plan.steps, '/dev/pts').data, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  const sys = mountAt(plan.steps, '/sys');
  assert.is(sys.mountFlags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY); // sysfs is not delayed: only tmpfs and /dev are
  assert.is(sys.opts & MOUNT_OPT.TARGET_MUST_BE_DIR, MOUNT_OPT.TARGET_MUST_BE_DIR);
  // pure v2 with a cgroup namespace: a fresh cgroup2 mount
  const cg = mountAt(plan.steps, '/sys/fs/cgroup');
  assert.equal([cg.fstype, cg.source, cg.mountFlags], ['cgroup2', 'cgroup', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY]);
  const nodes = find(plan.steps, 'mknod');
  assert.equal(nodes.map((n) => n.path), ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom']);
  assert.equal([nodes[0]!.mode, nodes[0]!.dev, nodes[0]!.opts], [0o20666n, 0x103n, 0n]);
  assert.is(nodes[3]!.dev, 0x500n);
  assert.equal(find(plan.steps, 'symlink').map((l) => `${l.path}>${l.linkTarget}`), [
    '/dev/ptmx>pts/ptmx', '/dev/fd>/proc/self/fd', '/dev/stdin>/proc/self/fd/0', '/dev/stdout>/proc/self/fd/1',
    '/dev/stderr>/proc/self/fd/2', '/dev/core>/proc/kcore',
  ]);
  // devices come after every config mount
  assert.ok(idx(plan.steps, (s) => s.kind === 'mknod') > idx(plan.steps, (s) => s.kind === 'mount' && s.target === '/sys/fs/cgroup'));
});

test('default config: after pivot_root, credentials and exec', () => {
  const { plan } = compile(spec(), context());
  assert.is(one(plan.steps, 'pivotRoot').mode, 0n);
  assert.equal(one(plan.steps, 'remount'), { kind: 'remount', path: '/', mountFlags: MS.RDONLY, label: 'remount / read-only (root.readonly)' });
  assert.is(one(plan.steps, 'hostname').name, 'runc');
  assert.ok(find(plan.steps, 'mask').every((m) => m.flags === STEP_FLAG.OK_ENOENT));
  assert.equal(find(plan.steps, 'readonly').map((r) => r.path), ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  const rl = one(plan.steps, 'rlimit');
  assert.equal([rl.resource, rl.soft, rl.hard], [7n, 1024n, 1024n]);
  const three = (1n << 29n) | (1n << 5n) | (1n << 10n);
  assert.is(one(plan.steps, 'capsBounding').keep, three);
  const caps = one(plan.steps, 'caps');
  assert.equal([caps.effective, caps.permitted, caps.inheritable, caps.ambient], [three, three, 0n, 0n]);
  const user = one(plan.steps, 'user');
  assert.equal([user.uid, user.gid, user.groups, user.flags], [0n, 0n, [], undefined]);
  assert.is(one(plan.steps, 'umask').mask, 0o022n);
  assert.is(find(plan.steps, 'fixStdio').length, 0); // uid 0
  assert.equal(one(plan.steps, 'resolve').searchPath, ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  const exec = one(plan.steps, 'exec');
  assert.equal(exec.argv, ['sh', '-c', 'echo hello']);
  assert.equal(exec.envp, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'HOME=/root']);
  assert.is(exec.path, '');
  assert.is(exec.keepFds, 3n);
  // seccomp-free order: no_new_privs before the id change, resolve after it, ready last
  const order = ['noNewPrivs', 'capsBounding', 'user', 'caps', 'resolve', 'ready'].map((k) => idx(plan.steps, (s) => s.kind === k));
  assert.equal([...order].sort((a, b) => a - b), order);
});

test('user namespace: idmap sync, become root, devices bound, fifo owned by the mapped root', () => {
  const { plan } = compile(spec(usernsConfig), context());
  assert.equal(kinds(plan.steps).slice(0, 8), ['mkfifo', 'unshare', 'sync', 'user', 'unshare', 'fork', 'cgroupJoin', 'unshare']);
  assert.is(find(plan.steps, 'unshare')[0]!.cloneFlags, CLONE.NEWUSER);
  assert.is(one(plan.steps, 'sync').token, SYNC_TOKEN.idmap);
  const root = find(plan.steps, 'user')[0]!;
  assert.equal([root.uid, root.gid, root.groups, root.flags], [0n, 0n, [], STEP_FLAG.SKIP_SETGROUPS]);
  const fifo = one(plan.steps, 'mkfifo');
  assert.equal([fifo.uid, fifo.gid], [100000n, 200000n]);
  assert.is(find(plan.steps, 'unshare')[2]!.cloneFlags, CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWCGROUP);
  const nodes = find(plan.steps, 'mknod');
  assert.is(nodes.length, 6);
  assert.ok(nodes.every((n) => n.opts === MOUNT_OPT.BIND_FD));
  const sys = mountAt(plan.steps, '/sys');
  assert.equal([sys.source, sys.fstype, sys.mountFlags, sys.opts], ['/sys', '', MS.BIND | MS.REC, MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR]);
  assert.is(sys.remountFlags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY | MS.BIND | MS.REMOUNT);
  assert.is(sys.label, 'rbind /sys on /sys (ro,nodev,noexec,nosuid)');
});

test('user namespace: unmapped root is refused', () => {
  const s = spec(usernsConfig);
  s.linux!.uidMappings = [{ containerID: 1, hostID: 100000, size: 10 }];
  s.process!.user = { uid: 1, gid: 0 };
  planError(() => compile(s, context()), /^\/linux\/uidMappings: the container's root \(id 0\) is not mapped/);
});

test('user namespace: an unmapped process uid or gid is refused at plan time', () => {
  const s = spec(usernsConfig);
  s.process!.user = { uid: 70000, gid: 0 };
  planError(() => compile(s, context()), /^\/process\/user\/uid: cannot setuid to unmapped uid 70000 in user namespace$/);
  s.process!.user = { uid: 0, gid: 65536 };
  planError(() => compile(s, context()), /^\/process\/user\/gid: cannot setgid to unmapped gid 65536 in user namespace$/);
  s.linux!.namespaces = [{ type: 'user', path: '/proc/9/ns/user' }, { type: 'mount' }, { type: 'uts' }];
  delete s.linux!.uidMappings;
  delete s.linux!.gidMappings;
  const { plan, warnings } = compile(s, context()); // mappings unknown: nothing to check against
  assert.equal([one(plan.steps, 'mkfifo').uid, one(plan.steps, 'mkfifo').gid], [0n, 0n]);
  assert.match(warnings[0]!, /joined user namespace's mappings are unknown/);
});

test('joined namespaces: setns before the fork, in the fd table, not unshared', () => {
  const s = spec();
  s.linux!.namespaces = [
    { type: 'pid', path: '/proc/42/ns/pid' }, { type: 'network', path: '/var/run/netns/x' },
    { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
  ];
  const { plan } = compile(s, context());
  assert.equal(plan.fds.map((f) => ('path' in f ? f.path : f.kind)), ['/run/tsrun/demo', '/proc/42/ns/pid', '/var/run/netns/x', '/sys/fs/cgroup/tsrun/demo/cgroup.procs']);
  assert.equal(kinds(plan.steps).slice(0, 4), ['mkfifo', 'setns', 'setns', 'fork']);
  const [pid, net] = find(plan.steps, 'setns');
  assert.equal([pid!.ns, pid!.nstype, net!.ns, net!.nstype], [1, CLONE.NEWPID, 2, CLONE.NEWNET]);
  assert.is(one(plan.steps, 'unshare').cloneFlags, CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC);
  assert.is(one(plan.steps, 'cgroupJoin').procs, 3);
  assert.is(one(plan.steps, 'mkfifo').slot, 4n);
});

test('network namespace: a new one gets lo up right after the unshare (runc loopback); joined or host: untouched', () => {
  const fresh = compile(spec(), context()).plan.steps;
  const up = idx(fresh, (st) => st.kind === 'loopbackUp');
  assert.ok(up > 0 && fresh[up - 1]!.kind === 'unshare' && ((fresh[up - 1] as Extract<Step, { kind: 'unshare' }>).cloneFlags & CLONE.NEWNET) !== 0n);
  const joined = spec();
  joined.linux!.namespaces = joined.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/var/run/netns/x' } : n));
  assert.is(find(compile(joined, context()).plan.steps, 'loopbackUp').length, 0, 'joined');
  const host = spec();
  host.linux!.namespaces = host.linux!.namespaces!.filter((n) => n.type !== 'network');
  assert.is(find(compile(host, context()).plan.steps, 'loopbackUp').length, 0, 'host network namespace');
  const withUserns = spec(usernsConfig);
  withUserns.linux!.namespaces!.push({ type: 'network' });
  const userns = compile(withUserns, context()).plan.steps;
  assert.ok(idx(userns, (st) => st.kind === 'loopbackUp') > idx(userns, (st) => st.kind === 'sync'), 'after the user namespace is mapped');
});

test('joined user namespace: rootful joins the others first, rootless the user namespace first', () => {
  const s = spec(usernsConfig);
  s.linux!.namespaces = [{ type: 'user', path: '/proc/7/ns/user' }, { type: 'network', path: '/proc/7/ns/net' }, { type: 'mount' }, { type: 'pid' }, { type: 'uts' }];
  const joined = { uidMappings: [{ containerID: 0, hostID: 5000, size: 100 }], gidMappings: [{ containerID: 0, hostID: 6000, size: 100 }] };
  const rootful = compile(s, context({ joinedUserNs: joined })).plan.steps;
  assert.equal(find(rootful, 'setns').map((x) => x.nstype), [CLONE.NEWNET, CLONE.NEWUSER]);
  assert.is(rootful[idx(rootful, (x) => x.kind === 'setns' && x.nstype === CLONE.NEWUSER) + 1]!.kind, 'user');
  assert.equal([one(rootful, 'mkfifo').uid, one(rootful, 'mkfifo').gid], [5000n, 6000n]);
  assert.is(find(rootful, 'sync').length, 0);
  const rootless = compile(s, context({ joinedUserNs: joined, rootless: true })).plan.steps;
  assert.equal(find(rootless, 'setns').map((x) => x.nstype), [CLONE.NEWUSER, CLONE.NEWNET]);
});

test('terminal: console step and the console socket fd; refused without a socket', () => {
  const s = spec();
  s.process!.terminal = true;
  s.process!.consoleSize = { height: 40, width: 120 };
  const { plan } = compile(s, context({ consoleSocket: '/tmp/console.sock', log: true, logJson: true }));
  assert.equal(plan.fds.slice(2), [
    { kind: 'consoleSocket', path: '/tmp/console.sock', what: 'console socket (receives the pty master)' },
    { kind: 'log', what: '--log file' },
  ]);
  const c = one(plan.steps, 'console');
  assert.equal([c.socket, c.rows, c.cols], [2, 40n, 120n]);
  assert.ok(idx(plan.steps, (x) => x.kind === 'console') > idx(plan.steps, (x) => x.kind === 'pivotRoot'));
  assert.ok(idx(plan.steps, (x) => x.kind === 'console') < idx(plan.steps, (x) => x.kind === 'user'));
  assert.equal(plan.steps[0], { kind: 'logTo', fd: 3, format: 1n, label: 'log to the --log fd (json)' });
  planError(() => compile(s, context()), /cannot allocate tty if runc will detach without setting console socket/);
});

test('hooks: sync after the mounts, createContainer before pivot_root, startContainer after start', () => {
  const s = spec();
  s.hooks = {
    prestart: [{ path: '/usr/bin/netns-setup' }],
    createContainer: [{ path: '/usr/bin/cc', args: ['cc', '--x'], env: ['A=1'], timeout: 5 }],
    startContainer: [{ path: '/bin/sc' }],
  };
  const { plan, hookPhases } = compile(s, context());
  assert.is(hookPhases.hostBeforeResume, true);
  const st = plan.steps;
  const sync = idx(st, (x) => x.kind === 'sync');
  assert.is((st[sync] as Extract<Step, { kind: 'sync' }>).token, SYNC_TOKEN.hooks);
  assert.ok(sync > idx(st, (x) => x.kind === 'symlink'), 'after /dev is set up');
  assert.equal(kinds(st).slice(sync, sync + 3), ['sync', 'hook', 'pivotRoot']);
  const [cc, sc] = find(st, 'hook');
  assert.equal([cc!.path, cc!.argv, cc!.envp, cc!.timeout], ['/usr/bin/cc', ['cc', '--x'], ['A=1'], 5n]);
  assert.equal([sc!.argv, sc!.envp, sc!.timeout], [['/bin/sc'], one(st, 'exec').envp, 0n]);
  assert.equal(kinds(st).slice(-4), ['ready', 'waitStart', 'hook', 'exec']);
  // poststart/poststop alone are the host's business: no sync
  const t = spec();
  t.hooks = { poststart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/true' }] };
  assert.is(compile(t, context()).hookPhases.hostBeforeResume, false);
  assert.is(find(compile(t, context()).plan.steps, 'sync').length, 0);
});

test('run mode: no fifo, ends with sync{start}; foreground adds pdeathsig and a waiting fork', () => {
  const { plan } = compile(spec(), context({ mode: 'run' }));
  assert.is(plan.slots, 0);
  assert.equal(plan.fds.map((f) => f.kind === 'path' && f.flags), ['write']);
  assert.is(find(plan.steps, 'mkfifo').length + find(plan.steps, 'ready').length + find(plan.steps, 'waitStart').length, 0);
  assert.equal(kinds(plan.steps).slice(-2), ['sync', 'exec']);
  assert.is(find(plan.steps, 'sync')[0]!.token, SYNC_TOKEN.start);
  assert.is(one(plan.steps, 'fork').mode, 0n);

  const fg = compile(spec(), context({ mode: 'run', foreground: true })).plan.steps;
  assert.is(one(fg, 'fork').mode, 1n);
  const deaths = fg.map((x, i) => (x.kind === 'pdeathsig' ? i : -1)).filter((i) => i >= 0);
  assert.is(deaths.length, 3);
  assert.is(deaths[0], 0);
  assert.is(fg[deaths[1]! - 1]!.kind, 'fork');
  assert.ok(deaths[2]! > idx(fg, (x) => x.kind === 'caps'));
  assert.ok(fg.filter((x) => x.kind === 'pdeathsig').every((x) => (x as Extract<Step, { kind: 'pdeathsig' }>).signal === 9n));
  assert.is(one(compile(spec(), context({ mode: 'run', foreground: true, subreaper: false })).plan.steps, 'fork').mode, 2n);
});

test('keepFds and env with LISTEN_FDS and --preserve-fds', () => {
  const s = spec();
  s.process!.env = ['LISTEN_FDS=9', 'PATH=/bin', 'HOME=', 'A=1', 'A=2'];
  const exec = one(compile(s, context({ listenFds: 2, preserveFds: 1 })).plan.steps, 'exec');
  assert.is(exec.keepFds, 6n);
  assert.equal(exec.envp, ['PATH=/bin', 'A=2', 'LISTEN_FDS=2', 'LISTEN_PID=1', 'HOME=/root']);
  s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o077 };
  s.process!.env = ['HOME=/home/u'];
  const st = compile(s, context({ homeDir: () => '/nope' })).plan.steps;
  assert.equal(one(st, 'exec').envp, ['HOME=/home/u']);
  assert.equal(one(st, 'resolve').searchPath, []);
  const u = one(st, 'user');
  assert.equal([u.uid, u.gid, u.groups], [1000n, 1000n, [10n, 20n]]);
  assert.equal(one(st, 'fixStdio'), { kind: 'fixStdio', uid: 1000n, gid: 1000n, label: 'chown stdio to 1000:1000' });
  assert.ok(idx(st, (x) => x.kind === 'fixStdio') < idx(st, (x) => x.kind === 'user'));
  assert.is(one(st, 'umask').mask, 0o077n);
  s.process!.env = [];
  assert.equal(one(compile(s, context({ homeDir: (uid) => (uid === 1000 ? '/home/u' : undefined) })).plan.steps, 'exec').envp, ['HOME=/home/u']);
  assert.equal(one(compile(s, context()).plan.steps, 'exec').envp, ['HOME=/']);
});

test('mount options: ro bind, rbind, rro, rshared, data, tmpfs ro', () => {
  const s = spec();
  s.mounts = [
    { destination: '/data', source: 'vol', type: 'bind', options: ['bind', 'ro'] },
    { destination: '/r', source: '/srv', type: 'none', options: ['rbind'] },
    { destination: '/rr', source: '/srv', options: ['rbind', 'rro', 'rnoatime'] },
    { destination: '/sh', source: '/srv', options: ['rbind', 'rshared'] },
    { destination: '/etc/app.conf', source: '/host/app.conf', options: ['bind', 'rw'] },
    { destination: '/tmp', source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'ro', 'mode=1777', 'size=1m', 'acl'] },
  ];
  const st = compile(s, context()).plan.steps;
  const data = mountAt(st, '/data');
  assert.equal([data.source, data.mountFlags, data.remountFlags, data.opts], ['/b/vol', MS.BIND, MS.RDONLY | MS.BIND | MS.REMOUNT, MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR]);
  const r = mountAt(st, '/r');
  assert.equal([r.mountFlags, r.remountFlags, r.fstype], [MS.BIND | MS.REC, 0n, '']);
  const rr = mountAt(st, '/rr');
  assert.equal([rr.attrSet, rr.attrClr, rr.remountFlags], [MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOATIME, MOUNT_ATTR._ATIME, 0n]);
  assert.is(mountAt(st, '/sh').propagation, MS.SHARED | MS.REC);
  const conf = mountAt(st, '/etc/app.conf');
  assert.equal([conf.opts, conf.remountFlags], [MOUNT_OPT.BIND_FD | MOUNT_OPT.MKFILE, MS.BIND | MS.REMOUNT]); // "rw" alone still remounts
  const tmp = mountAt(st, '/tmp');
  assert.equal([tmp.mountFlags, tmp.data], [MS.NOSUID, 'mode=1777,size=1m,acl']);
  const late = one(st, 'remount', (x) => x.path === '/tmp');
  assert.is(late.mountFlags, MS.NOSUID | MS.RDONLY);
  assert.ok(idx(st, (x) => x === late) > idx(st, (x) => x.kind === 'pivotRoot'));
});

test('mount options: refused and unsupported ones', () => {
  const with1 = (m: Spec['mounts']) => { const s = spec(); s.mounts = m; return s; };
  const ignored = compile(with1([{ destination: '/x', source: '/srv', options: ['bind', 'size=1m'] }]), context());
  assert.is(mountAt(ignored.plan.steps, '/x').data, '', 'data on a bind is ignored, as runc 1.1 does');
  assert.ok(ignored.warnings.some((w) => w.startsWith('/mounts/0/options: filesystem options on a bind mount are ignored')));
  planError(() => compile(with1([{ destination: '/x', source: 'tmpfs', type: 'tmpfs', options: ['idmap'] }]), context()),
    /^\/mounts\/0\/options: idmapped mounts are only supported for bind mounts/);
  planError(() => compile(with1([{ destination: '/x', source: '/srv', options: ['rbind', 'idmap'] }]), context()),
    /^\/mounts\/0: an idmapped mount needs uidMappings and gidMappings/);
  planError(() => compile(with1([{ destination: '/x', source: '/missing/dir', options: ['bind'] }]), context()),
    /^\/mounts\/0\/source: bind source \/missing\/dir: stat \/missing\/dir: no such file or directory/);
  planError(() => compile(with1([{ destination: '/x', source: 'x' }]), context()), /^\/mounts\/0\/type: required/);
});

test('idmapped mounts: cloned before any namespace into the slots after the fifo, attached in place', () => {
  const s = spec(usernsConfig);
  s.mounts = [...s.mounts!, { destination: '/data', source: '/srv/data', options: ['rbind', 'ridmap'] }];
  const { plan } = compile(s, context());
  const tree = one(plan.steps, 'idmapTree');
  assert.is(Number(tree.slot), plan.fds.length + 1, 'after the exec fifo\'s slot');
  assert.is(plan.slots, 2);
  assert.ok(idx(plan.steps, (x) => x === tree) < idx(plan.steps, (x) => x.kind === 'unshare'), 'before the user namespace');
  const at = one(plan.steps, 'mountTree');
  assert.is(at.tree, Number(tree.slot));
  assert.ok(idx(plan.steps, (x) => x === at) > idx(plan.steps, (x) => x.kind === 'rootfsBind'));
  const ns = plan.fds[tree.userns]!;
  assert.ok(ns.kind === 'idmapUserns', 'its user namespace is a passed fd the parent makes');
  assert.is(ns.kind === 'idmapUserns' && ns.uidMap, s.linux!.uidMappings!.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join(''));
  assert.is(tree.userns, plan.fds.length - 1, 'the last passed fd: slots (fifo, tree) follow');
});

test('process.cwd is created (mkdirAll) after pivot_root, before anything is made read-only', () => {
  const s = spec();
  s.process!.cwd = '/work/dir';
  s.root!.readonly = true;
  const { plan } = compile(s, context());
  const mk = one(plan.steps, 'mkdirAll');
  assert.equal([mk.path, mk.mode], ['/work/dir', 0o755n]);
  assert.ok(idx(plan.steps, (x) => x.kind === 'pivotRoot') < idx(plan.steps, (x) => x === mk));
  assert.ok(idx(plan.steps, (x) => x === mk) < idx(plan.steps, (x) => x.kind === 'remount' && x.path === '/'));
  assert.is(find(compile(spec(), context()).plan.steps, 'mkdirAll').length, 0, 'not for "/"');
});

test('mounts under /proc: refused except the lxcfs allowlist; only proc on /proc', () => {
  const with1 = (m: NonNullable<Spec['mounts']>[number]) => { const s = spec(); s.mounts = [...s.mounts!, m]; return s; };
  planError(() => compile(with1({ destination: '/proc/self/attr', source: 'tmpfs', type: 'tmpfs' }), context()),
    /^\/mounts\/7\/destination: "\/proc\/self\/attr" cannot be mounted because it is inside \/proc/);
  planError(() => compile(with1({ destination: '/proc/./sys/../thread-self/attr/', source: 'tmpfs', type: 'tmpfs' }), context()),
    /"\/proc\/thread-self\/attr" cannot be mounted because it is inside \/proc/);
  planError(() => compile(with1({ destination: '/proc', source: 'tmpfs', type: 'tmpfs' }), context()),
    /^\/mounts\/7\/destination: "\/proc" cannot be mounted because it is not of type proc/);
  const ok = compile(with1({ destination: '/proc/cpuinfo', source: '/var/lib/lxcfs/proc/cpuinfo', options: ['bind'] }), context());
  assert.is(mountAt(ok.plan.steps, '/proc/cpuinfo').opts & MOUNT_OPT.BIND_FD, MOUNT_OPT.BIND_FD);
});

test('capabilities: above cap_last_cap → one warning and skipped; unknown → error; inheritable only when listed', () => {
  const s = spec();
  s.process!.capabilities = {
    bounding: ['CAP_KILL', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_KILL', 'CAP_BPF'],
    permitted: ['CAP_KILL', 'CAP_BPF'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'],
  };
  const { plan, warnings } = compile(s, context({ lastCap: 38 }));
  assert.equal(warnings, ["ignoring unknown or unavailable capabilities: [CAP_BPF CAP_CHECKPOINT_RESTORE] (this kernel's cap_last_cap is 38)"]);
  assert.is(one(plan.steps, 'capsBounding').keep, 1n << 5n);
  const c = one(plan.steps, 'caps');
  assert.equal([c.effective, c.permitted, c.inheritable, c.ambient], [32n, 32n, 32n, 32n]);
  s.process!.capabilities.bounding = ['CAP_KILL', 'CAP_FLY'];  // unknown: skipped (configWarnings names it)
  assert.is(one(compile(s, context()).plan.steps, 'capsBounding').keep, 1n << 5n);
  delete s.process!.capabilities;
  // no process.capabilities: everything dropped (runc's empty Capabilities), never the runtime's own sets
  const none = compile(s, context()).plan.steps;
  assert.is(one(none, 'capsBounding').keep, 0n);
  const n = one(none, 'caps');
  assert.equal([n.effective, n.permitted, n.inheritable, n.ambient], [0n, 0n, 0n, 0n]);
});

test('cgroup v1: fresh hierarchies with a cgroup namespace, binds without one; links and ro remount', () => {
  const cgroupMounts = {
    v1: [
      { dir: 'cpu,cpuacct', data: 'cpu,cpuacct', hostPath: '/sys/fs/cgroup/cpu,cpuacct/tsrun/demo' },
      { dir: 'systemd', data: 'none,name=systemd', hostPath: '/sys/fs/cgroup/systemd/tsrun/demo' },
    ],
    links: [{ name: 'cpu', target: 'cpu,cpuacct' }, { name: 'cpuacct', target: 'cpu,cpuacct' }],
  };
  const fresh = compile(spec(), context({ cgroupMounts })).plan.steps;
  const i = idx(fresh, (x) => x.kind === 'mount' && x.target === '/sys/fs/cgroup');
  assert.equal(kinds(fresh).slice(i, i + 6), ['mount', 'mount', 'mount', 'symlink', 'symlink', 'remount']);
  const tmpfs = fresh[i] as Extract<Step, { kind: 'mount' }>;
  assert.equal([tmpfs.fstype, tmpfs.data, tmpfs.mountFlags], ['tmpfs', 'mode=755', MS.NOEXEC | MS.NOSUID | MS.NODEV]);
  const cpu = mountAt(fresh, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal([cpu.fstype, cpu.source, cpu.data, cpu.mountFlags], ['cgroup', 'cgroup', 'cpu,cpuacct', MS.NOEXEC | MS.NOSUID | MS.NODEV | MS.RDONLY]);
  assert.equal([mountAt(fresh, '/sys/fs/cgroup/systemd').source, mountAt(fresh, '/sys/fs/cgroup/systemd').data], ['systemd', 'none,name=systemd']);
  assert.equal(one(fresh, 'remount', (x) => x.path === '/sys/fs/cgroup').mountFlags, MS.NOEXEC | MS.NOSUID | MS.NODEV | MS.RDONLY);
  assert.equal(one(fresh, 'symlink', (x) => x.path === '/sys/fs/cgroup/cpu').linkTarget, 'cpu,cpuacct');

  const s = spec();
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  const bound = compile(s, context({ cgroupMounts })).plan.steps;
  const b = mountAt(bound, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal([b.source, b.mountFlags, b.opts], ['/sys/fs/cgroup/cpu,cpuacct/tsrun/demo', MS.BIND | MS.REC, MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR]);
  assert.is(b.remountFlags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY | MS.BIND | MS.REMOUNT);
});

test('cgroup v2 in a user namespace without a cgroup namespace: bind of the host hierarchy', () => {
  const s = spec(usernsConfig);
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
  s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
  const m = mountAt(compile(s, context()).plan.steps, '/sys/fs/cgroup');
  assert.equal([m.source, m.fstype, m.mountFlags, m.opts], ['/sys/fs/cgroup', '', MS.BIND, MOUNT_OPT.BIND_FD | MOUNT_OPT.MKDIR]);
  assert.is(m.remountFlags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY | MS.BIND | MS.REMOUNT);
});

test('/dev as a bind mount: no nodes or links; linux.devices are made on any other /dev', () => {
  const s = spec();
  s.mounts = s.mounts!.filter((m) => m.destination !== '/dev');
  s.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o20600, uid: 0, gid: 0 }, { type: 'c', path: '/dev/null', major: 1, minor: 3 }];
  const st = compile(s, context()).plan.steps;
  const nodes = find(st, 'mknod');
  assert.equal(nodes.map((n) => n.path), ['/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom', '/dev/fuse', '/dev/null']);
  assert.equal([nodes[5]!.mode, nodes[5]!.dev], [0o20600n, (10n << 8n) | 229n]);
  s.mounts.push({ destination: '/dev', source: '/dev', options: ['rbind'] });
  const { plan, warnings } = compile(s, context());
  assert.is(find(plan.steps, 'mknod').length + find(plan.steps, 'symlink').length, 0);
  assert.match(warnings[0]!, /^\/linux\/devices: \/dev is a bind mount/);
});

test('sysctl, rlimit infinity, personality, scheduler, io priority, oom score', () => {
  const s = spec();
  s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'net/ipv4/conf/eth0.100/rp_filter': '0' };
  s.linux!.personality = { domain: 'LINUX32', flags: ['X'] };
  s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }];
  s.process!.scheduler = { policy: 'SCHED_OTHER', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
  s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 7 };
  s.process!.oomScoreAdj = -500;
  const { plan, warnings } = compile(s, context());
  assert.equal(find(plan.steps, 'sysctl').map((x) => [x.path, x.value]), [['/proc/sys/net/ipv4/ip_forward', '1'], ['/proc/sys/net/ipv4/conf/eth0.100/rp_filter', '0']]);
  const rl = one(plan.steps, 'rlimit');
  assert.equal([rl.resource, rl.soft, rl.hard], [4n, 0xffffffffffffffffn, 0xffffffffffffffffn]);
  assert.is(one(plan.steps, 'personality').persona, 8n);
  assert.match(warnings.join('\n'), /personality flags/);
  const sch = one(plan.steps, 'scheduler');
  assert.equal([sch.policy, sch.schedFlags, sch.nice], [0n, 1n, 0xfffffffffffffffbn]);
  const io = one(plan.steps, 'ioPriority');
  assert.equal([io.ioClass, io.level], [3n, 7n]);
  // oom_score_adj in the first process, before any namespace
  assert.equal(kinds(plan.steps).slice(0, 2), ['oomScoreAdj', 'mkfifo']);
  assert.is(one(plan.steps, 'oomScoreAdj').value, '-500');
});

test('time namespace: unshared before the fork with its offsets', () => {
  const s = spec();
  s.linux!.namespaces!.push({ type: 'time' });
  s.linux!.timeOffsets = { monotonic: { secs: 3600, nanosecs: 5 }, boottime: { secs: -10 } };
  const st = compile(s, context()).plan.steps;
  assert.equal(kinds(st).slice(1, 4), ['unshare', 'timeOffsets', 'fork']);
  assert.is(find(st, 'unshare')[0]!.cloneFlags, CLONE.NEWPID | CLONE.NEWTIME);
  assert.is(one(st, 'timeOffsets').text, 'monotonic 3600 5\nboottime -10 0\n');
  s.linux!.namespaces!.pop();
  planError(() => compile(s, context()), /time namespace offsets specified, but time namespace isn't enabled/);
});

test('refusals: seccomp, no mount namespace, hostname without uts, missing args, rootfsPropagation', () => {
  const s1 = spec();
  s1.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  planError(() => compile(s1, context()), /^\/linux\/seccomp: the filter was not compiled \(CompileContext\.seccomp\)$/);
  const s3 = spec();
  s3.linux!.namespaces = s3.linux!.namespaces!.filter((n) => n.type !== 'uts');
  planError(() => compile(s3, context()), /^\/hostname: unable to set hostname without a private UTS namespace/);
  const s4 = spec();
  s4.process!.args = [];
  planError(() => compile(s4, context()), /args must not be empty/);
  const s5 = spec();
  s5.linux!.rootfsPropagation = 'rprivate';
  planError(() => compile(s5, context({ noPivot: true })), /\[r\]private is not safe without pivot_root/);
  s5.linux!.rootfsPropagation = 'rshared' ;
  const st = compile(s5, context({ rootfsMountPoint: '/' })).plan.steps;
  assert.equal(find(st, 'propagation').map((p) => [p.hostPath, p.mountFlags]), [['/', MS.SHARED | MS.REC], ['/', MS.PRIVATE], ['/', MS.SHARED | MS.REC]]);
  assert.ok(idx(st, (x) => x.kind === 'propagation' && x.label.includes('rootfsPropagation')) > idx(st, (x) => x.kind === 'pivotRoot'));
  assert.is(one(compile(s5, context({ noPivot: true })).plan.steps, 'pivotRoot').mode, 1n);
});

test('compile is pure: the same input gives the same plan, and the spec is not modified', () => {
  const s = spec();
  const before = JSON.stringify(s);
  const a = compile(s, context());
  const b = compile(s, context());
  assert.equal(a, b);
  assert.is(JSON.stringify(s), before);
});

test('no mount namespace: mounts in the caller\'s namespace on a private rootfs bind, chroot, the caller\'s / untouched', () => {
  const s = spec();
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  s.linux!.rootfsPropagation = 'shared';
  const { plan, warnings } = compile(s, { ...context(), noPivot: true, rootfsMountPoint: '/' });
  const kinds = plan.steps.map((x) => x.kind);
  // no propagation change of "/" or of the mount holding the rootfs: those are the caller's
  const props = plan.steps.filter((x) => x.kind === 'propagation') as Array<Extract<Step, { kind: 'propagation' }>>;
  assert.equal(props.map((p) => [p.hostPath, p.mountFlags]), [['/b/rootfs', MS.PRIVATE | MS.REC]]);
  assert.ok(kinds.indexOf('propagation') === kinds.indexOf('rootfsBind') + 1, 'the bind is made private right after it is made');
  const pivot = plan.steps.find((x) => x.kind === 'pivotRoot') as Extract<Step, { kind: 'pivotRoot' }>;
  assert.is(pivot.mode, 2n, 'chroot, even with --no-pivot (MS_MOVE onto the caller\'s / is never done)');
  assert.ok(!plan.steps.some((x) => x.kind === 'unshare' && (x.cloneFlags & CLONE.NEWNS)), 'no CLONE_NEWNS');
  assert.ok(warnings.some((w) => w.startsWith('/linux/namespaces: no mount namespace')));
  assert.ok(warnings.some((w) => w.startsWith('/linux/rootfsPropagation: ignored')));
});

test('session keyring: "_ses.<id>" once every namespace exists, searchable by its user; by others in a user namespace; none with --no-new-keyring', () => {
  const { plan } = compile(spec(), context());
  const key = one(plan.steps, 'sessionKeyring');
  assert.equal([key.name, key.permSet], ['_ses.demo', 0x80000n]); // runc: KEY_USR_SEARCH
  const i = idx(plan.steps, (x) => x === key);
  assert.ok(i > idx(plan.steps, (x) => x.kind === 'cgroupJoin') && i > plan.steps.map((x) => x.kind).lastIndexOf('unshare'), 'in the init, after every unshare');
  assert.ok(i < idx(plan.steps, (x) => x.kind === 'rootfsBind'), 'before the rootfs');
  const u = compile(spec(usernsConfig), context()).plan.steps;
  const ukey = one(u, 'sessionKeyring');
  assert.is(ukey.permSet, 0x8n, 'KEY_OTH_SEARCH with a user namespace');
  assert.ok(idx(u, (x) => x === ukey) > idx(u, (x) => x.kind === 'sync'), 'inside the mapped user namespace');
  assert.is(find(compile(spec(), context({ noNewKeyring: true })).plan.steps, 'sessionKeyring').length, 0);
});

test('user namespace: a bind whose source the mapped root cannot reach is cloned as host root first; the rest bind inside', () => {
  const s = spec(usernsConfig);
  s.mounts = [...s.mounts!, { destination: '/data', source: '/private/data', options: ['rbind', 'ro'] }, { destination: '/pub', source: '/srv/pub', options: ['bind'] }];
  const { plan } = compile(s, context());
  const clone = one(plan.steps, 'cloneTree');
  assert.equal([clone.source, clone.recursive, Number(clone.slot)], ['/private/data', 1n, plan.fds.length + 1]);
  assert.ok(idx(plan.steps, (x) => x === clone) < idx(plan.steps, (x) => x.kind === 'unshare'), 'before the user namespace');
  const at = one(plan.steps, 'mountTree');
  assert.equal([at.tree, at.target, at.remountFlags], [Number(clone.slot), '/data', MS.RDONLY | MS.BIND | MS.REMOUNT]);
  assert.is(mountAt(plan.steps, '/pub').opts & MOUNT_OPT.BIND_FD, MOUNT_OPT.BIND_FD, 'a reachable source: the usual bind');
  // without a user namespace, or without host facts to tell, nothing changes / everything is cloned
  const plain = spec();
  plain.mounts = [...plain.mounts!, { destination: '/data', source: '/private/data', options: ['rbind'] }];
  assert.is(find(compile(plain, context()).plan.steps, 'cloneTree').length, 0);
  assert.is(find(compile(s, context({ statPath: undefined })).plan.steps, 'cloneTree').length, 3);
  // rootless: no right to clone; the bind is tried inside the namespace, as before
  assert.is(find(compile(s, context({ rootless: true })).plan.steps, 'cloneTree').length, 0);
});

test.run();

