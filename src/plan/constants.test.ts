import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLONE, flagNames, makedev, MS, MS_NAMES, MS_PROPAGATION_TYPES } from './constants.js';

test('kernel values spot-check', () => {
  assert.is(CLONE.NEWNS, 0x20000n);
  assert.is(CLONE.NEWUSER, 0x10000000n);
  assert.is(CLONE.NEWTIME, 0x80n);
  assert.is(MS.BIND | MS.REC, 0x5000n);
  assert.is(MS.SLAVE | MS.REC, 0x84000n);
  assert.is(MS_PROPAGATION_TYPES, 0x1e0000n);
});

test('makedev is glibc\'s encoding', () => {
  assert.is(makedev(1, 3), 0x103n);
  assert.is(makedev(136, 0), 0x8800n);
  assert.is(makedev(259, 65536), (0x103n << 8n) | (0x10000n << 12n));
  assert.is(makedev(0x1000, 0), 1n << 44n);
});

test('flagNames', () => {
  assert.is(flagNames(MS.RDONLY | MS.NOSUID, MS_NAMES), 'RDONLY|NOSUID');
  assert.is(flagNames(0n, MS_NAMES), '0');
  assert.is(flagNames(1n << 40n, MS_NAMES), '0x10000000000');
});

test.run();
