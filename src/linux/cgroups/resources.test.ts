import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromSpec, mergeUpdate, num, parseResourcesJson } from './resources.js';

test('num: exact decimal text, never an exponent', () => {
  assert.is(num(1e21), '1000000000000000000000');
  assert.is(num(9223372036854775807), '9223372036854775808');
  assert.is(num(-1), '-1');
});

test('update merges like runc: a lone quota keeps the period; unset cpus/pids/burst/idle/unified are not re-applied', () => {
  const cur = fromSpec({ cpu: { quota: 50000, period: 100000, cpus: '0', burst: 10 }, pids: { limit: 5 }, memory: { limit: 1000, checkBeforeUpdate: true }, unified: { 'memory.high': '1' } });
  const next = mergeUpdate(cur, { cpu: { quota: 20000 } });
  assert.is(next.cpuQuota, 20000);
  assert.is(next.cpuPeriod, 100000);
  assert.is(next.cpusetCpus, undefined);
  assert.is(next.pidsLimit, undefined);
  assert.is(next.cpuBurst, undefined);
  assert.is(next.unified, undefined);
  assert.is(next.memory, 1000, 'memory limit kept');
  assert.is(next.memoryCheckBeforeUpdate, false, 'checkBeforeUpdate applies per request');
  assert.ok(next.skipDevices, 'device rules are left alone');
  // Neither quota nor period: both reset to "do not write".
  const n2 = mergeUpdate(cur, { pids: { limit: 9 } });
  assert.equal([n2.cpuQuota, n2.cpuPeriod, n2.pidsLimit], [0, 0, 9]);
});

test('update: memory -1 without swap sets swap 0 (→ unlimited memsw); idle without shares resets shares', () => {
  const n = mergeUpdate(fromSpec({ memory: { limit: 100, swap: 200 }, cpu: { shares: 512 } }), { memory: { limit: -1 }, cpu: { idle: 1 } });
  assert.equal([n.memory, n.memorySwap, n.cpuShares, n.cpuIdle], [-1, 0, 0, 1]);
});

test('update: block device entries are upserted by major:minor', () => {
  const cur = fromSpec({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] } });
  const n = mergeUpdate(cur, { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 300 }, { major: 8, minor: 16, weight: 5 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 }] } });
  assert.equal(n.blkioWeightDevice, [{ major: 8, minor: 0, weight: 300, leafWeight: 10 }, { major: 8, minor: 16, weight: 5, leafWeight: 0 }]);
  assert.equal(n.blkioThrottleReadBpsDevice, [{ major: 8, minor: 0, rate: 2 }]);
});

test('update body: Go decoder behaviour (unknown keys ignored, wrong types refused with the field named)', () => {
  assert.equal(parseResourcesJson('{"memory":{"limit":1},"whatever":3}\n', 'stdin').memory, { limit: 1 });
  assert.throws(() => parseResourcesJson('{"memory":{"limit":"1g"}}', 'stdin'), /cannot unmarshal string into Go struct field LinuxResources\.memory\.limit of type int64/);
  assert.throws(() => parseResourcesJson('{"cpu":{"shares":-1}}', 'stdin'), /cpu\.shares of type uint64/);
  assert.throws(() => parseResourcesJson('{"cpu":', 'stdin'), /stdin: invalid JSON/);
  assert.throws(() => parseResourcesJson('{"unified":{"a.b":1}}', 'f'), /unified\.a\.b of type string/);
});

test.run();
