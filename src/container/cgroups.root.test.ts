/**
 * cgroups on this v1-hybrid host, with real containers: every limit read back from the cgroup files, refused
 * values named, update of a running container, pause/resume through the freezer, ps, events (stats and OOM),
 * and the v2 logic on the controller-less cgroup2 mount (membership, cgroup.freeze, core files). Needs root.
 * OCI_RUNTIME=runc runs the container tests against runc for comparison.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, cgroupDirs, CGROUP_PARENT, RUNTIME, sleepMs, waitFor } from '../testing/harness.js';
import { setFrozen } from '../linux/cgroups/fs.js';
import { applyResources } from '../linux/cgroups/apply.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

const sh = (cmd: string) => ['sh', '-c', cmd];
const cg = (ctrl: string, id: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, CGROUP_PARENT, id, file), 'utf8').trim();
const state = (id: string) => JSON.parse(sb.rt(['state', id]).stdout);
/** The error sentence of a logrus-style stderr line (msg="…" is JSON-quoted), or the text as is. */
const msg = (stderr: string) => stderr.split('\n').map((l) => /msg=("(?:[^"\\]|\\.)*")/.exec(l)).filter(Boolean).map((m) => JSON.parse(m![1]!) as string).join('\n') || stderr;

/** create / run -d leave the container holding whatever stdio they get: give them none, keep stderr in a file. */
function detached(args: string[], input?: string) {
  const errFile = join(sb.tmp, `err-${Date.now()}-${Math.random()}`);
  const fd = openSync(errFile, 'w');
  const r = sb.rt(args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', fd], ...(input !== undefined ? { input } : {}) });
  closeSync(fd);
  return { ...r, stderr: msg(readFileSync(errFile, 'utf8')) };
}

function started(edit: (c: any) => void) {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '60']; edit(c); });
  const c = detached(['run', '-d', '--bundle', b.dir, b.id]);
  assert.is(c.status, 0, c.stderr);
  return b;
}

/** A real block device of this machine, as "major:minor" (vda, sda, nvme…; not loop/ram/zram). */
function blockDevice(): { major: number; minor: number } {
  const name = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram|dm-)/.test(d)) ?? readdirSync('/sys/block')[0]!;
  const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
  return { major: major!, minor: minor! };
}

test('linux.resources: every limit this host has reads back from its cgroup file', () => {
  const dev = blockDevice();
  const b = started((c) => {
    c.linux.resources = {
      ...c.linux.resources,
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20, swappiness: 10, kernelTCP: 16 << 20, disableOOMKiller: true },
      cpu: { shares: 512, quota: 50000, period: 100000, burst: 20000, cpus: '0', mems: '0', idle: 0 },
      pids: { limit: 42 },
      blockIO: {
        weight: 300,
        throttleReadBpsDevice: [{ ...dev, rate: 1 << 20 }], throttleWriteBpsDevice: [{ ...dev, rate: 2 << 20 }],
        throttleReadIOPSDevice: [{ ...dev, rate: 100 }], throttleWriteIOPSDevice: [{ ...dev, rate: 200 }],
      },
    };
  });
  const d = `${dev.major}:${dev.minor}`;
  assert.equal([cg('memory', b.id, 'memory.limit_in_bytes'), cg('memory', b.id, 'memory.soft_limit_in_bytes'), cg('memory', b.id, 'memory.memsw.limit_in_bytes'),
    cg('memory', b.id, 'memory.swappiness')], [String(64 << 20), String(32 << 20), String(96 << 20), '10']);
  // runc ≥ 1.1 ignores kernelTCP; tsrun applies it where the kernel still has it (v1).
  if (RUNTIME.endsWith('tsrun')) assert.is(cg('memory', b.id, 'memory.kmem.tcp.limit_in_bytes'), String(16 << 20));
  assert.match(cg('memory', b.id, 'memory.oom_control'), /^oom_kill_disable 1$/m);
  assert.equal([cg('cpu', b.id, 'cpu.shares'), cg('cpu', b.id, 'cpu.cfs_quota_us'), cg('cpu', b.id, 'cpu.cfs_period_us'), cg('cpu', b.id, 'cpu.idle')],
    ['512', '50000', '100000', '0']);
  if (RUNTIME.endsWith('tsrun')) assert.is(cg('cpu', b.id, 'cpu.cfs_burst_us'), '20000'); // runc < 1.2 has no burst
  assert.equal([cg('cpuset', b.id, 'cpuset.cpus'), cg('cpuset', b.id, 'cpuset.mems')], ['0', '0']);
  assert.is(cg('pids', b.id, 'pids.max'), '42');
  const weightFile = existsSync(join('/sys/fs/cgroup/blkio', CGROUP_PARENT, b.id, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
  assert.match(cg('blkio', b.id, weightFile), /(^|default )300$/m);
  assert.is(cg('blkio', b.id, 'blkio.throttle.read_bps_device'), `${d} ${1 << 20}`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.write_bps_device'), `${d} ${2 << 20}`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.read_iops_device'), `${d} 100`);
  assert.is(cg('blkio', b.id, 'blkio.throttle.write_iops_device'), `${d} 200`);
  // The config denies everything, then runc's default allow list is appended: exactly runc's devices.list.
  assert.equal(cg('devices', b.id, 'devices.list').split('\n'),
    ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 10:200 rwm', 'c 136:* rwm']);
  assert.is(sb.rt(['delete', '--force', b.id]).status, 0);
  assert.equal(cgroupDirs(join(CGROUP_PARENT, b.id)), [], 'no cgroup left');
});

test('values this host cannot apply fail create with the file and value named; nothing is left behind', () => {
  for (const [edit, want] of [
    [(c: any) => { c.linux.resources.cpu = { cpus: '4095' }; }, /failed to write "4095": write \/sys\/fs\/cgroup\/cpuset\/tsrun-test\/[^ ]+\/cpuset\.cpus: /],
    [(c: any) => { c.linux.resources.cpu = { realtimeRuntime: 1000, realtimePeriod: 10000 }; }, /failed to write "1000": write \/sys\/fs\/cgroup\/cpu\/tsrun-test\/[^ ]+\/cpu\.rt_runtime_us: invalid argument/],
    [(c: any) => { c.linux.resources.memory = { swappiness: 200 }; }, /invalid memory swappiness value: 200 \(valid range is 0-100\)/],
    [(c: any) => { c.linux.resources.unified = { 'memory.high': '1' }; }, /cannot use unified on cgroup v1/],
    // runc sets the limit after moving its init in and fails the write; tsrun's executor joins a limited cgroup
    // and is OOM-killed there: the error says so (runc: "unable to set memory limit to 4096 (current usage: …)")
    [(c: any) => { c.linux.resources.memory = { limit: 4096 }; },
      RUNTIME.endsWith('tsrun') ? /the OOM killer ended it in the container's memory cgroup \(memory\.oom_control: oom_kill [1-9]/ : /memory limit/],
  ] as [(c: any) => void, RegExp][]) {
    const b = sb.bundle((c) => { c.process.args = ['true']; edit(c); });
    const r = detached(['create', '--bundle', b.dir, b.id]);
    assert.is(r.status, 1);
    assert.match(r.stderr, want);
    if (RUNTIME.endsWith('tsrun')) {
      assert.equal(cgroupDirs(join(CGROUP_PARENT, b.id)), [], 'no cgroup left');
      assert.ok(sb.rt(['state', b.id]).stderr.includes('does not exist'), 'no state left');
    }
  }
  // Per-device weights need the device to run the BFQ scheduler (CFQ is gone): elsewhere the kernel refuses them.
  const dev = blockDevice();
  const sched = readdirSync('/sys/block').map((n) => [n, readFileSync(`/sys/block/${n}/dev`, 'utf8').trim()]).find(([, d]) => d === `${dev.major}:${dev.minor}`)![0]!;
  if (!/\[bfq\]/.test(readFileSync(`/sys/block/${sched}/queue/scheduler`, 'utf8'))) {
    const b = sb.bundle((c) => { c.process.args = ['true']; c.linux.resources.blockIO = { weightDevice: [{ ...dev, weight: 400 }] }; });
    const r = detached(['create', '--bundle', b.dir, b.id]);
    assert.match(r.stderr, new RegExp(`failed to write "${dev.major}:${dev.minor} 400": write /sys/fs/cgroup/blkio/tsrun-test/[^ ]+/blkio\\.(bfq\\.)?weight_device: operation not supported`));
  }
  // Controllers this host does not mount in v1 (hugetlb lives on the cgroup2 mount here, net_cls not at all).
  if (!existsSync('/sys/fs/cgroup/hugetlb') && RUNTIME.endsWith('tsrun')) {
    const b = sb.bundle((c) => { c.process.args = ['true']; c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 0 }]; });
    const r = detached(['create', '--bundle', b.dir, b.id]);
    assert.match(r.stderr, /cannot set hugetlb limit: the host has no cgroup v1 hugetlb hierarchy \(wanted to write "0" to hugetlb\.2MB\.limit_in_bytes\)/);
  }
});

test('realtime runtime reads back when the parent has a budget', () => {
  // The budget must come down from the root: give /tsrun-test (the tests' parent) one and take it back after.
  const top = join('/sys/fs/cgroup/cpu', CGROUP_PARENT);
  const mid = join(top, `rt-${process.pid}`);
  mkdirSync(mid, { recursive: true }); // keeps /tsrun-test alive (non-empty) while we use its budget
  const before = readFileSync(join(top, 'cpu.rt_runtime_us'), 'utf8').trim();
  try {
    writeFileSync(join(top, 'cpu.rt_runtime_us'), '20000');
    writeFileSync(join(mid, 'cpu.rt_runtime_us'), '10000');
    const b = sb.bundle((c) => { c.process.args = ['sleep', '60']; c.linux.cgroupsPath = `${CGROUP_PARENT}/rt-${process.pid}/rt`; c.linux.resources.cpu = { realtimeRuntime: 5000, realtimePeriod: 1000000 }; });
    const r = detached(['run', '-d', '--bundle', b.dir, b.id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(readFileSync(join(mid, 'rt/cpu.rt_runtime_us'), 'utf8').trim(), '5000');
    assert.is(readFileSync(join(mid, 'rt/cpu.rt_period_us'), 'utf8').trim(), '1000000');
    assert.is(sb.rt(['delete', '--force', b.id]).status, 0);
  } finally {
    const attempt = (fn: () => void) => { for (let i = 0; i < 100; i++) { try { fn(); return; } catch { sleepMs(20); } } fn(); };
    for (const h of readdirSync('/sys/fs/cgroup')) try { rmdirSync(join('/sys/fs/cgroup', h, CGROUP_PARENT, `rt-${process.pid}`, 'rt')); } catch { /* removed by delete */ }
    attempt(() => writeFileSync(join(mid, 'cpu.rt_runtime_us'), '0'));
    for (const h of readdirSync('/sys/fs/cgroup')) try { rmdirSync(join('/sys/fs/cgroup', h, CGROUP_PARENT, `rt-${process.pid}`)); } catch { /* */ }
    attempt(() => writeFileSync(join(top, 'cpu.rt_runtime_us'), before));
  }
  assert.is(readFileSync(join(top, 'cpu.rt_runtime_us'), 'utf8').trim(), before, 'the parent\'s budget is given back');
});

test('update changes a running container: --resources -, --resources=-, a file, and runc\'s flags', () => {
  const b = started((c) => { c.linux.resources.memory = { limit: 64 << 20 }; c.linux.resources.cpu = { quota: 50000, period: 100000 }; c.linux.resources.pids = { limit: 50 }; });
  const u1 = detached(['update', '--resources', '-', b.id], '{"memory":{"limit":33554432},"cpu":{"quota":20000}}\n');
  assert.is(u1.status, 0, u1.stderr);
  assert.equal([cg('memory', b.id, 'memory.limit_in_bytes'), cg('cpu', b.id, 'cpu.cfs_quota_us'), cg('cpu', b.id, 'cpu.cfs_period_us')], ['33554432', '20000', '100000']);
  const u2 = detached(['update', '--resources=-', b.id], '{"pids":{"limit":7},"cpu":{"shares":256}}');
  assert.is(u2.status, 0, u2.stderr);
  assert.equal([cg('pids', b.id, 'pids.max'), cg('cpu', b.id, 'cpu.shares')], ['7', '256']);
  const f = join(sb.tmp, 'res.json');
  writeFileSync(f, JSON.stringify({ memory: { limit: 48 << 20, swap: 96 << 20 }, blockIO: { weight: 700 } }));
  const u3 = detached(['update', `--resources=${f}`, b.id]);
  assert.is(u3.status, 0, u3.stderr);
  assert.equal([cg('memory', b.id, 'memory.limit_in_bytes'), cg('memory', b.id, 'memory.memsw.limit_in_bytes')], [String(48 << 20), String(96 << 20)]);
  const u4 = detached(['update', '--memory', '128m', '--memory-swap', '256m', '--cpu-period', '200000', '--cpu-quota', '100000', '--pids-limit', '-1', '--cpuset-cpus', '0-1', '--cpu-share', '2048', b.id]);
  assert.is(u4.status, 0, u4.stderr);
  assert.equal([cg('memory', b.id, 'memory.limit_in_bytes'), cg('memory', b.id, 'memory.memsw.limit_in_bytes'), cg('cpu', b.id, 'cpu.cfs_period_us'), cg('cpu', b.id, 'cpu.cfs_quota_us'),
    cg('pids', b.id, 'pids.max'), cg('cpuset', b.id, 'cpuset.cpus'), cg('cpu', b.id, 'cpu.shares')], [String(128 << 20), String(256 << 20), '200000', '100000', 'max', '0-1', '2048']);
  // A value the kernel refuses: named, and the old values stay.
  const bad = detached(['update', '--cpuset-cpus', '4095', b.id]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /failed to write "4095": write \/sys\/fs\/cgroup\/cpuset\/.*cpuset\.cpus/);
  assert.is(cg('cpuset', b.id, 'cpuset.cpus'), '0-1');
  assert.match(detached(['update', '--l3-cache-schema', 'L3:0=f', b.id]).stderr, /Intel RDT\/CAT: l3 cache schema is not enabled/);
  sb.rt(['kill', b.id, 'KILL']);
  assert.ok(waitFor(() => state(b.id).status === 'stopped'));
  assert.match(detached(['update', '--memory', '1g', b.id]).stderr, /container not running/);
  assert.is(sb.rt(['delete', b.id]).status, 0);
});

test('pause/resume: the freezer says FROZEN, a busy counter stalls, status paused; runc\'s wrong-state messages', () => {
  const b = started((c) => { c.process.args = sh('while :; do :; done'); });
  const usage = () => Number(cg('cpuacct', b.id, 'cpuacct.usage'));
  assert.match(msg(sb.rt(['resume', b.id]).stderr), /container not paused/);
  const p = sb.rt(['pause', b.id]);
  assert.is(p.status, 0, p.stderr);
  assert.is(cg('freezer', b.id, 'freezer.state'), 'FROZEN');
  assert.is(state(b.id).status, 'paused');
  const u1 = usage();
  sleepMs(300);
  assert.is(usage(), u1, 'no cpu time while frozen');
  assert.match(msg(sb.rt(['pause', b.id]).stderr), /container not running/);
  assert.is(sb.rt(['resume', b.id]).status, 0);
  assert.is(cg('freezer', b.id, 'freezer.state'), 'THAWED');
  assert.is(state(b.id).status, 'running');
  sleepMs(200);
  assert.ok(usage() > u1, 'the counter moves again');
  sb.rt(['pause', b.id]);
  assert.is(sb.rt(['delete', '--force', b.id]).status, 0, 'a paused container can be force-deleted');
  assert.match(msg(sb.rt(['pause', b.id]).stderr), /container does not exist/);
});

test('ps: JSON array of the host pids of the cgroup; table filtered by the PID column', () => {
  const b = started((c) => { c.process.args = sh('sleep 60 & sleep 61; :'); });
  assert.ok(waitFor(() => JSON.parse(sb.rt(['ps', '--format', 'json', b.id]).stdout).length === 3));
  const r = sb.rt(['ps', '--format', 'json', b.id]);
  assert.match(r.stdout, /^\[\d+(,\d+)*\]\n$/);
  const pids: number[] = JSON.parse(r.stdout);
  assert.ok(pids.includes(state(b.id).pid));
  for (const p of pids) assert.ok(readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`${CGROUP_PARENT}/${b.id}`));
  const t = sb.rt(['ps', b.id]);
  const lines = t.stdout.trim().split('\n');
  assert.match(lines[0]!, /^UID\s+PID\s+PPID/);
  assert.is(lines.length, 4, t.stdout);
  const o = sb.rt(['ps', b.id, '-o', 'pid,comm']);
  assert.equal(o.stdout.trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).sort(), [...pids].sort());
  // go-runc passes its ps options as one argument, possibly empty (runc itself then fails; tsrun tolerates it).
  if (RUNTIME.endsWith('tsrun')) assert.is(sb.rt(['ps', '--format', 'table', b.id, '']).stdout.trim().split('\n').length, 4);
  assert.match(sb.rt(['ps', b.id, '-o', 'comm']).stderr, /couldn't find PID field in ps output/);
  assert.match(sb.rt(['ps', '--format', 'xml', b.id]).stderr, /invalid format option/);
  sb.rt(['delete', '--force', b.id]);
});

test('cgroups made below the container\'s own (systemd or Docker inside it): ps sees their processes, delete removes them all', () => {
  const b = started((c) => { c.process.args = sh('sleep 60 & sleep 61; :'); });
  assert.ok(waitFor(() => JSON.parse(sb.rt(['ps', '--format', 'json', b.id]).stdout).length === 3));
  const dirs = cgroupDirs(join(CGROUP_PARENT, b.id));
  for (const d of dirs) mkdirSync(join(d, 'inner', 'deeper'), { recursive: true });
  // move one of the container's processes into a sub-cgroup of the pids hierarchy (as an inner manager would)
  const child = JSON.parse(sb.rt(['ps', '--format', 'json', b.id]).stdout).find((p: number) => p !== state(b.id).pid) as number;
  writeFileSync(join('/sys/fs/cgroup/pids', CGROUP_PARENT, b.id, 'inner', 'deeper', 'cgroup.procs'), String(child));
  const pids: number[] = JSON.parse(sb.rt(['ps', '--format', 'json', b.id]).stdout);
  assert.ok(pids.includes(child), `ps lists the process in the sub-cgroup: ${pids}`);
  const r = sb.rt(['delete', '--force', b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(cgroupDirs(join(CGROUP_PARENT, b.id)), [], 'the container\'s cgroups and everything below them are gone');
  assert.ok(waitFor(() => !existsSync(`/proc/${child}`) || readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')));
});

test('a cgroupsPath whose freezer is FROZEN fails create at once (runc\'s words) instead of hanging', () => {
  const path = `${CGROUP_PARENT}/frozen-${process.pid}`;
  const freezer = join('/sys/fs/cgroup/freezer', path);
  if (!existsSync('/sys/fs/cgroup/freezer')) return;
  mkdirSync(freezer, { recursive: true });
  try {
    writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
    const b = sb.bundle((c) => { c.process.args = ['true']; c.linux.cgroupsPath = path; });
    const t0 = Date.now();
    const r = sb.rt(['create', '--bundle', b.dir, b.id], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    assert.is(r.status, 1, r.stderr);
    assert.ok(Date.now() - t0 < 10_000, 'no waiting');
    assert.match(msg(r.stderr), /container's cgroup unexpectedly frozen/);
    assert.ok(sb.rt(['state', b.id]).stderr.includes('does not exist'), 'no state left');
    assert.equal(readFileSync(join(freezer, 'cgroup.procs'), 'utf8'), '', 'nothing joined it');
  } finally {
    try { writeFileSync(join(freezer, 'freezer.state'), 'THAWED'); } catch { /* gone */ }
    for (const d of cgroupDirs(path)) try { rmdirSync(d); } catch { /* busy or gone */ }
  }
});

test('two containers given one cgroupsPath: deleting either leaves the other\'s processes alone (runc destroy)', () => {
  // Each has its own pid namespace, so only its own processes are its to kill; the cgroup they share stays while
  // anyone is in it. (Which container made the cgroup decides who may remove it: the test removes it at the end.)
  const shared = `${CGROUP_PARENT}/shared-${process.pid}`;
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  try {
    const [a, b, c] = [0, 1, 2].map(() => started((cfg) => { cfg.linux.cgroupsPath = shared; }));
    const [pa, pb, pc] = [a!, b!, c!].map((x) => state(x.id).pid as number);
    // a stopped container that did not create the cgroup
    sb.rt(['kill', b!.id, 'KILL']);
    assert.ok(waitFor(() => state(b!.id).status === 'stopped'));
    let r = sb.rt(['delete', b!.id]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(alive(pa!) && alive(pc!), 'the other containers\' processes live on');
    // the container that created it, force-deleted while running: the cgroup is busy, so it stays
    r = sb.rt(['delete', '--force', a!.id]);
    assert.is(r.status, 0, r.stderr);
    assert.not.ok(alive(pa!), 'its own init is gone');
    assert.ok(alive(pc!), 'the last container lives on');
    assert.ok(readFileSync(join('/sys/fs/cgroup/pids', shared, 'cgroup.procs'), 'utf8').split('\n').includes(String(pc)));
    if (RUNTIME.endsWith('tsrun')) assert.match(msg(r.stderr), new RegExp(`holds process\\(es\\) ${pc} from outside the container's pid namespace`));
    assert.is(sb.rt(['state', c!.id]).status, 0);
    assert.is(sb.rt(['delete', '--force', c!.id]).status, 0);
    assert.not.ok(alive(pc!));
    void pb;
  } finally {
    for (const d of cgroupDirs(shared)) try { rmdirSync(d); } catch { /* busy or gone */ }
  }
});

test('events --stats prints one stats object; a tiny memory limit OOM-kills and events reports it', async () => {
  const s = started((c) => { c.linux.resources.memory = { limit: 64 << 20 }; c.linux.resources.pids = { limit: 20 }; });
  const st = sb.rt(['events', '--stats', s.id]);
  assert.is(st.status, 0, st.stderr);
  assert.is(st.stdout.split('\n').length, 2, 'one line');
  const ev = JSON.parse(st.stdout);
  assert.is(ev.type, 'stats');
  assert.is(ev.id, s.id);
  for (const k of ['cpu', 'memory', 'pids', 'blkio', 'hugetlb']) assert.ok(k in ev.data, k);
  assert.match(st.stdout, new RegExp(`"usage":\\{"limit":${64 << 20},`), 'memory limit, exact');
  assert.is(ev.data.pids.current, 1);
  assert.is(ev.data.pids.limit, 20);
  assert.ok(ev.data.cpu.usage.total > 0);
  sb.rt(['delete', '--force', s.id]);

  const b = sb.bundle((c) => { c.process.args = sh('sleep 1; tail /dev/zero'); c.linux.resources.memory = { limit: 8 << 20, swap: 8 << 20 }; });
  const c = detached(['create', '--bundle', b.dir, b.id]);
  assert.is(c.status, 0, c.stderr);
  const child = spawn(RUNTIME, ['--root', sb.root, 'events', '--interval', '1s', b.id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  try {
    assert.is(sb.rt(['start', b.id]).status, 0);
    const deadline = Date.now() + 15_000;
    while (!out.includes('"type":"oom"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, new RegExp(`^\\{"type":"oom","id":"${b.id}"\\}$`, 'm'));
    assert.match(cg('memory', b.id, 'memory.oom_control'), /^oom_kill [1-9]/m);
    for (const line of out.trim().split('\n')) {
      const e = JSON.parse(line);
      assert.ok(e.type === 'oom' || (e.type === 'stats' && e.data.memory), line.slice(0, 80));
    }
    // Deleting the container ends `events` (its cgroup is gone).
    assert.is(sb.rt(['delete', '--force', b.id]).status, 0);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    assert.is(code, 0, 'events exits once the container is gone');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const stopped = sb.rt(['events', '--stats', b.id]);
  assert.match(stopped.stderr, /does not exist|is not running/);
});

test('cgroup v2 here (no controllers): membership, cgroup.freeze waits for "frozen 1", core files; controllers are refused by name', async () => {
  const mount = '/sys/fs/cgroup/unified';
  if (!existsSync(join(mount, 'cgroup.procs'))) return;
  const dir = join(mount, CGROUP_PARENT, `v2-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    assert.match(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), new RegExp(`^0::${CGROUP_PARENT}/v2-${process.pid}$`, 'm'));
    await setFrozen({ unified: dir }, true);
    assert.match(readFileSync(join(dir, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
    await setFrozen({ unified: dir }, false);
    assert.match(readFileSync(join(dir, 'cgroup.events'), 'utf8'), /^frozen 0$/m);
    const mounts = { v1: [], v2: mount, mode: 'v2' as const };
    applyResources({ unified: dir }, { unified: { 'cgroup.max.descendants': '3', 'cgroup.max.depth': '2' } }, mounts);
    assert.equal([readFileSync(join(dir, 'cgroup.max.descendants'), 'utf8').trim(), readFileSync(join(dir, 'cgroup.max.depth'), 'utf8').trim()], ['3', '2']);
    const subtree = readFileSync(join(mount, 'cgroup.subtree_control'), 'utf8');
    assert.throws(() => applyResources({ unified: dir }, { pidsLimit: 5 }, mounts), /failed to write|controller "pids" is not available on this host/);
    assert.is(readFileSync(join(mount, 'cgroup.subtree_control'), 'utf8'), subtree, 'the root\'s subtree_control is untouched');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    for (let i = 0; i < 100; i++) { try { rmdirSync(dir); break; } catch { sleepMs(20); } }
  }
  assert.not.ok(existsSync(dir));
});

test('features: the cgroup drivers this build has', () => {
  if (!RUNTIME.endsWith('tsrun')) return;
  const f = JSON.parse(spawnSync(RUNTIME, ['features'], { encoding: 'utf8' }).stdout);
  assert.equal(f.linux.cgroup, { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true });
});

test.run();
