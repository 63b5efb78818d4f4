import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sysctlPath, sysctlSteps } from './sysctl.js';

test('dots and slashes', () => {
  assert.is(sysctlPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  assert.is(sysctlPath('kernel.shm_rmid_forced'), '/proc/sys/kernel/shm_rmid_forced');
  assert.is(sysctlPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  assert.is(sysctlPath('fs.mqueue.msg_max'), '/proc/sys/fs/mqueue/msg_max');
});

test('keys that would escape /proc/sys are refused', () => {
  for (const bad of ['', '.', 'net..x', '/etc/passwd', 'net/../../x', 'kernel.']) assert.throws(() => sysctlPath(bad), /^\/linux\/sysctl: invalid key/);
});

test('steps keep config order', () => {
  assert.equal(sysctlSteps({ 'kernel.msgmax': '65536', 'net.core.somaxconn': '1024' }), [
    { kind: 'sysctl', path: '/proc/sys/kernel/msgmax', value: '65536', label: 'sysctl kernel.msgmax=65536' },
    { kind: 'sysctl', path: '/proc/sys/net/core/somaxconn', value: '1024', label: 'sysctl net.core.somaxconn=1024' },
  ]);
});

test.run();
