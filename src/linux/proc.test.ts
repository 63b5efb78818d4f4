import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseStat, readStat, isSameLiveProcess } from './proc.js';

test('parseStat handles a comm with spaces and parentheses', () => {
  const line = '1234 (we (ird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 0';
  assert.equal(parseStat(line), { pid: 1234, state: 'S', ppid: 1, startTime: 987654 });
});

test('our own process is alive with its start time; a wrong start time is not', () => {
  const me = readStat(process.pid)!;
  assert.ok(me.startTime > 0);
  assert.ok(isSameLiveProcess(process.pid, me.startTime));
  assert.not.ok(isSameLiveProcess(process.pid, me.startTime + 1), 'pid reuse is detected');
  assert.not.ok(isSameLiveProcess(0, 0));
});

test.run();
