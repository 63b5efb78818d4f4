import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RLIMITS as KNOWN } from '../spec/known.js';
import { rlimitName, RLIMITS, rlimitSteps } from './rlimits.js';

test('numbers match the validator\'s list (index = resource)', () => {
  assert.equal(Object.entries(RLIMITS).sort((a, b) => a[1] - b[1]).map(([n]) => n), [...KNOWN]);
  assert.is(rlimitName(7), 'RLIMIT_NOFILE');
  assert.is(rlimitName(99), 'rlimit 99');
});

test('steps in config order with labels', () => {
  const s = rlimitSteps([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }]);
  assert.equal(s.map((x) => x.kind === 'rlimit' && [x.resource, x.soft, x.hard, x.label]), [
    [7n, 1024n, 4096n, 'rlimit RLIMIT_NOFILE 1024/4096'],
    [4n, 0xffffffffffffffffn, 0xffffffffffffffffn, 'rlimit RLIMIT_CORE unlimited/unlimited'],
  ]);
  assert.equal(rlimitSteps(undefined), []);
});

test('unknown and duplicate types', () => {
  assert.throws(() => rlimitSteps([{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), /^\/process\/rlimits\/0\/type: unknown rlimit "RLIMIT_FOO"/);
  assert.throws(() => rlimitSteps([{ type: 'RLIMIT_AS', soft: 1, hard: 1 }, { type: 'RLIMIT_AS', soft: 2, hard: 2 }]), /^\/process\/rlimits\/1\/type: duplicate rlimit RLIMIT_AS/);
});

test.run();
