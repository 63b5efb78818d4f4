import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goJson, oomCounters, parseKeyValues, parseList, statsV1, statsV2 } from './stats.js';

test('goJson: Go encoder output, uint64 above 2^53 exact', () => {
  assert.is(goJson({ a: 9223372036854771712n, b: [1, 2], c: null, d: 'x', e: undefined }), '{"a":9223372036854771712,"b":[1,2],"c":null,"d":"x"}');
  assert.is(parseKeyValues('cache 0\nhierarchical_memory_limit 9223372036854771712\n').get('hierarchical_memory_limit'), 9223372036854771712n);
  assert.equal(parseList('0-2,5\n'), [0, 1, 2, 5]);
});

test('v1 stats from a fake tree: runc field names and omitempty', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-stats-'));
  try {
    const put = (rel: string, text: string) => { mkdirSync(join(root, rel, '..'), { recursive: true }); writeFileSync(join(root, rel), text); };
    put('memory/c/memory.limit_in_bytes', '9223372036854771712\n');
    put('memory/c/memory.usage_in_bytes', '4096\n');
    put('memory/c/memory.failcnt', '0\n');
    put('memory/c/memory.stat', 'rss 10\ncache 5\n');
    put('memory/c/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    put('pids/c/pids.current', '2\n');
    put('pids/c/pids.max', 'max\n');
    put('cpuacct/c/cpuacct.usage', '1000\n');
    put('cpuacct/c/cpuacct.stat', 'user 2\nsystem 3\n');
    put('cpu/c/cpu.stat', 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n');
    const paths = { memory: join(root, 'memory/c'), pids: join(root, 'pids/c'), cpuacct: join(root, 'cpuacct/c'), cpu: join(root, 'cpu/c') };
    const s = statsV1(paths) as any;
    assert.equal(s.cpu, { usage: { total: 1000, kernel: 30000000, user: 20000000 }, throttling: {} });
    assert.equal(s.pids, { current: 2 });
    assert.equal(s.memory.usage, { limit: 9223372036854771712n, usage: 4096, failcnt: 0 });
    assert.is(s.memory.cache, 5);
    assert.equal(Object.keys(s.memory.raw), ['cache', 'rss'], 'raw keys sorted like a Go map');
    assert.equal(Object.keys(s), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    assert.equal(oomCounters(paths, false), { oomKill: 3, underOom: 0 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('v2 stats from a fake tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-stats2-'));
  try {
    const put = (f: string, t: string) => writeFileSync(join(root, f), t);
    put('cpu.stat', 'usage_usec 10\nuser_usec 4\nsystem_usec 6\nnr_periods 2\nnr_throttled 1\nthrottled_usec 5\n');
    put('memory.current', '100\n'); put('memory.max', 'max\n'); put('memory.swap.current', '1\n'); put('memory.swap.max', 'max\n');
    put('memory.events', 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    put('pids.current', '3\n'); put('pids.max', '10\n');
    put('io.stat', '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n');
    const s = statsV2(root) as any;
    assert.equal(s.cpu, { usage: { total: 10000, kernel: 6000, user: 4000 }, throttling: { periods: 2, throttledPeriods: 1, throttledTime: 5000 } });
    assert.equal(s.memory.usage, { limit: 18446744073709551615n, usage: 100, failcnt: 4 });
    assert.equal(s.memory.swap, { limit: 18446744073709551615n, usage: 101, failcnt: 0 });
    assert.equal(s.pids, { current: 3, limit: 10 });
    assert.equal(s.blkio.ioServiceBytesRecursive, [{ major: 8, op: 'Read', value: 10 }, { major: 8, op: 'Write', value: 20 }]);
    assert.equal(oomCounters({ unified: root }, true), { oomKill: 1, underOom: 1 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
