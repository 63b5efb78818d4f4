import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { expandSlice, parseSystemdCgroupsPath, systemdCgroupPaths } from './systemd-path.js';
import { parseCgroupMounts, parseProcCgroup } from './mounts.js';
import { TsrunError } from '../../errors.js';

const throwsMsg = (fn: () => unknown, re: RegExp) => {
  try { fn(); } catch (e) { assert.instance(e, TsrunError); assert.match((e as Error).message, re); return; }
  assert.unreachable('did not throw');
};

test('expandSlice: runc ExpandSlice cases', () => {
  assert.is(expandSlice('system.slice'), '/system.slice');
  assert.is(expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  assert.is(expandSlice('tsrun_test.slice'), '/tsrun_test.slice');
  assert.is(expandSlice('-.slice'), '/');
  for (const badName of ['.slice', 'foo', 'a/b.slice', 'test--a.slice', '-test.slice', 'test-.slice', 'x.scope']) {
    throwsMsg(() => expandSlice(badName), /^invalid slice name: /);
  }
});

test('slice:prefix:name → unit, slice; defaults and errors', () => {
  assert.equal(parseSystemdCgroupsPath('system.slice:docker:1234', 'id'), { unit: 'docker-1234.scope', slice: 'system.slice', slicePath: '/system.slice', name: '1234' });
  assert.equal(parseSystemdCgroupsPath(':crio:abc', 'id'), { unit: 'crio-abc.scope', slice: 'system.slice', slicePath: '/system.slice', name: 'abc' });
  assert.equal(parseSystemdCgroupsPath('tsrun_test-a.slice:tsrun:c1', 'id').slicePath, '/tsrun_test.slice/tsrun_test-a.slice');
  // a name ending in .slice asks for a slice unit
  assert.equal(parseSystemdCgroupsPath('kubepods.slice::kubepods-burstable.slice', 'id'), { unit: 'kubepods-burstable.slice', slice: 'kubepods.slice', slicePath: '/kubepods.slice', name: 'kubepods-burstable.slice' });
  // no cgroupsPath: system.slice, tsrun's prefix, the container id (runc: runc-<id>.scope)
  assert.equal(parseSystemdCgroupsPath(undefined, 'c7'), { unit: 'tsrun-c7.scope', slice: 'system.slice', slicePath: '/system.slice', name: 'c7' });
  assert.equal(parseSystemdCgroupsPath('', 'c7').unit, 'tsrun-c7.scope');
  throwsMsg(() => parseSystemdCgroupsPath('/tsrun-test/x', 'id'), /^expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/tsrun-test\/x" instead$/);
  throwsMsg(() => parseSystemdCgroupsPath('a:b:c:d', 'id'), /slice:prefix:name/);
  throwsMsg(() => parseSystemdCgroupsPath('bad:p:n', 'id'), /invalid slice name: bad/);
  // names that would make a path outside the slice are refused before any mkdir
  throwsMsg(() => parseSystemdCgroupsPath('system.slice:x:../../etc', 'id'), /not a valid systemd unit name/);
  throwsMsg(() => parseSystemdCgroupsPath('system.slice:x:a b', 'id'), /not a valid systemd unit name/);
});

const HYBRID = [
  '30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '31 25 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
  '32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '33 25 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
].join('\n');

test('paths: every v1 hierarchy plus unified, below PID 1\'s cgroup without init.scope', () => {
  const u = parseSystemdCgroupsPath('tsrun_test.slice:tsrun:c1', 'c1');
  const init = parseProcCgroup('4:memory:/\n3:cpu,cpuacct:/\n2:name=systemd:/init.scope\n0::/init.scope\n');
  assert.equal(systemdCgroupPaths(u, parseCgroupMounts(HYBRID), init), {
    'name=systemd': '/sys/fs/cgroup/systemd/tsrun_test.slice/tsrun-c1.scope',
    'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/tsrun_test.slice/tsrun-c1.scope',
    memory: '/sys/fs/cgroup/memory/tsrun_test.slice/tsrun-c1.scope',
    unified: '/sys/fs/cgroup/unified/tsrun_test.slice/tsrun-c1.scope',
  });
  // PID 1 in a nested cgroup (systemd in a container): the slice goes below it
  const nested = parseProcCgroup('4:memory:/outer\n3:cpu,cpuacct:/outer\n2:name=systemd:/outer/init.scope\n0::/outer/init.scope\n');
  const p = systemdCgroupPaths(u, parseCgroupMounts(HYBRID), nested);
  assert.is(p['name=systemd'], '/sys/fs/cgroup/systemd/outer/tsrun_test.slice/tsrun-c1.scope');
  assert.is(p.memory, '/sys/fs/cgroup/memory/outer/tsrun_test.slice/tsrun-c1.scope');
});

test('paths: pure v2 → <mount>/<slice path>/<unit> (runc\'s unified manager ignores PID 1\'s cgroup)', () => {
  const v2 = parseCgroupMounts('30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
  const u = parseSystemdCgroupsPath('tsrun_test-a.slice:p:n', 'x');
  assert.equal(systemdCgroupPaths(u, v2, parseProcCgroup('0::/init.scope\n')), { unified: '/sys/fs/cgroup/tsrun_test.slice/tsrun_test-a.slice/p-n.scope' });
});

test.run();
