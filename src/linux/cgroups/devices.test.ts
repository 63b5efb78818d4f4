import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ALLOWED_DEVICES, DeviceEmulator, type DeviceCgroupRule } from './devices.js';
import { fromSpec } from './resources.js';

const denyAll: DeviceCgroupRule = { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false };
const defaults = DEFAULT_ALLOWED_DEVICES.map((d) => d.rule);

test('a new cgroup (allow all) → the config\'s deny-all plus runc\'s default list: the same writes runc makes', () => {
  const cur = DeviceEmulator.fromList('a *:* rwm\n');
  const target = DeviceEmulator.fromRules([denyAll, ...defaults]);
  assert.equal(cur.transition(target), [
    ['devices.deny', 'a *:* rwm'],
    ['devices.allow', 'b *:* m'],
    ['devices.allow', 'c *:* m'],
    ['devices.allow', 'c 1:3 rwm'],
    ['devices.allow', 'c 1:5 rwm'],
    ['devices.allow', 'c 1:7 rwm'],
    ['devices.allow', 'c 1:8 rwm'],
    ['devices.allow', 'c 1:9 rwm'],
    ['devices.allow', 'c 5:0 rwm'],
    ['devices.allow', 'c 5:2 rwm'],
    ['devices.allow', 'c 10:200 rwm'],
    ['devices.allow', 'c 136:* rwm'],
  ]);
});

test('already in the target state: nothing to write; a change writes only the difference (no deny-all)', () => {
  const list = 'b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\n';
  const cur = DeviceEmulator.fromList(list);
  const target = DeviceEmulator.fromRules([denyAll, ...defaults]);
  assert.ok(cur.equals(target));
  assert.equal(cur.transition(target), []);
  const more = DeviceEmulator.fromRules([denyAll, { type: 'c', major: 4, minor: 1, access: 'rw', allow: true }, ...defaults]);
  assert.equal(cur.transition(more), [['devices.allow', 'c 4:1 rw']]);
  const less = DeviceEmulator.fromRules([denyAll, ...defaults.filter((d) => !(d.major === 1 && d.minor === 9))]);
  assert.equal(cur.transition(less), [['devices.deny', 'c 1:9 rwm']]);
});

test('rules replay in order: a later allow-all wins, a deny after allow removes permissions', () => {
  const e = DeviceEmulator.fromRules([denyAll, { type: 'c', major: 1, minor: 3, access: 'rwm', allow: true }, { type: 'c', major: 1, minor: 3, access: 'w', allow: false }]);
  assert.is(e.defaultAllow, false);
  assert.equal(e.ordered(), [{ type: 'c', major: 1, minor: 3, perms: 5 }]);
  const all = DeviceEmulator.fromRules([denyAll, { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true }, { type: 'b', major: 8, minor: 0, access: 'w', allow: false }]);
  assert.is(all.defaultAllow, true);
  assert.equal(DeviceEmulator.fromList('').transition(all), [['devices.allow', 'a *:* rwm'], ['devices.deny', 'b 8:0 w']]);
});

test('a hole in a wildcard cannot be expressed in v1: refused like runc', () => {
  assert.throws(() => DeviceEmulator.fromRules([denyAll, { type: 'c', major: -1, minor: -1, access: 'm', allow: true }, { type: 'c', major: 1, minor: 3, access: 'm', allow: false }]), /cannot punch a hole/);
});

test('runc drops a default rule whose path the config lists in linux.devices; empty access is an error', () => {
  const r = fromSpec({ devices: [{ allow: false, access: 'rwm' }] }, [{ type: 'c', path: '/dev/null', major: 1, minor: 3 }]);
  assert.is(r.devices!.length, 1 + defaults.length - 1);
  assert.not.ok(r.devices!.some((d) => d.major === 1 && d.minor === 3));
  assert.throws(() => fromSpec({ devices: [{ allow: true, access: '' }] }), /device access at 0 field cannot be empty/);
});

test.run();
