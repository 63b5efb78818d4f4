import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makedev, S_IFBLK, S_IFCHR, S_IFIFO } from './constants.js';
import { DEFAULT_DEVICES, deviceSteps } from './devices.js';
import { MOUNT_OPT, type Step } from './steps.js';

const nodes = (s: Step[]) => s.filter((x): x is Extract<Step, { kind: 'mknod' }> => x.kind === 'mknod');
const links = (s: Step[]) => s.filter((x): x is Extract<Step, { kind: 'symlink' }> => x.kind === 'symlink');

test('defaults, mknod, then links; /dev/core only with a host /proc/kcore', () => {
  const s = deviceSteps(undefined, { bindNodes: false, hasKcore: false });
  assert.equal(nodes(s).map((n) => [n.path, n.mode, n.dev, n.uid, n.gid, n.opts]), DEFAULT_DEVICES.map((d) => [d.path, S_IFCHR | 0o666n, makedev(d.major, d.minor), 0n, 0n, 0n]));
  assert.equal(links(s).map((l) => l.path), ['/dev/ptmx', '/dev/fd', '/dev/stdin', '/dev/stdout', '/dev/stderr']);
  assert.is(links(deviceSteps(undefined, { bindNodes: false, hasKcore: true })).at(-1)!.path, '/dev/core');
});

test('linux.devices: types, modes, ids, overriding a default, skipping /dev/ptmx', () => {
  const s = deviceSteps([
    { type: 'b', path: '/dev/sda', major: 8, minor: 0, fileMode: 0o60660, uid: 6, gid: 7 },
    { type: 'u', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o620 },
    { type: 'p', path: '/dev/fifo' },
    { type: 'c', path: '/dev/ptmx', major: 5, minor: 2 },
    { type: 'c', path: '/dev/big', major: 4095 + 1, minor: 300 },
  ], { bindNodes: false, hasKcore: false });
  const n = nodes(s);
  assert.equal(n.map((x) => x.path), ['/dev/null', '/dev/random', '/dev/full', '/dev/zero', '/dev/urandom', '/dev/sda', '/dev/tty', '/dev/fifo', '/dev/big']);
  assert.equal([n[5]!.mode, n[5]!.dev, n[5]!.uid, n[5]!.gid], [S_IFBLK | 0o660n, 0x800n, 6n, 7n]);
  assert.equal([n[6]!.mode, n[6]!.dev], [S_IFCHR | 0o620n, 0x500n]);
  assert.equal([n[7]!.mode, n[7]!.dev], [S_IFIFO | 0o666n, 0n]);
  assert.is(n[8]!.dev, makedev(4096, 300));
  assert.is(makedev(4096, 300), (1n << 44n) | (1n << 20n) | 0x2cn);
});

test('in a user namespace nodes are binds of the host nodes', () => {
  const n = nodes(deviceSteps([{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }], { bindNodes: true, hasKcore: false }));
  assert.ok(n.every((x) => x.opts === MOUNT_OPT.BIND_FD));
  assert.match(n.at(-1)!.label, /^bind host \/dev\/fuse/);
});

test('bad devices', () => {
  assert.throws(() => deviceSteps([{ type: 'x' as 'c', path: '/dev/x', major: 1, minor: 1 }], { bindNodes: false, hasKcore: false }), /^\/linux\/devices\/0\/type: invalid device type "x"/);
  assert.throws(() => deviceSteps([{ type: 'c', path: '/dev/x' }], { bindNodes: false, hasKcore: false }), /needs major and minor/);
  assert.throws(() => deviceSteps([{ type: 'c', path: 'dev/x', major: 1, minor: 1 }], { bindNodes: false, hasKcore: false }), /must be an absolute path/);
});

test.run();
