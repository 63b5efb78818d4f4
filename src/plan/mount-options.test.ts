import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MOUNT_ATTR, MS } from './constants.js';
import { MOUNT_OPTIONS, optionNames, parseMountOptions, propagationName, supportedMountOptions } from './mount-options.js';

/** runc specconv KnownMountOptions() (mountFlags, propagation, recAttrFlags, extensions, complex flags). */
const RUNC = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud', 'mand',
  'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime',
  'nosuid', 'nosymfollow', 'rbind', 'relatime', 'remount', 'ro', 'rw', 'silent', 'strictatime', 'suid', 'symfollow',
  'sync', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable', 'rro', 'rrw',
  'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime', 'rrelatime', 'rnorelatime',
  'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow', 'tmpcopyup', 'idmap', 'ridmap',
];

test('the table knows every option runc knows', () => {
  assert.equal(Object.keys(MOUNT_OPTIONS).sort(), [...RUNC].sort());
});

test('supported options: every option the table knows, extensions included', () => {
  const s = supportedMountOptions();
  for (const yes of ['tmpcopyup', 'idmap', 'ridmap']) assert.ok(s.includes(yes), yes);
  for (const yes of ['rro', 'rbind', 'rshared', 'nosymfollow', 'defaults']) assert.ok(s.includes(yes), yes);
  assert.equal(s, [...s].sort());
});

test('flags: later options win, cleared flags are remembered', () => {
  const o = parseMountOptions(['ro', 'nosuid', 'rw', 'suid', 'nosuid', 'noexec', 'bind'], '/mounts/0/options');
  assert.is(o.flags, MS.NOSUID | MS.NOEXEC | MS.BIND);
  assert.is(o.cleared, MS.RDONLY);
  assert.equal(o.data, []);
  assert.is(parseMountOptions(['rbind'], '').flags, MS.BIND | MS.REC);
  assert.is(parseMountOptions(['defaults'], '').flags, 0n);
});

test('data options keep their order and unknown names are data', () => {
  const o = parseMountOptions(['mode=755', 'nosuid', 'size=65536k', 'acl', 'newinstance'], '');
  assert.equal(o.data, ['mode=755', 'size=65536k', 'acl', 'newinstance']);
  assert.is(o.flags, MS.NOSUID);
  assert.is(parseMountOptions(['toString'], '').data[0], 'toString'); // no prototype lookups
});

test('propagation options are collected in order', () => {
  assert.equal(parseMountOptions(['rprivate', 'shared'], '').propagation, [MS.PRIVATE | MS.REC, MS.SHARED]);
  assert.is(propagationName(MS.SLAVE | MS.REC), 'rslave');
});

test('recursive attributes: set/clear, and atime modes clear the whole atime field', () => {
  const o = parseMountOptions(['rro', 'rnosuid', 'rsuid', 'rnodev'], '');
  assert.is(o.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NODEV);
  assert.is(o.attrClr, MOUNT_ATTR.NOSUID);
  const a = parseMountOptions(['rstrictatime'], '');
  assert.equal([a.attrSet, a.attrClr], [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR._ATIME]);
  const r = parseMountOptions(['rrelatime'], '');
  assert.equal([r.attrSet, r.attrClr], [0n, MOUNT_ATTR._ATIME]);
  const d = parseMountOptions(['rnodiratime'], '');
  assert.equal([d.attrSet, d.attrClr], [MOUNT_ATTR.NODIRATIME, 0n]);
});

test('extensions: tmpcopyup, idmap, ridmap (the last idmap option wins)', () => {
  assert.is(parseMountOptions(['tmpcopyup', 'mode=755'], '').copyup, true);
  assert.equal(parseMountOptions(['tmpcopyup', 'mode=755'], '').data, ['mode=755']);
  assert.is(parseMountOptions(['rbind', 'ridmap'], '').idmap, 'ridmap');
  assert.is(parseMountOptions(['ridmap', 'idmap'], '').idmap, 'idmap');
  assert.is(parseMountOptions(['bind'], '').idmap, undefined);
});

test('optionNames renders flags for labels', () => {
  assert.is(optionNames(MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID), 'rbind,ro,nosuid');
  assert.is(optionNames(MS.NODEV | MS.NOEXEC), 'nodev,noexec');
  assert.is(optionNames(0n), '');
});

test.run();
