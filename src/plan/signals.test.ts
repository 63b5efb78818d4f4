import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TsrunError } from '../errors.js';
import { parseSignal, signalName } from './signals.js';

test('decimal, names with and without SIG, any case', () => {
  assert.is(parseSignal('9'), 9);
  assert.is(parseSignal('0'), 0);
  assert.is(parseSignal('KILL'), 9);
  assert.is(parseSignal('SIGKILL'), 9);
  assert.is(parseSignal('sigterm'), 15);
  assert.is(parseSignal('hup'), 1);
  assert.is(parseSignal('SIGWINCH'), 28);
  assert.is(parseSignal('iot'), 6);
  assert.is(parseSignal('SIGCHLD'), 17);
});

test('real-time signals', () => {
  assert.is(parseSignal('SIGRTMIN'), 34);
  assert.is(parseSignal('SIGRTMIN+3'), 37);
  assert.is(parseSignal('rtmin+3'), 37);
  assert.is(parseSignal('RTMAX'), 64);
  assert.is(parseSignal('SIGRTMAX-1'), 63);
  assert.is(parseSignal('64'), 64);
});

test('unknown signals: runc wording and a hint', () => {
  for (const bad of ['FOO', 'SIGFOO', '', '65', '-1', 'SIGRTMIN+31', 'SIGRTMAX-31', '9x', 'KILL KILL']) {
    try {
      parseSignal(bad);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (e) {
      assert.instance(e, TsrunError);
      assert.is((e as Error).message, `unknown signal ${JSON.stringify(bad)}`);
      assert.match((e as TsrunError).hint ?? '', /SIGTERM/);
    }
  }
});

test('signalName prefers the canonical names and renders real-time ones', () => {
  assert.is(signalName(6), 'SIGABRT');
  assert.is(signalName(17), 'SIGCHLD');
  assert.is(signalName(29), 'SIGIO');
  assert.is(signalName(31), 'SIGSYS');
  assert.is(signalName(34), 'SIGRTMIN');
  assert.is(signalName(37), 'SIGRTMIN+3');
  assert.is(signalName(63), 'SIGRTMAX-1');
  assert.is(signalName(99), 'signal 99');
  for (let n = 1; n <= 64; n++) if (n !== 32 && n !== 33) assert.is(parseSignal(signalName(n)), n);
});

test.run();
