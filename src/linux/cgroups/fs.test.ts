import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCgroupMounts, parseProcCgroup } from './mounts.js';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroups, resolveCgroupPaths } from './fs.js';

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

/** A plain directory standing in for a v1 hierarchy (no cpuset: nothing to initialise). */
function fakeHierarchy() {
  const mnt = mkdtempSync(join(tmpdir(), 'tsrun-cg-'));
  return { mnt, mounts: { mode: 'v1' as const, v1: [{ controllers: ['pids'], mountpoint: mnt, root: '/' }] } };
}

test('createCgroups: a parent removed by a concurrent delete between EEXIST and the child\'s mkdir is made again', () => {
  const { mnt, mounts } = fakeHierarchy();
  try {
    mkdirSync(join(mnt, 'docker'));
    let raced = false;
    const mkdir = (d: string) => {
      // the other container's delete takes the (empty) parent away right before our leaf's mkdir
      if (d === join(mnt, 'docker', 'c2') && !raced) { raced = true; rmdirSync(join(mnt, 'docker')); }
      mkdirSync(d);
    };
    const created = createCgroups({ pids: join(mnt, 'docker', 'c2') }, mounts as never, mkdir);
    assert.ok(raced);
    assert.equal(created, [join(mnt, 'docker', 'c2'), join(mnt, 'docker')], 'both now ours, deepest first');
    assert.ok(existsSync(join(mnt, 'docker', 'c2')));
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});

test('createCgroups: a failure removes what it made, children before parents', () => {
  const { mnt, mounts } = fakeHierarchy();
  try {
    const mkdir = (d: string) => {
      if (d.endsWith('leaf')) throw Object.assign(new Error(`mkdir ${d}: permission denied`), { code: 'EACCES' });
      mkdirSync(d);
    };
    assert.throws(() => createCgroups({ pids: join(mnt, 'a', 'b', 'leaf') }, mounts as never, mkdir), /unable to create cgroup: mkdir .*leaf: permission denied/);
    assert.not.ok(existsSync(join(mnt, 'a')), 'a and a/b removed');
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});

test.run();
