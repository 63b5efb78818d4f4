import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { envValue, hostIdOf, hostRoot, prepareEnv, searchPath, toI64, toId, toU64 } from './creds.js';

test('toU64: clamps JSON-rounded RLIM_INFINITY, refuses negatives and fractions', () => {
  assert.is(toU64(1024, '/x'), 1024n);
  assert.is(toU64(18446744073709551615, '/x'), 0xffffffffffffffffn);
  assert.is(toU64(2 ** 70, '/x'), 0xffffffffffffffffn);
  assert.is(toU64(2n ** 70n, '/x'), 0xffffffffffffffffn);
  assert.throws(() => toU64(-1, '/process/rlimits/0/soft'), /^\/process\/rlimits\/0\/soft: must be an unsigned integer/);
  assert.throws(() => toU64(1.5, '/x'), /unsigned integer/);
  assert.is(toI64(-1, '/x'), 0xffffffffffffffffn);
  assert.is(toId(65534, '/x'), 65534n);
  assert.throws(() => toId(0xffffffff, '/process/user/uid'), /^\/process\/user\/uid: invalid id/);
});

test('hostRoot: 0:0 without a user namespace, else the mapping of 0', () => {
  assert.equal(hostRoot('none', undefined, undefined), { uid: 0n, gid: 0n });
  const u = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
  assert.equal(hostRoot('new', u, [{ containerID: 0, hostID: 2000, size: 1 }]), { uid: 1000n, gid: 2000n });
  assert.is(hostIdOf(u, 5), 100004);
  assert.is(hostIdOf(u, 70000), undefined);
  assert.throws(() => hostRoot('new', u, [{ containerID: 1, hostID: 5, size: 1 }]), /^\/linux\/gidMappings: the container's root/);
});

test('prepareEnv: runc semantics', () => {
  assert.equal(prepareEnv(['A=1', 'B=2', 'A=3'], [], '/root'), ['B=2', 'A=3', 'HOME=/root']);
  assert.equal(prepareEnv(['HOME=', 'X=='], [], '/'), ['X==', 'HOME=/']);
  assert.equal(prepareEnv(['HOME=/h'], ['LISTEN_FDS=1', 'LISTEN_PID=1'], '/root'), ['HOME=/h', 'LISTEN_FDS=1', 'LISTEN_PID=1']);
  assert.equal(prepareEnv(undefined, [], '/root'), ['HOME=/root']);
  assert.throws(() => prepareEnv(['OK=1', 'NOEQUALS'], [], '/'), /^\/process\/env\/1: invalid environment variable: missing '='/);
  assert.throws(() => prepareEnv(['=x'], [], '/'), /name cannot be empty/);
  assert.throws(() => prepareEnv(['A=a\0b'], [], '/'), /contains nul byte/);
});

test('searchPath', () => {
  assert.equal(searchPath(['PATH=/usr/bin::/bin:']), ['/usr/bin', '/bin']);
  assert.equal(searchPath(['TERM=x']), []);
  assert.is(envValue(['A=1', 'AB=2'], 'AB'), '2');
});

test.run();
