import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectLsm, hostLsm, type LsmProbe } from './lsm.js';

/** A fake host: files with contents; directories exist but do not read. */
function host(files: Record<string, string>, dirs: string[] = []): LsmProbe {
  return {
    read: (p) => (Object.hasOwn(files, p) ? files[p] : undefined),
    exists: (p) => Object.hasOwn(files, p) || dirs.includes(p),
  };
}

test('no LSM (this host\'s kind): neither enabled, AppArmor falls back to attr/exec', () => {
  assert.equal(detectLsm(host({ '/proc/thread-self/attr/current': '' })), { apparmor: false, apparmorExecAttr: 'exec', selinux: false });
});

test('AppArmor: enabled only with securityfs/apparmor and parameters/enabled starting with Y', () => {
  const aa = { '/sys/module/apparmor/parameters/enabled': 'Y\n', '/proc/self/attr/apparmor/exec': '' };
  assert.equal(detectLsm(host(aa, ['/sys/kernel/security/apparmor'])), { apparmor: true, apparmorExecAttr: 'apparmor/exec', selinux: false });
  assert.is(detectLsm(host(aa)).apparmor, false, 'securityfs entry missing (runc isEnabled)');
  assert.is(detectLsm(host({ ...aa, '/sys/module/apparmor/parameters/enabled': 'N\n' }, ['/sys/kernel/security/apparmor'])).apparmor, false);
  // compiled in but disabled: the per-LSM attr directory still exists, and runc would still write there
  assert.is(detectLsm(host({ '/proc/self/attr/apparmor/exec': '' })).apparmorExecAttr, 'apparmor/exec');
});

test('SELinux: selinuxfs mounted and a current label other than "kernel"', () => {
  const se = { '/sys/fs/selinux/enforce': '1', '/proc/thread-self/attr/current': 'system_u:system_r:unconfined_t:s0\0' };
  assert.is(detectLsm(host(se)).selinux, true);
  assert.is(detectLsm(host({ ...se, '/proc/thread-self/attr/current': 'kernel\0' })).selinux, false);
  assert.is(detectLsm(host({ '/proc/thread-self/attr/current': 'system_u:system_r:unconfined_t:s0' })).selinux, false, 'no selinuxfs');
});

test('hostLsm on this host matches what sysfs says', async () => {
  const { existsSync } = await import('node:fs');
  const h = hostLsm();
  if (!existsSync('/sys/fs/selinux/enforce')) assert.is(h.selinux, false);
  if (!existsSync('/sys/module/apparmor/parameters/enabled')) assert.is(h.apparmor, false);
  assert.is(h.apparmorExecAttr, existsSync('/proc/self/attr/apparmor/exec') ? 'apparmor/exec' : 'exec');
});

test.run();
