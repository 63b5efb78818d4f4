import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planV1 } from './resources-v1.js';
import { fromSpec, type CgroupResources } from './resources.js';
import type { CgroupProbe } from './plan-types.js';

/** A probe over a flat "controller/file" → content table. */
const probe = (files: Record<string, string> = {}): CgroupProbe => ({ read: (c, f) => files[`${c}/${f}`] });
const table = (r: CgroupResources, files?: Record<string, string>) => planV1({ ...r, skipDevices: true }, probe(files)).writes.map((w) => [w.controller, w.file, w.value]);

test('every v1 resource lands in its file, in runc\'s subsystem order', () => {
  const r = fromSpec({
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, kernelTCP: 16 << 20, swappiness: 10, disableOOMKiller: true },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: '0-1', mems: '0', idle: 0 },
    pids: { limit: 64 },
    blockIO: { weight: 200, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 600 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
  });
  assert.equal(table(r, { 'memory/memory.limit_in_bytes': '9223372036854771712\n', 'blkio/blkio.weight': '500\n' }), [
    ['cpuset', 'cpuset.cpus', '0-1'],
    ['cpuset', 'cpuset.mems', '0'],
    ['memory', 'memory.limit_in_bytes', '67108864'], // lowering from "no limit": the limit first
    ['memory', 'memory.memsw.limit_in_bytes', '134217728'],
    ['memory', 'memory.soft_limit_in_bytes', '33554432'],
    ['memory', 'memory.kmem.tcp.limit_in_bytes', '16777216'],
    ['memory', 'memory.oom_control', '1'],
    ['memory', 'memory.swappiness', '10'],
    ['cpu', 'cpu.shares', '512'],
    ['cpu', 'cpu.cfs_period_us', '100000'],
    ['cpu', 'cpu.cfs_burst_us', '1000'],
    ['cpu', 'cpu.cfs_quota_us', '50000'],
    ['cpu', 'cpu.idle', '0'],
    ['cpu', 'cpu.rt_period_us', '1000'],
    ['cpu', 'cpu.rt_runtime_us', '950'],
    ['pids', 'pids.max', '64'],
    ['blkio', 'blkio.weight', '200'],
    ['blkio', 'blkio.leaf_weight', '300'],
    ['blkio', 'blkio.weight_device', '8:0 500'],
    ['blkio', 'blkio.leaf_weight_device', '8:0 600'],
    ['blkio', 'blkio.throttle.read_bps_device', '8:0 1048576'],
    ['blkio', 'blkio.throttle.write_iops_device', '8:16 100'],
    ['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304'],
    ['hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
    ['net_cls', 'net_cls.classid', '1048577'],
    ['net_prio', 'net_prio.ifpriomap', 'eth0 5'],
    ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
  ]);
});

test('memory and swap: lowering writes the limit first, raising memsw first; -1 lifts memsw too (runc setMemoryAndSwap)', () => {
  const cur = { 'memory/memory.limit_in_bytes': '268435456\n', 'memory/memory.memsw.limit_in_bytes': '536870912\n' };
  assert.equal(table({ memory: 64 << 20, memorySwap: 128 << 20 }, cur), [
    ['memory', 'memory.limit_in_bytes', '67108864'], ['memory', 'memory.memsw.limit_in_bytes', '134217728']]);
  assert.equal(table({ memory: 512 << 20, memorySwap: 1024 << 20 }, cur), [
    ['memory', 'memory.memsw.limit_in_bytes', '1073741824'], ['memory', 'memory.limit_in_bytes', '536870912']]);
  assert.equal(table({ memory: -1 }, cur), [['memory', 'memory.memsw.limit_in_bytes', '-1'], ['memory', 'memory.limit_in_bytes', '-1']]);
  // No swap accounting on the host: -1 alone.
  assert.equal(table({ memory: -1 }, { 'memory/memory.limit_in_bytes': '1' }), [['memory', 'memory.limit_in_bytes', '-1']]);
});

test('a period goes before its quota but may be retried after it; burst is optional; shares are read back', () => {
  const p = planV1({ cpuShares: 1 << 20, cpuQuota: 1000, cpuPeriod: 5000, cpuBurst: 0 }, probe());
  const by = (f: string) => p.writes.find((w) => w.file === f)!;
  assert.ok(by('cpu.cfs_period_us').deferOnEinval);
  assert.ok(by('cpu.cfs_burst_us').deferOnEinval && by('cpu.cfs_burst_us').optional);
  assert.not.ok(by('cpu.cfs_quota_us').deferOnEinval);
  assert.is(by('cpu.shares').verify!(() => '262144\n'), 'the maximum allowed cpu-shares is 262144');
  assert.is(by('cpu.shares').verify!(() => '1048576\n'), undefined);
  // Without a quota there is nothing to retry after: a refused period is an error right away.
  assert.not.ok(planV1({ cpuPeriod: 5000 }, probe()).writes[0]!.deferOnEinval);
});

test('pids: >0 as is, 0 → 1 (as runc, like systemd), <0 → max', () => {
  assert.equal(table({ pidsLimit: 0 }), [['pids', 'pids.max', '1']]);
  assert.equal(table({ pidsLimit: -1 }), [['pids', 'pids.max', 'max']]);
});

test('blkio falls back to BFQ\'s files when CFQ\'s blkio.weight is absent', () => {
  assert.equal(table({ blkioWeight: 100, blkioWeightDevice: [{ major: 254, minor: 0, weight: 300, leafWeight: 0 }] }), [
    ['blkio', 'blkio.bfq.weight', '100'], ['blkio', 'blkio.bfq.weight_device', '254:0 300']]);
});

test('refused settings: unified on v1, swappiness out of range, checkBeforeUpdate under usage; kernel memory is a warning', () => {
  assert.throws(() => planV1({ unified: { 'memory.high': '1' } }, probe()), /invalid configuration: cannot use unified on cgroup v1/);
  assert.throws(() => planV1({ memorySwappiness: 101 }, probe()), /invalid memory swappiness value: 101 \(valid range is 0-100\)/);
  assert.throws(() => planV1({ memory: 1000, memoryCheckBeforeUpdate: true }, probe({ 'memory/memory.usage_in_bytes': '5000\n' })), /rejecting memory limit 1000 <= usage 5000/);
  const p = planV1({ kernelMemory: 1 << 20 }, probe());
  assert.equal(p.writes, []);
  assert.match(p.warnings[0]!, /memory\.kernel is ignored/);
  // Docker's "unset" swappiness (2^64-1, rounded by JSON.parse) writes nothing.
  assert.equal(table(fromSpec({ memory: { swappiness: 18446744073709551615 } })), []);
});

test('useHierarchy is written only when the kernel\'s value differs', () => {
  assert.equal(table({ memoryUseHierarchy: true }, { 'memory/memory.use_hierarchy': '1\n' }), []);
  assert.equal(table({ memoryUseHierarchy: false }, { 'memory/memory.use_hierarchy': '1\n' }), [['memory', 'memory.use_hierarchy', '0']]);
});

test('device rules: the transition from devices.list, with a read-back check on the last write', () => {
  const r = fromSpec({ devices: [{ allow: false, access: 'rwm' }] });
  const p = planV1(r, probe({ 'devices/devices.list': 'a *:* rwm\n' }));
  assert.equal(p.writes[0], { controller: 'devices', file: 'devices.deny', value: 'a *:* rwm', what: 'linux.resources.devices' });
  const last = p.writes[p.writes.length - 1]!;
  assert.is(last.value, 'c 136:* rwm');
  assert.is(last.verify!(() => 'a *:* rwm\n'), "resulting devices cgroup doesn't precisely match target");
  assert.is(planV1({ ...r, skipDevices: true }, probe()).writes.length, 0);
});

test.run();
