import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planV2, swapToV2 } from './resources-v2.js';
import { fromSpec, sharesToWeight, blkioWeightToIoWeight, type CgroupResources } from './resources.js';
import type { CgroupProbe } from './plan-types.js';

const probe = (files: Record<string, string> = {}): CgroupProbe => ({ read: (_c, f) => files[f] });
const table = (r: CgroupResources, files?: Record<string, string>) => planV2({ ...r, skipDevices: true }, probe(files)).writes.map((w) => [w.controller, w.file, w.value]);

test('runc\'s conversions: shares → weight (linear, runc 1.1), blkio weight → io.weight', () => {
  assert.is(sharesToWeight(0), 0);
  assert.is(sharesToWeight(2), 1);
  assert.is(sharesToWeight(1024), 39);
  assert.is(sharesToWeight(262144), 10000);
  assert.is(blkioWeightToIoWeight(10), 1);
  assert.is(blkioWeightToIoWeight(500), 4950);
  assert.is(blkioWeightToIoWeight(1000), 10000);
});

test('v1 memory+swap → v2 swap alone (runc ConvertMemorySwapToCgroupV2Value)', () => {
  assert.is(swapToV2(0, -1), -1);
  assert.is(swapToV2(-1, 100), -1);
  assert.is(swapToV2(300, 100), 200);
  assert.is(swapToV2(300, -1), 300);
  assert.throws(() => swapToV2(300, 0), /unable to set swap limit without memory limit/);
  assert.throws(() => swapToV2(50, 100), /memory\+swap limit should be >= memory limit/);
});

test('every v2 resource in runc fs2 order, unified last', () => {
  const r = fromSpec({
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
    cpu: { shares: 1024, quota: 50000, burst: 1000, cpus: '0', mems: '0', idle: 1 },
    pids: { limit: 10 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 7 }] },
    hugepageLimits: [{ pageSize: '1GB', limit: 0 }],
    rdma: { mlx4_0: { hcaObjects: 5 } },
    unified: { 'memory.high': '50000000', 'io.weight': 'default 100\n8:0 200' },
  });
  assert.equal(table(r), [
    ['pids', 'pids.max', '10'],
    ['memory', 'memory.swap.max', '33554432'],
    ['memory', 'memory.max', '67108864'],
    ['memory', 'memory.low', '33554432'],
    ['io', 'io.weight', '4950'],
    ['io', 'io.max', '8:0 rbps=100'],
    ['io', 'io.max', '8:0 wiops=7'],
    ['cpu', 'cpu.idle', '1'],
    ['cpu', 'cpu.weight', '39'],
    ['cpu', 'cpu.max.burst', '1000'],
    ['cpu', 'cpu.max', '50000 100000'],
    ['cpuset', 'cpuset.cpus', '0'],
    ['cpuset', 'cpuset.mems', '0'],
    ['hugetlb', 'hugetlb.1GB.max', '0'],
    ['hugetlb', 'hugetlb.1GB.rsvd.max', '0'],
    ['rdma', 'rdma.max', 'mlx4_0 hca_object=5'],
    ['memory', 'memory.high', '50000000'],
    ['io', 'io.weight', 'default 100'],
    ['io', 'io.weight', '8:0 200'],
  ]);
});

test('cpu.max: no quota → max; period alone keeps max; BFQ weights when io.bfq.weight exists', () => {
  assert.equal(table({ cpuPeriod: 20000 }), [['cpu', 'cpu.max', 'max 20000']]);
  assert.equal(table({ cpuQuota: -1 }), [['cpu', 'cpu.max', 'max 100000']]);
  assert.equal(table({ blkioWeight: 300, blkioWeightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 0 }] }, { 'io.bfq.weight': 'default 100\n' }), [
    ['io', 'io.bfq.weight', '300'], ['io', 'io.bfq.weight', '8:0 400']]);
  // An old BFQ (plain number): no per-device lines there; io.weight takes them.
  assert.equal(table({ blkioWeightDevice: [{ major: 8, minor: 0, weight: 1000, leafWeight: 0 }] }, { 'io.bfq.weight': '100\n' }), [['io', 'io.weight', '8:0 10000']]);
});

test('swap "max"/"0" may be missing (no swap accounting); unlimited memory lifts swap too', () => {
  const p = planV2({ memory: -1 }, probe());
  assert.equal(p.writes.map((w) => [w.file, w.value, Boolean(w.optional)]), [['memory.swap.max', 'max', true], ['memory.max', 'max', false]]);
  assert.equal(table({ memory: 100, memorySwap: 100 }), [['memory', 'memory.swap.max', '0'], ['memory', 'memory.max', '100']]);
});

test('v1-only settings are warnings on v2; realtime and bad unified keys are errors', () => {
  const p = planV2({ memorySwappiness: 10, oomKillDisable: true, kernelMemory: 1, kernelMemoryTCP: 1, netClsClassid: 1, blkioLeafWeight: 10 }, probe());
  assert.equal(p.writes, []);
  assert.is(p.warnings.length, 6);
  assert.throws(() => planV2({ cpuRtRuntime: 100 }, probe()), /cgroup v2 has no realtime group scheduling/);
  assert.throws(() => planV2({ unified: { '../x': '1' } }, probe()), /must be a file name \(no slashes\)/);
  assert.throws(() => planV2({ unified: { 'cgroup.procs': '1' } }, probe()), /is not a resource limit/);
  assert.equal(planV2({ unified: { 'cgroup.max.depth': '3' } }, probe()).writes[0]!.controller, 'cgroup');
});

test('checkBeforeUpdate compares with memory.current', () => {
  assert.throws(() => planV2({ memory: 4096, memoryCheckBeforeUpdate: true }, probe({ 'memory.current': '8192\n' })), /rejecting memory limit 4096 <= usage 8192/);
  assert.is(planV2({ memory: 16384, memoryCheckBeforeUpdate: true }, probe({ 'memory.current': '8192\n' })).writes.length, 1);
});

test.run();
