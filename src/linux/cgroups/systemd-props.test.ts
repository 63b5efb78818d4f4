import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { annotationProperties, deviceGroup, rangeToBits, resourceProperties, startProperties, type UnitProperty } from './systemd-props.js';
import { parseSystemdCgroupsPath } from './systemd-path.js';
import { fromSpec } from './resources.js';
import { TsrunError } from '../../errors.js';

const MAX = 2n ** 64n - 1n;
const byName = (ps: UnitProperty[]) => Object.fromEntries(ps.map((p) => [p.name, p.value]));
const sigs = (ps: UnitProperty[]) => Object.fromEntries(ps.map((p) => [p.name, p.sig]));
const PROC_DEVICES = 'Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n\nBlock devices:\n  8 sd\n';
const ctx = (o: Partial<{ v2: boolean; version: number }> = {}) => ({ v2: false, version: 252, procDevices: () => PROC_DEVICES, exists: () => true, ...o });

test('start properties for a scope (runc Apply order) with the pid and accounting', () => {
  const u = parseSystemdCgroupsPath('tsrun_test.slice:tsrun:c1', 'c1');
  const ps = startProperties(u, 4242, { skipDevices: true }, undefined, ctx());
  assert.equal(ps.map((p) => p.name), ['Description', 'Slice', 'Delegate', 'PIDs', 'MemoryAccounting', 'CPUAccounting', 'BlockIOAccounting', 'TasksAccounting', 'DefaultDependencies']);
  assert.equal(byName(ps), { Description: 'tsrun container c1', Slice: 'tsrun_test.slice', Delegate: true, PIDs: [4242], MemoryAccounting: true, CPUAccounting: true, BlockIOAccounting: true, TasksAccounting: true, DefaultDependencies: false });
  assert.equal(sigs(ps).PIDs, 'au');
  // v2: IOAccounting; a slice unit: Wants= its parent, no Delegate
  const v2 = startProperties(parseSystemdCgroupsPath('a.slice::a-b.slice', 'x'), -1, { skipDevices: true }, undefined, ctx({ v2: true }));
  assert.equal(v2.map((p) => p.name), ['Description', 'Wants', 'MemoryAccounting', 'CPUAccounting', 'IOAccounting', 'TasksAccounting', 'DefaultDependencies']);
  assert.equal(byName(v2).Wants, ['a.slice']);
});

test('v1 resource properties: MemoryLimit, CPUShares, CPUQuotaPerSecUSec (rounded up), BlockIOWeight, TasksMax, AllowedCPUs', () => {
  const r = fromSpec({ memory: { limit: 64 << 20 }, cpu: { shares: 512, quota: 33_333, period: 100_000, cpus: '0-1', mems: '0' }, pids: { limit: 50 }, blockIO: { weight: 300 } });
  const ps = resourceProperties({ ...r, skipDevices: true }, ctx());
  assert.equal(byName(ps), {
    MemoryLimit: BigInt(64 << 20), CPUShares: 512n, CPUQuotaPeriodUSec: 100_000n, CPUQuotaPerSecUSec: 340_000n,
    BlockIOWeight: 300n, TasksMax: 50n, AllowedCPUs: Buffer.from([3]), AllowedMemoryNodes: Buffer.from([1]),
  });
  assert.is(sigs(ps).MemoryLimit, 't');
  assert.is(sigs(ps).AllowedCPUs, 'ay');
  // unlimited: -1 → 2^64-1; quota -1 with a period → infinity per second
  const un = byName(resourceProperties({ memory: -1, pidsLimit: -1, cpuQuota: -1, cpuPeriod: 50_000 }, ctx()));
  assert.equal(un, { MemoryLimit: MAX, CPUQuotaPeriodUSec: 50_000n, CPUQuotaPerSecUSec: MAX, TasksMax: MAX });
  // an old systemd: no CPUQuotaPeriodUSec (< 242), no AllowedCPUs (< 244); cgroupfs still gets them
  const warns: string[] = [];
  const old = byName(resourceProperties({ cpuQuota: 50_000, cpuPeriod: 100_000, cpusetCpus: '0' }, { ...ctx({ version: 240 }), warn: (m) => warns.push(m) }));
  assert.equal(old, { CPUQuotaPerSecUSec: 500_000n });
  assert.is(warns.length, 2);
});

test('v2 resource properties: MemoryMax/Low/SwapMax, CPUWeight from shares, unified keys', () => {
  const ps = byName(resourceProperties({ memory: 100 << 20, memoryReservation: 50 << 20, memorySwap: 200 << 20, cpuShares: 1024, pidsLimit: 10,
    unified: { 'memory.high': '90000000', 'pids.max': 'max', 'cpu.weight': '77', 'io.weight': 'default 100' } }, ctx({ v2: true })));
  assert.equal(ps, { MemoryMax: BigInt(100 << 20), MemoryLow: BigInt(50 << 20), MemorySwapMax: BigInt(100 << 20), CPUWeight: 77n, TasksMax: MAX, MemoryHigh: 90_000_000n });
  assert.throws(() => resourceProperties({ unified: { 'a/b': '1' } }, ctx({ v2: true })), /must be a file name/);
  assert.throws(() => resourceProperties({ memorySwap: 5 }, ctx({ v2: true })), /unable to set swap limit without memory limit/);
});

test('rangeToBits: runc RangeToBits, least significant byte first', () => {
  assert.equal([...rangeToBits('0')], [1]);
  assert.equal([...rangeToBits('0-2,7')], [0x87]);
  assert.equal([...rangeToBits('8')], [0, 1]);
  assert.equal([...rangeToBits(' 1 , 9-10,')], [2, 6]);
  assert.throws(() => rangeToBits(''), /empty value/);
  assert.throws(() => rangeToBits('3-1'), /invalid range/);
  assert.throws(() => rangeToBits('x'), /invalid syntax/);
});

test('device properties: strict allow list from the emulator (runc generateDeviceProperties)', () => {
  const r = fromSpec({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }] });
  const ps = resourceProperties(r, ctx());
  assert.equal(ps.map((p) => p.name), ['DevicePolicy', 'DeviceAllow', 'DeviceAllow']);
  assert.is(ps[0]!.value, 'strict');
  assert.equal(ps[1]!.value, []);
  assert.is(ps[2]!.sig, 'a(ss)');
  assert.equal(ps[2]!.value, [
    ['block-*', 'm'], ['char-*', 'm'],
    ['/dev/char/1:3', 'rwm'], ['/dev/char/1:5', 'rwm'], ['/dev/char/1:7', 'rwm'], ['/dev/char/1:8', 'rwm'], ['/dev/char/1:9', 'rwm'],
    ['/dev/char/5:0', 'rwm'], ['/dev/char/5:2', 'rwm'], ['/dev/char/10:200', 'rwm'], ['/dev/char/10:229', 'rw'], ['char-pts', 'rwm'],
  ]);
  // allow-all: auto with an empty list; a deny list: a temporary deny-all
  assert.equal(byName(resourceProperties(fromSpec({ devices: [{ allow: true, access: 'rwm' }] }), ctx())), { DevicePolicy: 'auto', DeviceAllow: [] });
  const bl = resourceProperties(fromSpec({ devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 4, minor: 5, access: 'rwm' }] }), { ...ctx(), warn: () => {} });
  assert.equal(bl.map((p) => [p.name, p.value]), [['DevicePolicy', 'strict'], ['DeviceAllow', []]]);
  // update keeps the rules: no device properties
  assert.equal(resourceProperties({ ...r, skipDevices: true }, ctx()), []);
  assert.is(deviceGroup('c', 136, () => PROC_DEVICES), 'char-pts');
  assert.is(deviceGroup('b', 8, () => PROC_DEVICES), 'block-sd');
  assert.is(deviceGroup('c', 99, () => PROC_DEVICES), undefined);
});

test('annotations org.systemd.property.*: GVariant values, Sec → USec', () => {
  const ps = annotationProperties({
    'org.systemd.property.CollectMode': "'inactive-or-failed'",
    'org.systemd.property.TimeoutStopSec': 'uint64 15',
    'org.systemd.property.RuntimeMaxSec': '2.5',
    'org.systemd.property.IgnoreSIGPIPE': 'false',
    'org.systemd.property.After': "['a.service', \"b.socket\"]",
    'org.systemd.property.CPUWeight': 'uint64 300',
    'other.annotation': 'x',
  });
  assert.equal(ps.map((p) => [p.name, p.sig, p.value]), [
    ['CollectMode', 's', 'inactive-or-failed'],
    ['TimeoutStopUSec', 't', 15_000_000n],
    ['RuntimeMaxUSec', 't', 2_500_000n],
    ['IgnoreSIGPIPE', 'b', false],
    ['After', 'as', ['a.service', 'b.socket']],
    ['CPUWeight', 't', 300n],
  ]);
  for (const [k, v, re] of [['org.systemd.property.ab', '1', /too short/], ['org.systemd.property.Foo1', '1', /non-alphabetic/],
    ['org.systemd.property.TimeoutStopSec', "'x'", /not a number/], ['org.systemd.property.Foo', '{1}', /value parse error/]] as const) {
    try { annotationProperties({ [k]: v }); assert.unreachable(); } catch (e) { assert.instance(e, TsrunError); assert.match((e as Error).message, re); }
  }
});

test.run();
