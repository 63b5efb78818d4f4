/**
 * config-linux.md "Control groups" on a cgroup v1 (or hybrid) host: the container's processes are in
 * linux.cgroupsPath in every hierarchy, the limits from linux.resources are visible in the v1 files (from the host
 * and from inside through the cgroup namespace), some are enforced, and nothing is left after delete.
 * Every container here uses a cgroup under /tsrun-test/ (src/testing/harness.ts); no other cgroup is touched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Conformance, sh, cgroupDirs, CGROUP_PARENT, waitFor } from './harness.js';

const sb = new Conformance();
test.after(() => sb.cleanup());

const V1 = '/sys/fs/cgroup';
const v1 = existsSync(join(V1, 'memory/memory.limit_in_bytes')) && existsSync(join(V1, 'cpu/cpu.shares'));
const t = v1 ? test : test.skip;
const cg = (ctrl: string, id: string, file: string) => readFileSync(join(V1, ctrl, CGROUP_PARENT, id, file), 'utf8').trim();
const MiB = 1024 * 1024;

/** A created container with `resources`; returns its id (the cgroup exists from create on). */
function withResources(resources: any, args = ['sleep', '30']) {
  return sb.created((c) => { Object.assign(c.linux.resources, resources); c.process.args = args; });
}

t('the init is in linux.cgroupsPath in every v1 hierarchy from create on', () => {
  const b = withResources({});
  const pid = sb.state(b.id).pid;
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const ctrl of ['memory', 'cpu', 'cpuacct', 'pids', 'devices', 'freezer', 'blkio', 'cpuset']) {
    const l = lines.find((x) => x.split(':')[1]!.split(',').includes(ctrl));
    assert.ok(l, `${ctrl} in ${lines.join(' | ')}`);
    assert.is(l!.split(':')[2], `${CGROUP_PARENT}/${b.id}`, ctrl);
  }
  assert.ok(cg('pids', b.id, 'cgroup.procs').split('\n').includes(String(pid)));
});

t('memory: limit, reservation, swap, swappiness, disableOOMKiller', () => {
  const b = withResources({ memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, swappiness: 10, disableOOMKiller: true } });
  assert.is(cg('memory', b.id, 'memory.limit_in_bytes'), String(64 * MiB));
  assert.is(cg('memory', b.id, 'memory.soft_limit_in_bytes'), String(32 * MiB));
  if (existsSync(join(V1, 'memory/memory.memsw.limit_in_bytes'))) assert.is(cg('memory', b.id, 'memory.memsw.limit_in_bytes'), String(96 * MiB), 'swap is memory+swap on v1');
  assert.is(cg('memory', b.id, 'memory.swappiness'), '10');
  assert.match(cg('memory', b.id, 'memory.oom_control'), /oom_kill_disable 1/);
});

t('memory: the limit is enforced (the OOM killer ends a process that exceeds it)', () => {
  const r = sb.run((c) => {
    c.linux.resources.memory = { limit: 32 * MiB, swap: 32 * MiB };
    c.process.args = sh('tail /dev/zero; echo "rc=$?"');
  });
  assert.is(r.status, 0, `sh survives: ${r.stderr}`);
  assert.is(r.stdout, 'rc=137\n', 'tail was SIGKILLed by the OOM killer');
});

t('cpu: shares, quota, period, cpus, mems', () => {
  const b = withResources({ cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' } });
  assert.is(cg('cpu', b.id, 'cpu.shares'), '512');
  assert.is(cg('cpu', b.id, 'cpu.cfs_quota_us'), '50000');
  assert.is(cg('cpu', b.id, 'cpu.cfs_period_us'), '100000');
  assert.is(cg('cpuset', b.id, 'cpuset.cpus'), '0');
  assert.is(cg('cpuset', b.id, 'cpuset.mems'), '0');
});

t('pids: limit set and enforced', () => {
  const b = withResources({ pids: { limit: 7 } });
  assert.is(cg('pids', b.id, 'pids.max'), '7');
  const r = sb.run((c) => { c.linux.resources.pids = { limit: 4 }; c.process.args = sh('for i in 1 2 3 4 5 6; do sleep 2 & done; wait'); });
  assert.match(r.stderr, /can't fork|Resource temporarily unavailable|fork/i, `forks beyond the limit fail: ${r.stderr}`);
});

t('blockIO: throttle read/write bps and iops for a device', () => {
  const st = statSync('/');
  const major = Math.floor(st.dev / 256) & 0xfff, minor = (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00);
  const b = withResources({
    blockIO: {
      throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major, minor, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major, minor, rate: 300 }],
      throttleWriteIOPSDevice: [{ major, minor, rate: 400 }],
    },
  });
  assert.is(cg('blkio', b.id, 'blkio.throttle.read_bps_device'), `${major}:${minor} 1048576`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.write_bps_device'), `${major}:${minor} 2097152`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.read_iops_device'), `${major}:${minor} 300`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.write_iops_device'), `${major}:${minor} 400`);
});

t('devices: deny-all plus allow rules; the default devices stay usable; a denied device cannot be opened', () => {
  const b = withResources({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }] });
  const list = cg('devices', b.id, 'devices.list').split('\n');
  assert.not.ok(list.includes('a *:* rwm'), 'not allow-all');
  assert.ok(list.includes('c 10:200 rwm'), `configured rule: ${list.join(', ')}`);
  for (const d of ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:9 rwm']) assert.ok(list.includes(d), `default ${d}: ${list.join(', ')}`);
  // /dev/kmsg-like node (1:11) exists in the container but the device cgroup denies it.
  const out = sb.out((c) => {
    c.linux.devices = [{ path: '/dev/denied', type: 'c', major: 1, minor: 11, fileMode: 0o666 }];
    c.linux.resources.devices = [{ allow: false, access: 'rwm' }];
  }, 'head -c1 /dev/denied >/dev/null 2>&1; echo denied=$?; head -c1 /dev/zero | wc -c');
  assert.equal(out.trim().split('\n').map((s) => s.trim()), ['denied=1', '1']);
});

t('the limits are visible from inside the container through its cgroup namespace', () => {
  const out = sb.out((c) => { c.linux.resources.pids = { limit: 42 }; c.linux.resources.memory = { limit: 48 * MiB }; },
    'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /proc/self/cgroup | grep -c ":/$"');
  const [pids, mem, rootCount] = out.trim().split('\n');
  assert.is(pids, '42');
  assert.is(mem, String(48 * MiB));
  assert.ok(Number(rootCount) >= 8, 'every hierarchy shows the container cgroup as "/"');
});

t('the cgroups are removed by delete', () => {
  const b = withResources({ pids: { limit: 10 }, memory: { limit: 32 * MiB } });
  assert.ok(cgroupDirs(join(CGROUP_PARENT, b.id)).length >= 8, 'created in every hierarchy');
  assert.is(sb.rt(['start', b.id]).status, 0);
  assert.is(sb.rt(['kill', b.id, 'KILL']).status, 0);
  assert.ok(sb.waitStatus(b.id, 'stopped'));
  assert.is(sb.rt(['delete', b.id]).status, 0);
  assert.ok(waitFor(() => cgroupDirs(join(CGROUP_PARENT, b.id)).length === 0), `left: ${cgroupDirs(join(CGROUP_PARENT, b.id)).join(' ')}`);
});

test.run();
