import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MASKED_PATHS, SPEC_VERSION, defaultSpec, toRootless } from './defaults.js';
import { configWarnings, validateConfig } from './validate.js';
import { fixturesDir } from './corpus.js';

const fixture = (name: string) => JSON.parse(readFileSync(join(fixturesDir(), 'good', name), 'utf8')) as unknown;
// The JSON round trip drops undefined fields, as `tsrun spec` output would.
const asWritten = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

test('defaultSpec() is fixtures/good/default.json and validates', () => {
  const spec = defaultSpec();
  assert.equal(asWritten(spec), fixture('default.json'));
  assert.equal(validateConfig(spec), []);
  assert.equal(configWarnings(spec), []);
});

test('defaultSpec({rootless}) is fixtures/good/rootless.json and validates', () => {
  const spec = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
  assert.equal(asWritten(spec), fixture('rootless.json'));
  assert.equal(validateConfig(spec), []);
});

test('like runc spec: process, root, hostname, version', () => {
  const s = defaultSpec();
  assert.is(s.ociVersion, SPEC_VERSION);
  assert.is(s.hostname, 'tsrun');
  assert.equal(s.root, { path: 'rootfs', readonly: true });
  assert.equal(s.process?.args, ['sh']);
  assert.is(s.process?.terminal, true);
  assert.is(s.process?.cwd, '/');
  assert.is(s.process?.noNewPrivileges, true);
  assert.equal(s.process?.user, { uid: 0, gid: 0 });
  assert.equal(s.process?.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
  assert.equal(s.process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
  assert.equal(s.linux?.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.equal(s.linux?.namespaces?.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  assert.equal(s.mounts?.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
  assert.ok(s.linux?.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux?.readonlyPaths?.includes('/proc/sysrq-trigger'));
});

test('no inheritable and no ambient capabilities (CVE-2022-29162, security.md D9)', () => {
  for (const s of [defaultSpec(), defaultSpec({ rootless: true })]) {
    const caps = s.process?.capabilities;
    assert.equal(caps?.bounding, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    assert.equal(caps?.effective, caps?.bounding);
    assert.equal(caps?.permitted, caps?.bounding);
    assert.is(caps?.inheritable, undefined);
    assert.is(caps?.ambient, undefined);
    assert.not.ok(JSON.stringify(s).includes('inheritable'));
  }
});

test('rootless: user namespace with a one-id mapping, no network namespace, host /sys bound, no limits', () => {
  const s = defaultSpec({ rootless: true, uid: 1234, gid: 5678 });
  const types = s.linux?.namespaces?.map((n) => n.type);
  assert.equal(types, ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
  assert.equal(s.linux?.uidMappings, [{ containerID: 0, hostID: 1234, size: 1 }]);
  assert.equal(s.linux?.gidMappings, [{ containerID: 0, hostID: 5678, size: 1 }]);
  assert.equal(s.mounts?.find((m) => m.destination === '/sys'), { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  assert.not.ok(s.mounts?.some((m) => m.options?.some((o) => o.startsWith('gid=') || o.startsWith('uid='))));
  assert.is(s.linux?.resources, undefined);
});

test('rootless defaults to this process effective ids', () => {
  const s = defaultSpec({ rootless: true });
  assert.is(s.linux?.uidMappings?.[0]?.hostID, process.geteuid!());
  assert.is(s.linux?.gidMappings?.[0]?.hostID, process.getegid!());
});

test('each call returns a fresh object; toRootless does not modify its input', () => {
  const a = defaultSpec();
  a.linux!.maskedPaths!.push('/x');
  assert.equal(defaultSpec().linux?.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  const before = JSON.stringify(a);
  toRootless(a, { uid: 1, gid: 1 });
  assert.is(JSON.stringify(a), before);
});

test.run();
