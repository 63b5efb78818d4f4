import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CAPABILITIES as KNOWN } from '../spec/known.js';
import { allCaps, CAPABILITIES, CAPABILITY_NAMES, CAP_LAST_KNOWN, capNames, capSets } from './caps.js';

test('41 capabilities, numbered as the kernel does, matching the validator\'s list', () => {
  assert.is(CAPABILITY_NAMES.length, 41);
  assert.is(CAP_LAST_KNOWN, 40);
  assert.equal(CAPABILITY_NAMES, [...KNOWN]);
  assert.is(CAPABILITIES.CAP_CHOWN, 0);
  assert.is(CAPABILITIES.CAP_SYS_ADMIN, 21);
  assert.is(CAPABILITIES.CAP_AUDIT_WRITE, 29);
  assert.is(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
});

test('capSets: masks, absent sets empty, caps above lastCap skipped with one warning', () => {
  const w: string[] = [];
  const s = capSets({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_PERFMON'], effective: ['CAP_KILL'], ambient: ['CAP_BPF'] }, 37, w);
  assert.equal(s, { bounding: 0b100001n, effective: 0b100000n, permitted: 0n, inheritable: 0n, ambient: 0n });
  assert.equal(w, ["ignoring unknown or unavailable capabilities: [CAP_BPF CAP_PERFMON] (this kernel's cap_last_cap is 37)"]);
  const w2: string[] = [];
  capSets({ bounding: ['CAP_CHOWN'] }, 40, w2);
  assert.equal(w2, []);
});

test('capSets: unknown names are skipped, not an error (runc; the validator warns with the field named)', () => {
  const w: string[] = [];
  const c = capSets({ permitted: ['CAP_CHOWN', 'chown', 'CAP_FLY', '__proto__', 'toString'] }, 40, w);
  assert.is(c.permitted, 1n);
  assert.equal(w, []);
});

test('capNames and allCaps', () => {
  assert.equal(capNames((1n << 0n) | (1n << 21n)), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.equal(capNames(1n << 29n, true), ['AUDIT_WRITE']);
  assert.equal(capNames(1n << 45n), ['cap 45']);
  assert.is(allCaps(40), (1n << 41n) - 1n);
  assert.is(capNames(allCaps(40)).length, 41);
});

test.run();
