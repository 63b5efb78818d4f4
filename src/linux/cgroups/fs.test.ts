import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCgroupMounts, parseProcCgroup } from './mounts.js';
import { resolveCgroupPaths } from './fs.js';

const HYBRID = [
  '30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate',
  '32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:6 - cgroup cgroup rw,xattr,name=systemd',
  '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:7 - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:8 - cgroup cgroup rw,memory',
  '35 30 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:9 - cgroup cgroup rw,pids',
].join('\n');

test('a hybrid host: v1 hierarchies with their controllers, and the v2 mount', () => {
  const m = parseCgroupMounts(HYBRID);
  assert.is(m.mode, 'hybrid');
  assert.is(m.v2, '/sys/fs/cgroup/unified');
  assert.equal(m.v1.map((h) => h.controllers.join(',')), ['name=systemd', 'cpu,cpuacct', 'memory', 'pids']);
});

test('absolute cgroupsPath is from each hierarchy root; relative and default are below our own cgroup', () => {
  const m = parseCgroupMounts(HYBRID);
  const own = parseProcCgroup('4:memory:/process_api/x\n3:pids:/\n2:cpu,cpuacct:/a\n1:name=systemd:/\n0::/u');
  assert.equal(resolveCgroupPaths('/tsrun-test/c1', 'c1', m, own), {
    'name=systemd': '/sys/fs/cgroup/systemd/tsrun-test/c1', 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/tsrun-test/c1',
    memory: '/sys/fs/cgroup/memory/tsrun-test/c1', pids: '/sys/fs/cgroup/pids/tsrun-test/c1', unified: '/sys/fs/cgroup/unified/tsrun-test/c1',
  });
  const rel = resolveCgroupPaths(undefined, 'c2', m, own);
  assert.is(rel.memory, '/sys/fs/cgroup/memory/process_api/x/c2');
  assert.is(rel['cpu,cpuacct'], '/sys/fs/cgroup/cpu,cpuacct/a/c2');
  assert.is(rel.unified, '/sys/fs/cgroup/unified/u/c2');
});

test('paths are cleaned like runc (never above the hierarchy root); systemd-looking ones are refused', () => {
  const m = parseCgroupMounts(HYBRID);
  assert.is(resolveCgroupPaths('/../../etc', 'x', m, new Map()).pids, '/sys/fs/cgroup/pids/etc');
  assert.is(resolveCgroupPaths('../../up', 'x', m, new Map([['pids', '/a']])).pids, '/sys/fs/cgroup/pids/up');
  assert.throws(() => resolveCgroupPaths('system.slice:tsrun:x', 'x', m, new Map()), /--systemd-cgroup/);
});

test.run();
