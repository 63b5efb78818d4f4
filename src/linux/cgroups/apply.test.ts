import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyResources, realIo, type CgroupIo } from './apply.js';
import type { CgroupMounts } from './mounts.js';
import { fromSpec } from './resources.js';

const errno = (code: string, n: number) => Object.assign(new Error(code), { code, errno: -n });

/** An in-memory cgroupfs: files must exist to be written; hooks model the kernel's refusals. */
function fakeFs(files: Record<string, string>, refuse: (path: string, value: string, fs: Map<string, string>) => Error | undefined = () => undefined) {
  const fs = new Map(Object.entries(files));
  const log: string[] = [];
  const io: CgroupIo = {
    read: (p) => fs.get(p),
    write: (p, v) => {
      log.push(`${p}=${v}`);
      if (!fs.has(p)) throw errno('ENOENT', 2);
      const e = refuse(p, v, fs);
      if (e) throw e;
      if (p.endsWith('cgroup.subtree_control')) fs.set(p, [...(fs.get(p) ?? '').split(' ').filter(Boolean), v.slice(1)].join(' '));
      else fs.set(p, v);
    },
  };
  return { fs, log, io };
}

const HYBRID: CgroupMounts = { v1: [{ mountpoint: '/cg/cpu', controllers: ['cpu'], root: '/' }, { mountpoint: '/cg/memory', controllers: ['memory'], root: '/' }], v2: '/cg/unified', mode: 'hybrid' };
const V1_PATHS = { cpu: '/cg/cpu/c', memory: '/cg/memory/c', unified: '/cg/unified/c' };

test('v1: a period the kernel refuses before its quota is written again right after the quota (runc)', () => {
  const { log, io, fs } = fakeFs({ '/cg/cpu/c/cpu.cfs_period_us': '100000', '/cg/cpu/c/cpu.cfs_quota_us': '-1', '/cg/cpu/c/cpu.shares': '1024' },
    (p, v, fs) => (p.endsWith('cpu.cfs_period_us') && fs.get('/cg/cpu/c/cpu.cfs_quota_us') === '-1' && Number(v) < 10000 ? errno('EINVAL', 22) : undefined));
  applyResources(V1_PATHS, { cpuQuota: 1000, cpuPeriod: 5000, cpuBurst: 10 }, HYBRID, io);
  assert.equal(log, ['/cg/cpu/c/cpu.cfs_period_us=5000', '/cg/cpu/c/cpu.cfs_burst_us=10', '/cg/cpu/c/cpu.cfs_quota_us=1000', '/cg/cpu/c/cpu.cfs_period_us=5000']);
  assert.is(fs.get('/cg/cpu/c/cpu.cfs_period_us'), '5000');
  assert.not.ok(fs.has('/cg/cpu/c/cpu.cfs_burst_us'), 'an absent optional file is skipped, never created');
});

test('v1: a refused value names the file and the value (runc wording); EBUSY on the limit reports usage', () => {
  const { io } = fakeFs({ '/cg/memory/c/memory.limit_in_bytes': '9223372036854771712', '/cg/memory/c/memory.usage_in_bytes': '5000\n', '/cg/memory/c/memory.max_usage_in_bytes': '7000\n', '/cg/memory/c/memory.swappiness': '60' },
    (p, v) => (p.endsWith('swappiness') ? errno('EINVAL', 22) : p.endsWith('limit_in_bytes') && v === '100' ? errno('EBUSY', 16) : undefined));
  assert.throws(() => applyResources(V1_PATHS, { memorySwappiness: 50 }, HYBRID, io), (e: Error) => e.message === 'failed to write "50": write /cg/memory/c/memory.swappiness: invalid argument');
  assert.throws(() => applyResources(V1_PATHS, { memory: 100 }, HYBRID, io), /unable to set memory limit to 100 \(current usage: 5000, peak usage: 7000\)/);
});

test('v1: a controller the host does not mount fails before anything is written', () => {
  const { io, log } = fakeFs({});
  assert.throws(() => applyResources(V1_PATHS, { pidsLimit: 10 }, HYBRID, io), /cannot set pids limit: the host has no cgroup v1 pids hierarchy \(wanted to write "10" to pids\.max\)/);
  assert.equal(log, []);
});

test('v1: cpu.shares read back; the kernel clamps → runc\'s error', () => {
  const { io } = fakeFs({ '/cg/cpu/c/cpu.shares': '1024' }, () => undefined);
  const clamp: CgroupIo = { read: (p) => (p.endsWith('cpu.shares') ? '262144\n' : io.read(p)), write: io.write };
  assert.throws(() => applyResources(V1_PATHS, { cpuShares: 1 << 20 }, HYBRID, clamp), /the maximum allowed cpu-shares is 262144/);
});

const V2: CgroupMounts = { v1: [], v2: '/cg2', mode: 'v2' };
const V2_PATHS = { unified: '/cg2/a/b/c' };
const v2Tree = (extra: Record<string, string> = {}) => ({
  '/cg2/cgroup.controllers': 'cpuset cpu io memory pids',
  '/cg2/cgroup.subtree_control': 'memory',
  '/cg2/a/cgroup.subtree_control': '',
  '/cg2/a/b/cgroup.subtree_control': '',
  '/cg2/a/b/c/memory.max': 'max', '/cg2/a/b/c/memory.swap.max': 'max', '/cg2/a/b/c/pids.max': 'max', '/cg2/a/b/c/cgroup.max.depth': 'max',
  ...extra,
});

test('v2: the controllers the plan needs are enabled from the root down to the parent, once each', () => {
  const { io, log, fs } = fakeFs(v2Tree());
  applyResources(V2_PATHS, fromSpec({ memory: { limit: 1 << 20 }, pids: { limit: 7 }, unified: { 'cgroup.max.depth': '2' } }), V2, io);
  assert.equal(log.filter((l) => l.includes('subtree_control')), [
    '/cg2/cgroup.subtree_control=+pids',
    '/cg2/a/cgroup.subtree_control=+pids', '/cg2/a/cgroup.subtree_control=+memory',
    '/cg2/a/b/cgroup.subtree_control=+pids', '/cg2/a/b/cgroup.subtree_control=+memory',
  ]);
  assert.is(fs.get('/cg2/a/b/c/pids.max'), '7');
  assert.is(fs.get('/cg2/a/b/c/memory.max'), '1048576');
  assert.is(fs.get('/cg2/a/b/c/cgroup.max.depth'), '2');
  assert.not.ok(log.some((l) => l.includes('/cg2/a/b/c/cgroup.subtree_control')), 'the leaf itself is left alone');
});

test('v2: a controller the host lacks is named; unified keys get runc\'s messages', () => {
  const { io, log } = fakeFs(v2Tree());
  assert.throws(() => applyResources(V2_PATHS, { hugetlbLimit: [{ pageSize: '2MB', limit: 0 }] }, V2, io), /"hugetlb" is not available on this host/);
  assert.equal(log, []);
  assert.throws(() => applyResources(V2_PATHS, { unified: { 'hugetlb.2MB.max': '0' } }, V2, io), /unified resource "hugetlb.2MB.max" can't be set: controller "hugetlb" not available/);
  assert.throws(() => applyResources(V2_PATHS, { unified: { nodot: '0' } }, V2, io), /unified resource "nodot" must be in the form CONTROLLER.PARAMETER/);
  const busy = fakeFs(v2Tree(), (p) => (p === '/cg2/a/cgroup.subtree_control' ? errno('EBUSY', 16) : undefined));
  assert.throws(() => applyResources(V2_PATHS, { pidsLimit: 1 }, V2, busy.io), (e: Error & { hint?: string }) => e.message === 'failed to write "+pids": write /cg2/a/cgroup.subtree_control: device or resource busy' && /no internal processes/.test(e.hint ?? ''));
});

test('a fake cgroupfs tree on disk: real open(O_WRONLY) writes, nothing created, optional files skipped', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-cgfake-'));
  try {
    const mk = (dir: string, files: string[]) => { mkdirSync(dir, { recursive: true }); for (const f of files) writeFileSync(join(dir, f), ''); };
    mk(join(root, 'memory/c'), ['memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.oom_control']);
    mk(join(root, 'cpu/c'), ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us']);
    const mounts: CgroupMounts = { v1: [{ mountpoint: join(root, 'memory'), controllers: ['memory'], root: '/' }, { mountpoint: join(root, 'cpu'), controllers: ['cpu'], root: '/' }], mode: 'v1' };
    const paths = { memory: join(root, 'memory/c'), cpu: join(root, 'cpu/c') };
    const r = fromSpec({ memory: { limit: 4096, reservation: 2048, disableOOMKiller: true, kernel: 5 }, cpu: { shares: 0, quota: 20000, period: 50000, burst: 5 } });
    delete r.devices;
    const { warnings } = applyResources(paths, r, mounts, {
      read: (p) => (p.endsWith('cpu.shares') ? '0' : realIo.read(p)), write: realIo.write,
    });
    const rd = (p: string) => readFileSync(join(root, p), 'utf8');
    assert.equal([rd('memory/c/memory.limit_in_bytes'), rd('memory/c/memory.soft_limit_in_bytes'), rd('memory/c/memory.oom_control'), rd('cpu/c/cpu.cfs_quota_us'), rd('cpu/c/cpu.cfs_period_us')],
      ['4096', '2048', '1', '20000', '50000']);
    assert.not.ok(existsSync(join(root, 'cpu/c/cpu.cfs_burst_us')));
    assert.is(warnings.length, 1, 'kernel memory: ignored with a warning');
    // No devices hierarchy: the device rules (runc's defaults are always there) cannot be applied → named error, as runc fails.
    assert.throws(() => applyResources(paths, fromSpec({ devices: [{ allow: false, access: 'rwm' }] }), mounts), /no cgroup v1 devices hierarchy \(wanted to write "a \*:\* rwm" to devices\.deny\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('v2 on a fake cgroupfs tree on disk: controllers enabled down the path, limits in the leaf', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-cg2fake-'));
  try {
    const put = (rel: string, text = '') => { mkdirSync(join(root, rel, '..'), { recursive: true }); writeFileSync(join(root, rel), text); };
    put('cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma misc\n');
    put('cgroup.subtree_control', 'cpu memory\n');
    put('pod/cgroup.subtree_control');
    for (const f of ['cpu.max', 'cpu.weight', 'memory.max', 'memory.low', 'memory.swap.max', 'pids.max', 'io.weight', 'cgroup.subtree_control']) put(`pod/ctr/${f}`, 'x');
    // cgroupfs semantics on plain files: no create, whole-value writes, subtree_control accumulates "+ctrl".
    const io: CgroupIo = {
      read: realIo.read,
      write: (p, v) => {
        if (!existsSync(p)) throw errno('ENOENT', 2);
        if (p.endsWith('cgroup.subtree_control')) writeFileSync(p, [...readFileSync(p, 'utf8').split(/\s+/).filter(Boolean), v.slice(1)].join(' ') + '\n');
        else writeFileSync(p, v + '\n');
      },
    };
    const mounts: CgroupMounts = { v1: [], v2: root, mode: 'v2' };
    const r = fromSpec({ memory: { limit: 1 << 30, reservation: 1 << 29, swap: -1 }, cpu: { shares: 2048, quota: 150000 }, pids: { limit: 100 }, blockIO: { weight: 1000 } });
    const { warnings } = applyResources({ unified: join(root, 'pod/ctr') }, r, mounts, io);
    const rd = (rel: string) => readFileSync(join(root, rel), 'utf8').trim();
    assert.is(rd('cgroup.subtree_control'), 'cpu memory pids io');
    assert.is(rd('pod/cgroup.subtree_control'), 'pids memory io cpu');
    assert.is(rd('pod/ctr/cgroup.subtree_control'), 'x', 'the leaf keeps its own subtree_control');
    assert.equal([rd('pod/ctr/memory.max'), rd('pod/ctr/memory.low'), rd('pod/ctr/memory.swap.max'), rd('pod/ctr/cpu.max'), rd('pod/ctr/cpu.weight'), rd('pod/ctr/pids.max'), rd('pod/ctr/io.weight')],
      [String(1 << 30), String(1 << 29), 'max', '150000 100000', '79', '100', '10000']);
    assert.equal(warnings, [], 'device rules are an eBPF program on v2 (devices-bpf.test.ts), not a warning');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
