/**
 * The systemd cgroup driver (--systemd-cgroup) with real containers, against a real dbus-daemon on a private bus
 * and the systemd manager test double (src/testing/fake-systemd.ts), which makes and removes the scope's cgroups
 * on this host's cgroupfs as systemd would. systemd itself is not on this machine: what is verified is tsrun's
 * side of the protocol (calls, properties, job handling) and the cgroups — not systemd's own behaviour.
 * Every unit lives in tsrun_test.slice (/sys/fs/cgroup/<h>/tsrun_test.slice), removed at the end. Needs root.
 * The last test drives runc 1.1.5 through the same double (with /run/systemd/system faked in a private mount
 * namespace, since runc checks for it) to see that the double is systemd enough for runc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, RUNTIME, isRoot, uniqueId, waitFor } from '../testing/harness.js';
import { propMap, startFakeSystemd, type FakeSystemd } from '../testing/fake-systemd.js';

const SLICE = 'tsrun_test.slice';
const sb = new Sandbox();
let fake: FakeSystemd;
const savedBus = process.env.DBUS_SYSTEM_BUS_ADDRESS;
const isTsrun = RUNTIME.endsWith('tsrun');
/** What tsrun sent as DeviceAllow for the test bundle's rules (compared with runc's below). */
let tsrunDeviceAllow: unknown;

/** Every hierarchy's directory of a unit (v1 ones and unified). */
const unitDirs = (unit: string) => readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, SLICE, unit)).filter((d) => existsSync(d));
const cg = (ctrl: string, unit: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, SLICE, unit, file), 'utf8').trim();
const msg = (stderr: string) => stderr.split('\n').map((l) => /msg=("(?:[^"\\]|\\.)*")/.exec(l)).filter(Boolean).map((m) => JSON.parse(m![1]!) as string).join('\n') || stderr;

/** stdout and stderr go to files: a created or detached container keeps the stdio it was given. */
function rtWith(runtime: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const base = join(sb.tmp, `out-${Date.now()}-${Math.random()}`);
  const out = openSync(`${base}.out`, 'w');
  const err = openSync(`${base}.err`, 'w');
  const r = spawnSync(runtime, ['--root', sb.root, ...args], { env, stdio: ['ignore', out, err], timeout: 60_000 });
  closeSync(out);
  closeSync(err);
  return { status: r.status, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: msg(readFileSync(`${base}.err`, 'utf8')) };
}
const rt = (args: string[], env?: NodeJS.ProcessEnv) => rtWith(RUNTIME, args, env);

test.before(async () => {
  if (!isRoot || !isTsrun) return;
  fake = await startFakeSystemd();
  process.env.DBUS_SYSTEM_BUS_ADDRESS = fake.address;
});

test.after(async () => {
  sb.cleanup();
  await fake?.stop();
  if (savedBus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS; else process.env.DBUS_SYSTEM_BUS_ADDRESS = savedBus;
  // the test slice, in every hierarchy, once it is empty (scopes are checked gone by the tests themselves)
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, SLICE);
    if (!existsSync(d)) continue;
    for (const s of readdirSync(d, { withFileTypes: true })) if (s.isDirectory() && /^(tsrun|runc)-.*\.scope$/.test(s.name)) try { rmdirSync(join(d, s.name)); } catch { /* busy: a test failed */ }
    try { rmdirSync(d); } catch { /* not empty */ }
  }
});

function bundle(edit: (c: any) => void = () => {}) {
  const id = uniqueId('sd');
  return sb.bundle((c) => { c.linux.cgroupsPath = `${SLICE}:tsrun:${id}`; c.process.args = ['sleep', '60']; edit(c); }, id);
}

test('create/start/exec/pause/update/kill/delete through a transient scope', () => {
  if (!isRoot || !isTsrun) return;
  const b = bundle((c) => {
    c.linux.resources = { ...c.linux.resources, memory: { limit: 64 << 20 }, cpu: { shares: 512, quota: 50_000, period: 100_000 }, pids: { limit: 42 } };
  });
  const unit = `tsrun-${b.id}.scope`;
  const c = rt(['--systemd-cgroup', 'create', '--bundle', b.dir, b.id]);
  assert.is(c.status, 0, c.stderr);
  const st = JSON.parse(rt(['state', b.id]).stdout);
  assert.is(st.status, 'created');

  // the D-Bus call: runc's properties, the init's pid, the resources
  const start = fake.calls().filter((x) => x.method === 'StartTransientUnit' && x.unit === unit);
  assert.is(start.length, 1);
  assert.is(start[0]!.mode, 'replace');
  assert.is(start[0]!.answer, 'done');
  const p = propMap(start[0]!);
  assert.equal({ Slice: p.Slice, Delegate: p.Delegate, PIDs: p.PIDs, DefaultDependencies: p.DefaultDependencies, MemoryAccounting: p.MemoryAccounting, CPUAccounting: p.CPUAccounting, BlockIOAccounting: p.BlockIOAccounting, TasksAccounting: p.TasksAccounting },
    { Slice: SLICE, Delegate: true, PIDs: [st.pid], DefaultDependencies: false, MemoryAccounting: true, CPUAccounting: true, BlockIOAccounting: true, TasksAccounting: true });
  assert.equal({ MemoryLimit: p.MemoryLimit, CPUShares: p.CPUShares, CPUQuotaPerSecUSec: p.CPUQuotaPerSecUSec, CPUQuotaPeriodUSec: p.CPUQuotaPeriodUSec, TasksMax: p.TasksMax, DevicePolicy: p.DevicePolicy },
    { MemoryLimit: 64 << 20, CPUShares: 512, CPUQuotaPerSecUSec: 500_000, CPUQuotaPeriodUSec: 100_000, TasksMax: 42, DevicePolicy: 'strict' });
  assert.ok((p.DeviceAllow as [string, string][]).some(([path, perms]) => path === '/dev/char/1:3' && perms === 'rwm'), JSON.stringify(p.DeviceAllow));
  tsrunDeviceAllow = p.DeviceAllow;

  // the init is in the scope in every hierarchy (the v1 ones and the unified membership hierarchy)
  const procCg = readFileSync(`/proc/${st.pid}/cgroup`, 'utf8').trim().split('\n');
  assert.is(procCg.length, readdirSync('/sys/fs/cgroup').length);
  for (const l of procCg) assert.ok(l.endsWith(`:/${SLICE}/${unit}`), l);
  // limits read back from the scope's files; the state records the unit
  assert.equal([cg('memory', unit, 'memory.limit_in_bytes'), cg('cpu', unit, 'cpu.shares'), cg('cpu', unit, 'cpu.cfs_quota_us'), cg('pids', unit, 'pids.max')],
    [String(64 << 20), '512', '50000', '42']);
  assert.match(cg('devices', unit, 'devices.list'), /^c 1:3 rwm$/m);
  const saved = JSON.parse(readFileSync(join(sb.root, b.id, 'state.json'), 'utf8'));
  assert.equal(saved.cgroup.systemd, { unit, slice: SLICE });
  assert.equal(saved.cgroup.created.sort(), unitDirs(unit).sort());

  assert.is(rt(['start', b.id]).status, 0);
  assert.is(JSON.parse(rt(['state', b.id]).stdout).status, 'running');
  // exec joins the scope; in the container's cgroup namespace the scope is the root
  const ex = rt(['exec', b.id, 'cat', '/proc/self/cgroup']);
  assert.is(ex.status, 0, ex.stderr);
  for (const l of ex.stdout.trim().split('\n')) assert.ok(l.endsWith(':/'), l);
  assert.is(rt(['exec', '-d', b.id, 'sleep', '50']).status, 0);
  const pids = JSON.parse(rt(['ps', '--format', 'json', b.id]).stdout) as number[];
  assert.is(pids.length, 2);
  for (const pid of pids) assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), `:/${SLICE}/${unit}\n`);

  // pause/resume: the scope's freezer
  assert.is(rt(['pause', b.id]).status, 0);
  assert.is(cg('freezer', unit, 'freezer.state'), 'FROZEN');
  assert.is(JSON.parse(rt(['state', b.id]).stdout).status, 'paused');
  assert.is(rt(['resume', b.id]).status, 0);
  assert.is(cg('freezer', unit, 'freezer.state'), 'THAWED');

  // update: SetUnitProperties (runtime) with the new values, then the files
  const u = rt(['update', '--memory', '32m', '--pids-limit', '20', '--cpu-share', '256', b.id]);
  assert.is(u.status, 0, u.stderr);
  const set = fake.calls().filter((x) => x.method === 'SetUnitProperties' && x.unit === unit);
  assert.is(set.length, 1);
  assert.is(set[0]!.runtime, true);
  const sp = propMap(set[0]!);
  // no quota or period in the request: as runc's update, neither is sent (and the files keep theirs)
  assert.equal({ MemoryLimit: sp.MemoryLimit, TasksMax: sp.TasksMax, CPUShares: sp.CPUShares, CPUQuotaPerSecUSec: sp.CPUQuotaPerSecUSec }, { MemoryLimit: 32 << 20, TasksMax: 20, CPUShares: 256, CPUQuotaPerSecUSec: undefined });
  assert.is(cg('cpu', unit, 'cpu.cfs_quota_us'), '50000');
  assert.not.ok('DevicePolicy' in sp); // update leaves the device rules alone
  assert.equal([cg('memory', unit, 'memory.limit_in_bytes'), cg('pids', unit, 'pids.max'), cg('cpu', unit, 'cpu.shares')], [String(32 << 20), '20', '256']);
  assert.is(cg('freezer', unit, 'freezer.state'), 'THAWED'); // frozen only around the call
  // a value the kernel refuses: the unit gets the previous values back too (runc sets the old config again)
  const bad = rt(['update', '--cpuset-cpus', '99', b.id]);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /cpuset\.cpus/);
  const sets = fake.calls().filter((x) => x.method === 'SetUnitProperties' && x.unit === unit).map(propMap);
  assert.is(sets.length, 3);
  assert.is((sets[1]!.AllowedCPUs as number[]).length, 13); // CPU 99: bit 3 of byte 12
  assert.equal([sets[2]!.AllowedCPUs, sets[2]!.MemoryLimit], [undefined, 32 << 20]);
  assert.is(cg('memory', unit, 'memory.limit_in_bytes'), String(32 << 20));

  // events --stats reads the scope's files
  const ev = JSON.parse(rt(['events', '--stats', b.id]).stdout);
  assert.equal([ev.type, ev.data.memory.usage.limit, ev.data.pids.limit], ['stats', 32 << 20, 20]);

  // kill --all reaches both processes; delete stops the unit and leaves no directory
  assert.is(rt(['kill', '--all', b.id, 'KILL']).status, 0);
  assert.ok(waitFor(() => JSON.parse(rt(['state', b.id]).stdout).status === 'stopped', 5000));
  const d = rt(['delete', b.id]);
  assert.is(d.status, 0, d.stderr);
  const stop = fake.calls().filter((x) => x.method === 'StopUnit' && x.unit === unit);
  assert.equal(stop.map((x) => [x.mode, x.answer]), [['replace', 'done']]);
  assert.equal(unitDirs(unit), []);
  assert.not.ok(existsSync(join(sb.root, b.id)));
});

test('run (foreground) and delete --force of a running container: the unit is stopped, nothing left', () => {
  if (!isRoot || !isTsrun) return;
  const b = bundle((c) => { c.process.args = ['sh', '-c', 'cat /proc/self/cgroup | head -1']; });
  const unit = `tsrun-${b.id}.scope`;
  const r = rt(['--systemd-cgroup', 'run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /:\/$/m);
  assert.is(fake.calls().filter((x) => x.method === 'StartTransientUnit' && x.unit === unit).length, 1);
  assert.ok(fake.calls().some((x) => x.method === 'StopUnit' && x.unit === unit));
  assert.equal(unitDirs(unit), []);

  const b2 = bundle();
  const unit2 = `tsrun-${b2.id}.scope`;
  assert.is(rt(['--systemd-cgroup', 'run', '-d', '--bundle', b2.dir, b2.id]).status, 0);
  assert.is(unitDirs(unit2).length, readdirSync('/sys/fs/cgroup').length);
  // no --systemd-cgroup on delete: the state knows the unit (containerd passes the flag; others may not)
  const d = rt(['delete', '--force', b2.id]);
  assert.is(d.status, 0, d.stderr);
  assert.ok(fake.calls().some((x) => x.method === 'StopUnit' && x.unit === unit2 && x.answer === 'done'));
  assert.equal(unitDirs(unit2), []);
});

test('no bus: a clear error naming the address; no state, no cgroup, no process', () => {
  if (!isRoot || !isTsrun) return;
  const b = bundle();
  const addr = `unix:path=${join(sb.tmp, 'no-such-bus')}`;
  const r = rt(['--systemd-cgroup', 'create', '--bundle', b.dir, b.id], { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: addr });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, `systemd is required for --systemd-cgroup, but the D-Bus system bus at ${addr} cannot be reached: connect ENOENT`);
  assert.not.ok(existsSync(join(sb.root, b.id)));
  assert.equal(unitDirs(`tsrun-${b.id}.scope`), []);
  assert.not.ok(fake.calls().some((x) => x.unit === `tsrun-${b.id}.scope`));
});

test('a unit whose job fails: create fails naming the unit and result; nothing left behind', () => {
  if (!isRoot || !isTsrun) return;
  const b = bundle();
  const unit = `tsrun-${b.id}.scope`;
  fake.control({ startResult: 'failed' });
  let r;
  try {
    r = rt(['--systemd-cgroup', 'create', '--bundle', b.dir, b.id]);
  } finally {
    fake.control({});
  }
  assert.is.not(r.status, 0);
  assert.match(r.stderr, `error creating systemd unit \`${unit}\`: got \`failed\``);
  const call = fake.calls().find((x) => x.method === 'StartTransientUnit' && x.unit === unit)!;
  const pid = (propMap(call).PIDs as number[])[0]!;
  assert.ok(waitFor(() => !existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')), 3000), 'the init was killed');
  assert.ok(fake.calls().some((x) => x.method === 'ResetFailedUnit' && x.unit === unit));
  assert.not.ok(existsSync(join(sb.root, b.id)));
  assert.equal(unitDirs(unit), []);
});

test('a create that fails after the unit started (no such program): the unit is stopped, nothing left', () => {
  if (!isRoot || !isTsrun) return;
  const b = bundle((c) => { c.process.args = ['/no/such/program']; });
  const unit = `tsrun-${b.id}.scope`;
  const r = rt(['--systemd-cgroup', 'create', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, 'no such file or directory');
  assert.equal(fake.calls().filter((x) => x.unit === unit && /Unit$/.test(x.method)).map((x) => `${x.method}:${x.answer}`).slice(0, 2), ['StartTransientUnit:done', 'StopUnit:done']);
  assert.not.ok(existsSync(join(sb.root, b.id)));
  assert.equal(unitDirs(unit), []);
});

test('cgroupsPath forms: a bad slice, a plain path with the flag, a systemd path without it', () => {
  if (!isRoot || !isTsrun) return;
  const b1 = bundle((c) => { c.linux.cgroupsPath = 'tsrun_test--x.slice:tsrun:x'; });
  const r1 = rt(['--systemd-cgroup', 'create', '--bundle', b1.dir, b1.id]);
  assert.match(r1.stderr, 'invalid slice name: tsrun_test--x.slice');
  const b2 = bundle((c) => { c.linux.cgroupsPath = '/tsrun-test/plain'; });
  const r2 = rt(['--systemd-cgroup', 'create', '--bundle', b2.dir, b2.id]);
  assert.match(r2.stderr, 'expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/tsrun-test/plain" instead');
  const b3 = bundle();
  const r3 = rt(['create', '--bundle', b3.dir, b3.id]);
  assert.match(r3.stderr, /looks like a systemd path/);
  for (const b of [b1, b2, b3]) assert.not.ok(existsSync(join(sb.root, b.id)));
});

test('runc 1.1.5 against the same double (comparison)', () => {
  if (!isRoot || !isTsrun) return;
  if (spawnSync('runc', ['--version']).status !== 0) return;
  // runc refuses --systemd-cgroup unless /run/systemd/system exists: fake it in a private mount namespace
  const wrapper = join(sb.tmp, 'runc-systemd');
  writeFileSync(wrapper, '#!/bin/sh\nexec unshare -m --propagation private sh -c \'mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec runc "$@"\' runc "$@"\n');
  chmodSync(wrapper, 0o755);
  const b = bundle((c) => { c.linux.cgroupsPath = `${SLICE}:runc:${c.linux.cgroupsPath.split(':')[2]}`; c.linux.resources = { ...c.linux.resources, memory: { limit: 64 << 20 }, pids: { limit: 42 } }; });
  const unit = `runc-${b.id}.scope`;
  const before = fake.calls().length;
  const c = rtWith(wrapper, ['--systemd-cgroup', 'run', '-d', '--bundle', b.dir, b.id]);
  assert.is(c.status, 0, c.stderr);
  const st = JSON.parse(rtWith(wrapper, ['state', b.id]).stdout);
  const calls = fake.calls().slice(before);
  const start = calls.find((x) => x.method === 'StartTransientUnit' && x.unit === unit)!;
  assert.ok(start, JSON.stringify(calls));
  assert.is(start.answer, 'done');
  const p = propMap(start);
  assert.equal({ Slice: p.Slice, Delegate: p.Delegate, DefaultDependencies: p.DefaultDependencies }, { Slice: SLICE, Delegate: true, DefaultDependencies: false });
  // runc gives the pid of its bootstrap process (runc init), whose child is the container's init
  assert.is((p.PIDs as number[]).length, 1);
  assert.match(readFileSync(`/proc/${st.pid}/cgroup`, 'utf8'), `:/${SLICE}/${unit}\n`);
  // runc sends the resources in a second call (Set after Apply)
  const set = calls.find((x) => x.method === 'SetUnitProperties' && x.unit === unit)!;
  assert.ok(set, JSON.stringify(calls.map((x) => x.method)));
  assert.equal({ MemoryLimit: propMap(set).MemoryLimit, TasksMax: propMap(set).TasksMax }, { MemoryLimit: 64 << 20, TasksMax: 42 });
  // the same config's device rules become the same DevicePolicy/DeviceAllow in both runtimes
  assert.is(propMap(set).DevicePolicy, 'strict');
  if (tsrunDeviceAllow) assert.equal(propMap(set).DeviceAllow, tsrunDeviceAllow);
  assert.is(cg('memory', unit, 'memory.limit_in_bytes'), String(64 << 20));
  const d = rtWith(wrapper, ['delete', '--force', b.id]);
  assert.is(d.status, 0, d.stderr);
  assert.ok(fake.calls().some((x) => x.method === 'StopUnit' && x.unit === unit), JSON.stringify(fake.calls().slice(before).map((x) => `${x.method}:${x.answer}`)));
  assert.equal(unitDirs(unit), []);
  const show = (x: { method: string; unit?: string; answer?: string; props?: [string, string, unknown][] }) =>
    `${x.method}(${x.unit ?? ''}${x.props ? ' ' + x.props.map(([n, , v]) => `${n}=${JSON.stringify(v)}`).join(' ') : ''})→${x.answer ?? ''}`;
  if (process.env.TSRUN_TEST_VERBOSE) process.stdout.write(`\n# runc's calls: ${fake.calls().slice(before).map(show).join('\n#   ')}\n`);
});

test.run();
