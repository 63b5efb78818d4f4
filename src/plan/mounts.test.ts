import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Mount } from '../spec/types.js';
import { MS } from './constants.js';
import type { CompileContext } from './context.js';
import { cleanPath, compileMounts, plainIdmapTable, PROC_MOUNT_ALLOWLIST, reachableByMappedRoot, type IdmapTable } from './mounts.js';
import { analyzeNamespaces } from './namespaces.js';
import { MOUNT_OPT, type Step } from './steps.js';

const ctx = {
  bundle: '/bundle', cgroupMounts: { v1: [], links: [] },
  sourceKind: (p: string) => (p.endsWith('.txt') ? 'file' : p === '/gone' ? 'missing' : 'dir'),
} as unknown as CompileContext;
const ns = analyzeNamespaces([{ type: 'mount' }]);
const run = (mounts: Mount[], warnings: string[] = []) => compileMounts(mounts, ns, ctx, warnings);
const m0 = (r: ReturnType<typeof run>) => r.steps[0] as Extract<Step, { kind: 'mount' }>;

test('cleanPath', () => {
  assert.is(cleanPath('/a//b/../c/'), '/a/c');
  assert.is(cleanPath('/../../etc'), '/etc');
  assert.is(cleanPath('/'), '/');
  assert.is(cleanPath('/proc/./sys/'), '/proc/sys');
});

test('bind: relative source from the bundle, file target, BIND_FD', () => {
  const r = run([{ destination: '/etc/x.txt', source: 'files/x.txt', options: ['bind', 'ro', 'nosuid'] }]);
  const m = m0(r);
  assert.equal([m.source, m.fstype, m.mountFlags, m.opts], ['/bundle/files/x.txt', '', MS.BIND, MOUNT_OPT.BIND_FD | MOUNT_OPT.MKFILE]);
  assert.is(m.remountFlags, MS.RDONLY | MS.NOSUID | MS.BIND | MS.REMOUNT);
  assert.is(m.label, 'bind /bundle/files/x.txt on /etc/x.txt (ro,nosuid)');
});

test('bind: no remount when only bind/rbind is given; type "bind" alone means bind', () => {
  const m = m0(run([{ destination: '/x', source: '/srv', type: 'bind' }]));
  assert.equal([m.mountFlags, m.remountFlags], [MS.BIND, 0n]);
});

test('bind with remount changes the flags of the mount already there', () => {
  const r = run([{ destination: '/x', source: '/srv', options: ['bind', 'remount', 'ro', 'nosuid'] }]);
  assert.equal(r.steps, [{ kind: 'remount', path: '/x', mountFlags: MS.RDONLY | MS.NOSUID, label: 'remount /x (ro,nosuid)' }]);
});

test('tmpfs and /dev: ro is delayed to a late remount', () => {
  const r = run([
    { destination: '/dev', source: 'tmpfs', type: 'tmpfs', options: ['ro', 'nosuid'] },
    { destination: '/run', source: 'tmpfs', type: 'tmpfs', options: ['nodev'] },
  ]);
  assert.is(m0(r).mountFlags, MS.NOSUID);
  assert.equal(r.lateRemounts.map((s) => [s.kind, (s as Extract<Step, { kind: 'remount' }>).path, (s as Extract<Step, { kind: 'remount' }>).mountFlags]), [['remount', '/dev', MS.RDONLY | MS.NOSUID]]);
  assert.ok(r.devIsFresh);
  assert.not.ok(r.devIsBind);
  assert.ok(run([{ destination: '/dev/', source: '/dev', options: ['rbind'] }]).devIsBind);
});

test('recursive attributes on a non-bind mount: warned and ignored', () => {
  const w: string[] = [];
  const m = m0(run([{ destination: '/t', source: 'tmpfs', type: 'tmpfs', options: ['rro'] }], w));
  assert.equal([m.attrSet, m.attrClr], [0n, 0n]);
  assert.match(w[0]!, /^\/mounts\/0\/options: recursive mount attributes apply to bind mounts only/);
});

test('several propagation options: the last one, with a warning', () => {
  const w: string[] = [];
  const m = m0(run([{ destination: '/x', source: '/srv', options: ['rbind', 'rprivate', 'rslave'] }], w));
  assert.is(m.propagation, MS.SLAVE | MS.REC);
  assert.is(w.length, 1);
});

test('proc allowlist and destinations', () => {
  for (const p of PROC_MOUNT_ALLOWLIST) assert.is(run([{ destination: p, source: '/lxcfs' + p + '.txt', options: ['bind'] }]).steps.length, 1);
  assert.throws(() => run([{ destination: '/proc/sys', source: '/srv', options: ['rbind'] }]), /"\/proc\/sys" cannot be mounted because it is inside \/proc/);
  assert.throws(() => run([{ destination: '/', source: 'tmpfs', type: 'tmpfs' }]), /cannot mount on top of the container's root/);
  assert.throws(() => run([{ destination: 'rel', source: 'tmpfs', type: 'tmpfs' }]), /^\/mounts\/0\/destination: must be an absolute path/);
  assert.throws(() => run([{ destination: '/x', source: '/gone', options: ['bind'] }]), /no such file or directory/);
  assert.throws(() => run([{ destination: '/x', options: ['bind'] }]), /^\/mounts\/0\/source: a bind mount needs a source/);
  assert.throws(() => run([{ destination: '/x', source: '/srv', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }]), /uidMappings and gidMappings must be given together/);
  assert.throws(() => run([{ destination: '/x', source: 'tmpfs', type: 'tmpfs', options: ['idmap'] }]), /idmapped mounts are only supported for bind mounts/);
  assert.throws(() => run([{ destination: '/x', source: '/srv', options: ['rbind', 'idmap'] }]), /an idmapped mount needs uidMappings and gidMappings/);
});

test('idmap / ridmap: an idmapTree step into a slot, and a mountTree step in place of the bind', () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const asked: string[] = [];
  const table: IdmapTable = {
    userns: (u, g) => (asked.push(`${u}|${g}`), 3 + asked.indexOf(`${u}|${g}`)),
    firstSlot: () => 5 + asked.length, // asked after every mount: the namespaces are all known by then
  };
  const r = compileMounts([
    { destination: '/a', source: '/srv', options: ['bind', 'idmap', 'ro'], uidMappings: map, gidMappings: [{ containerID: 0, hostID: 200000, size: 10 }] },
    { destination: '/b.txt', source: '/f.txt', options: ['rbind', 'ridmap'] },
  ], ns, ctx, [], table, { uidMappings: map, gidMappings: map });
  assert.equal(asked, ['0 100000 65536\n|0 200000 10\n', '0 100000 65536\n|0 100000 65536\n'], 'the mount\'s own maps, else the container\'s');
  assert.equal(r.trees.map((t) => t.kind), ['idmapTree', 'idmapTree']);
  const [t0, t1] = r.trees as Extract<Step, { kind: 'idmapTree' }>[];
  assert.equal([t0!.source, t0!.userns, t0!.recursive, t0!.slot], ['/srv', 3, 0n, 7n]);
  assert.equal([t1!.userns, t1!.recursive, t1!.slot], [4, 3n, 8n]);
  const [m0t, m1t] = r.steps as Extract<Step, { kind: 'mountTree' }>[];
  assert.equal([m0t!.kind, m0t!.tree, m0t!.target, m0t!.opts, m0t!.remountFlags], ['mountTree', 7, '/a', MOUNT_OPT.MKDIR, MS.RDONLY | MS.BIND | MS.REMOUNT]);
  assert.equal([m1t!.tree, m1t!.opts], [8, MOUNT_OPT.MKFILE]);
});

test('idmap: one user namespace per distinct mapping (plainIdmapTable), trees in the slots after them', () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const r = compileMounts([
    { destination: '/a', source: '/srv', options: ['rbind', 'idmap'] },
    { destination: '/b', source: '/srv', options: ['rbind', 'idmap'] },
    { destination: '/c', source: '/srv', options: ['rbind', 'idmap'], uidMappings: map, gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] },
  ], ns, ctx, [], plainIdmapTable(), { uidMappings: map, gidMappings: map });
  const trees = r.trees as Extract<Step, { kind: 'idmapTree' }>[];
  assert.equal(trees.map((t) => t.userns), [0, 0, 1]);
  assert.equal(trees.map((t) => t.slot), [2n, 3n, 4n]);
});

test('tmpcopyup: COPYUP on tmpfs; ignored with a warning elsewhere', () => {
  const w: string[] = [];
  const r = run([{ destination: '/t', source: 'tmpfs', type: 'tmpfs', options: ['tmpcopyup'] }, { destination: '/b', source: '/srv', options: ['bind', 'tmpcopyup'] }], w);
  assert.is((r.steps[0] as Extract<Step, { kind: 'mount' }>).opts, MOUNT_OPT.MKDIR | MOUNT_OPT.COPYUP);
  assert.is((r.steps[1] as Extract<Step, { kind: 'mount' }>).opts & MOUNT_OPT.COPYUP, 0n);
  assert.is(w.length, 1);
});

test('"atime" on a bind asks for relatime explicitly (a remount keeps the atime mode otherwise)', () => {
  assert.is(m0(run([{ destination: '/x', source: '/srv', options: ['bind', 'atime'] }])).remountFlags, MS.RELATIME | MS.BIND | MS.REMOUNT);
  assert.is(m0(run([{ destination: '/x', source: '/srv', options: ['bind', 'atime', 'strictatime'] }])).remountFlags, MS.STRICTATIME | MS.BIND | MS.REMOUNT);
});

test('cgroup with no hierarchy on the host is an error', () => {
  assert.throws(() => run([{ destination: '/sys/fs/cgroup', source: 'cgroup', type: 'cgroup' }]), /no cgroup hierarchy is mounted on this host/);
});

test('reachableByMappedRoot: every directory on the way searchable by the mapped root (owner, group, other bits) or owned by mapped ids', () => {
  const map = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
  const host: Record<string, { uid: number; gid: number; mode: number }> = {
    '/': { uid: 0, gid: 0, mode: 0o755 }, '/open': { uid: 0, gid: 0, mode: 0o755 }, '/closed': { uid: 0, gid: 0, mode: 0o700 },
    '/mine': { uid: 100000, gid: 100000, mode: 0o700 }, '/grp': { uid: 0, gid: 100000, mode: 0o750 }, '/owner': { uid: 100000, gid: 5, mode: 0o700 },
    '/nox': { uid: 100000, gid: 5, mode: 0o677 },
  };
  const ctx = { statPath: (p: string) => host[p] };
  const r = (p: string) => reachableByMappedRoot(p, ctx, map);
  assert.ok(r('/open/x'), 'other x');
  assert.not.ok(r('/closed/x'), '0700 root-owned');
  assert.ok(r('/mine/x'), 'owned by mapped ids: the namespace\'s capabilities');
  assert.ok(r('/grp/x'), 'group x');
  assert.ok(r('/owner/x'), 'owner x');
  assert.not.ok(r('/nox/x'), 'owner without x: the other bits do not apply');
  assert.not.ok(r('/gone/x'), 'unknown counts as unreachable');
  assert.not.ok(reachableByMappedRoot('/open/x', ctx, undefined), 'no mappings known');
  assert.not.ok(reachableByMappedRoot('/open/x', {}, map), 'no host facts');
});

test.run();

