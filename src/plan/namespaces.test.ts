import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Namespace } from '../spec/types.js';
import { CLONE } from './constants.js';
import { analyzeNamespaces, cloneNames, NAMESPACE_NAMES } from './namespaces.js';

test('new and joined namespaces', () => {
  const ns = analyzeNamespaces([{ type: 'pid' }, { type: 'network', path: '/run/netns/a' }, { type: 'mount' }, { type: 'user' }]);
  assert.is(ns.create, CLONE.NEWPID | CLONE.NEWNS | CLONE.NEWUSER);
  assert.equal(ns.join, [{ type: 'network', path: '/run/netns/a', nstype: CLONE.NEWNET, index: 1 }]);
  assert.ok(ns.has('network'));
  assert.not.ok(ns.isNew('network'));
  assert.ok(ns.isNew('pid'));
  assert.not.ok(ns.has('uts'));
  assert.is(ns.userns, 'new');
  assert.is(analyzeNamespaces([{ type: 'user', path: '/proc/1/ns/user' }]).userns, 'joined');
  assert.is(analyzeNamespaces(undefined).userns, 'none');
  assert.is(analyzeNamespaces(undefined).create, 0n);
});

test('duplicates, unknown types and relative paths are refused', () => {
  assert.throws(() => analyzeNamespaces([{ type: 'pid' }, { type: 'pid', path: '/x' }]), /^\/linux\/namespaces\/1: malformed spec file: duplicated ns "pid"$/);
  assert.throws(() => analyzeNamespaces([{ type: 'net' } as unknown as Namespace]), /^\/linux\/namespaces\/0\/type: namespace "net" does not exist/);
  assert.throws(() => analyzeNamespaces([{ type: 'ipc', path: 'proc/1/ns/ipc' }]), /^\/linux\/namespaces\/0\/path: must be absolute/);
});

test('names', () => {
  assert.is(cloneNames(CLONE.NEWNS | CLONE.NEWNET | CLONE.NEWUSER), 'user mount net');
  assert.is(NAMESPACE_NAMES.length, 8);
});

test.run();
