import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ramInBytes, resourcesFromFlags } from './update.js';
import { parseDuration } from './events.js';

test('go-units RAMInBytes', () => {
  assert.is(ramInBytes('1024'), 1024);
  assert.is(ramInBytes('512m'), 512 * 1024 * 1024);
  assert.is(ramInBytes('1.5G'), 1.5 * 1024 ** 3);
  assert.is(ramInBytes('100KiB'), 102400);
  assert.is(ramInBytes('2 mb'), 2 * 1024 * 1024);
  assert.throws(() => ramInBytes('lots'), /invalid size/);
});

test('runc update flags → LinuxResources; the file body is the base', () => {
  const r = resourcesFromFlags({ memory: '64m', 'memory-swap': '-1', 'cpu-quota': '-1', 'cpu-period': '100000', 'cpu-share': '512', 'cpuset-cpus': '0', 'pids-limit': 0, 'blkio-weight': 300, 'cpu-idle': '1' }, { memory: { reservation: 5 } });
  assert.equal(r.memory, { reservation: 5, limit: 64 << 20, swap: -1 });
  assert.equal(r.cpu, { cpus: '0', idle: 1, period: 100000, shares: 512, quota: -1 });
  assert.equal(r.pids, { limit: 0 });
  assert.equal(r.blockIO, { weight: 300 });
  assert.throws(() => resourcesFromFlags({ 'cpu-period': '-5' }), /invalid value for cpu-period/);
  assert.throws(() => resourcesFromFlags({ memory: 'x' }), /invalid value for memory/);
});

test('Go durations for events --interval', () => {
  assert.is(parseDuration('5s'), 5000);
  assert.is(parseDuration('1m30s'), 90000);
  assert.is(parseDuration('250ms'), 250);
  assert.is(parseDuration('1.5h'), 5400000);
  assert.is(parseDuration('0'), 0);
  assert.throws(() => parseDuration('5'), /invalid value "5" for flag -interval/);
});

test.run();
