import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CAPABILITY_NAMES } from './caps.js';
import { features, OCI_VERSION_MAX } from './features.js';

test('shape and truthfulness', () => {
  const f = features({ cgroup: { v1: false, v2: true, systemd: false } });
  assert.is(f.ociVersionMin, '1.0.0');
  assert.is(f.ociVersionMax, OCI_VERSION_MAX);
  assert.equal(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  assert.equal(f.linux!.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  assert.equal(f.linux!.capabilities, [...CAPABILITY_NAMES]);
  assert.equal(f.linux!.cgroup, { v1: false, v2: true, systemd: false, systemdUser: false, rdma: false });
  // nothing compile refuses may be claimed
  assert.equal(f.linux!.seccomp, { enabled: false });
  assert.equal(f.linux!.mountExtensions, { idmap: { enabled: true } });
  assert.equal(f.linux!.apparmor, { enabled: true }); // compiled-in support (features-linux.md), as runc
  assert.equal(f.linux!.selinux, { enabled: true });
  for (const yes of ['idmap', 'ridmap', 'tmpcopyup']) assert.ok(f.mountOptions!.includes(yes), yes);
  assert.ok(f.mountOptions!.includes('rro'));
  assert.is(f.annotations, undefined);
  assert.equal(features({ cgroup: { v1: true, v2: true, systemd: true }, version: '0.1.0' }).annotations, { 'io.github.tsrun.version': '0.1.0' });
});

test('serialises as JSON (no bigint)', () => {
  const f = features({ cgroup: { v1: true, v2: false, systemd: false } });
  assert.equal(JSON.parse(JSON.stringify(f)), f);
});

test.run();
