/**
 * The cgroup v2 device filter for real, on this hybrid host's cgroup2 mount (/sys/fs/cgroup/unified: no
 * controllers, but BPF_CGROUP_DEVICE programs attach to it and the kernel consults them on every device open,
 * besides the v1 devices cgroup). Every cgroup is created under /tsrun-test/ by the test and removed by it (the
 * kernel detaches the programs with the cgroup). Needs root.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_PARENT, RUNTIME, Sandbox, isRoot, sleepMs, uniqueId } from '../../testing/harness.js';
import { BpfError, progLoadCgroupDevice } from '../../sys/bpf.js';
import { applyResources } from './apply.js';
import { attachedDeviceFilters, setDeviceFilter } from './devices-bpf-attach.js';
import { DEVICE_FILTER_LICENSE, encodeProgram, OP } from './devices-bpf.js';
import type { DeviceCgroupRule } from './devices.js';
import type { CgroupMounts } from './mounts.js';
import { fromSpec } from './resources.js';

const MOUNT = '/sys/fs/cgroup/unified';
const usable = isRoot && existsSync(join(MOUNT, 'cgroup.procs'));
const made: string[] = [];
const sb = new Sandbox();

test.after(() => {
  sb.cleanup();
  for (const d of made.reverse()) for (let i = 0; i < 100 && existsSync(d); i++) { try { rmdirSync(d); } catch { sleepMs(20); } }
});

function cgroup(): string {
  const dir = join(MOUNT, CGROUP_PARENT, uniqueId('bpf'));
  mkdirSync(dir, { recursive: true });
  made.push(dir);
  return dir;
}

const rule = (type: 'a' | 'b' | 'c', major: number, minor: number, access: string, allow: boolean): DeviceCgroupRule => ({ type, major, minor, access, allow });

/**
 * Run `script` in a shell that is moved into `dir` before it does anything: it waits on stdin until its pid is
 * in cgroup.procs. Each `true <DEV && echo ok DEV` opens a device for reading.
 */
async function inCgroup(dir: string, script: string): Promise<{ out: string; err: string; code: number | null }> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  assert.match(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), new RegExp(`^0::${dir.slice(MOUNT.length)}$`, 'm'));
  child.stdin.end('go\n');
  const code = await exited;
  return { out, err, code };
}
// `true`, not `:`: a failed redirection on a special builtin would end the shell.
const opens = (...devs: string[]) => devs.map((d) => `true <${d} && echo ok ${d};`).join(' ');

test('a program the verifier refuses: BPF_PROG_LOAD fails with the verifier log', () => {
  if (!usable) return;
  // r0 never set before exit
  const bad = encodeProgram([{ code: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 }]);
  assert.throws(() => progLoadCgroupDevice(bad, DEVICE_FILTER_LICENSE, 'tsrun_test'),
    (e: BpfError) => e instanceof BpfError && e.errno === 13 && /R0 !read_ok/.test(e.verifierLog ?? ''));
});

test('/dev/null allowed, /dev/zero denied with EPERM; replacing the program (one attached afterwards) lets /dev/zero through', async () => {
  if (!usable) return;
  const dir = cgroup();
  const base = [rule('a', -1, -1, 'rwm', false), rule('c', 1, 3, 'rwm', true)];
  setDeviceFilter(dir, base);
  const first = attachedDeviceFilters(dir);
  assert.is(first.length, 1);
  const r1 = await inCgroup(dir, `${opens('/dev/null')} ${opens('/dev/zero')} head -c1 /dev/zero >/dev/null && echo ok head`);
  assert.is(r1.out, 'ok /dev/null\n');
  assert.match(r1.err, /\/dev\/zero: Operation not permitted/);
  assert.ok(r1.err.split('\n').filter((l) => /Operation not permitted/.test(l)).length === 2, r1.err); // sh's open and head's
  setDeviceFilter(dir, [...base, rule('c', 1, 5, 'r', true)]);
  const second = attachedDeviceFilters(dir);
  assert.is(second.length, 1, 'the old program was detached');
  assert.is.not(second[0], first[0]);
  const r2 = await inCgroup(dir, `${opens('/dev/null', '/dev/zero')} head -c1 /dev/zero | od -An -tx1; echo x >/dev/zero || echo no-write`);
  assert.is(r2.out, 'ok /dev/null\nok /dev/zero\n 00\nno-write\n', 'read-only access to /dev/zero: writing it is still refused');
  assert.match(r2.err, /\/dev\/zero: Operation not permitted/);
});

test('the v2 driver (applyResources, v2 mode on the unified mount): create attaches runc\'s list, update keeps it, new rules replace it', async () => {
  if (!usable) return;
  const dir = cgroup();
  const mounts: CgroupMounts = { v1: [], v2: MOUNT, mode: 'v2' };
  // Docker's default: deny all, then runc's default allow list (fromSpec appends it)
  const r = fromSpec({ devices: [{ allow: false, access: 'rwm' }] });
  const { warnings } = applyResources({ unified: dir }, r, mounts);
  assert.equal(warnings, []);
  const ids = attachedDeviceFilters(dir);
  assert.is(ids.length, 1);
  const r1 = await inCgroup(dir, opens('/dev/null', '/dev/zero', '/dev/urandom', '/dev/full', '/dev/kmsg', '/dev/mem'));
  assert.is(r1.out, 'ok /dev/null\nok /dev/zero\nok /dev/urandom\nok /dev/full\n');
  assert.match(r1.err, /\/dev\/kmsg: Operation not permitted/);
  // update: runc leaves the device rules alone (skipDevices), so does tsrun: same program
  applyResources({ unified: dir }, { ...r, skipDevices: true, unified: { 'cgroup.max.depth': '3' } }, mounts);
  assert.equal(attachedDeviceFilters(dir), ids);
  assert.is(readFileSync(join(dir, 'cgroup.max.depth'), 'utf8').trim(), '3');
  // a set with new rules: /dev/kmsg readable, exactly one program, a new one
  applyResources({ unified: dir }, fromSpec({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }] }), mounts);
  const now = attachedDeviceFilters(dir);
  assert.is(now.length, 1);
  assert.is.not(now[0], ids[0]);
  const r2 = await inCgroup(dir, opens('/dev/kmsg'));
  assert.is(r2.out, 'ok /dev/kmsg\n', r2.err);
});

test('a real container: a filter on its cgroup2 directory is enforced for `exec`; delete removes the cgroup with the program', async () => {
  if (!usable || !RUNTIME.endsWith('tsrun')) return;
  const b = sb.bundle((c) => { c.process.args = ['sleep', '60']; c.process.terminal = false; });
  // run -d: the container keeps whatever stdio it gets, so it gets a file
  const errFile = join(sb.tmp, `${b.id}.err`);
  const fd = openSync(errFile, 'w');
  const run = sb.rt(['run', '-d', '--bundle', b.dir, b.id], { stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  assert.is(run.status, 0, readFileSync(errFile, 'utf8'));
  const dir = join(MOUNT, CGROUP_PARENT, b.id);
  assert.ok(existsSync(dir), 'hybrid host: the container has a cgroup2 directory for membership');
  const exec = () => sb.rt(['exec', b.id, 'sh', '-c', opens('/dev/null', '/dev/zero')]);
  assert.is(exec().stdout, 'ok /dev/null\nok /dev/zero\n', 'without a program: the v1 devices cgroup (runc\'s list) allows both');
  // runc's default list minus /dev/zero
  const defaults = fromSpec({ devices: [{ allow: false, access: 'rwm' }] }).devices!.filter((d) => !(d.major === 1 && d.minor === 5));
  setDeviceFilter(dir, defaults);
  const denied = exec();
  assert.is(denied.stdout, 'ok /dev/null\n');
  assert.match(denied.stderr, /\/dev\/zero: Operation not permitted/);
  setDeviceFilter(dir, fromSpec({ devices: [{ allow: false, access: 'rwm' }] }).devices!);
  assert.is(attachedDeviceFilters(dir).length, 1);
  assert.is(exec().stdout, 'ok /dev/null\nok /dev/zero\n');
  const del = sb.rt(['delete', '--force', b.id]);
  assert.is(del.status, 0, del.stderr);
  assert.not.ok(existsSync(dir));
});

test.run();
