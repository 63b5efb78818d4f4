/**
 * Real containers from the busybox test bundle: the lifecycle, output and exit codes, pidfile, namespaces,
 * credentials, hooks, fd hygiene and leftovers. Needs root.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readlinkSync, existsSync, mkdirSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox, cgroupDirs, CGROUP_PARENT, waitFor, uniqueId, RUNTIME, PKG } from '../testing/harness.js';

async function waitForAsync(pred: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await new Promise((r) => setTimeout(r, 10));
  return pred();
}

const sb = new Sandbox();
test.after(() => sb.cleanup());

const sh = (cmd: string) => ['sh', '-c', cmd];
const state = (id: string) => JSON.parse(sb.rt(['state', id]).stdout);

test('run in the foreground: output and exit status', () => {
  const b = sb.bundle((c) => { c.process.args = sh('echo hello; echo err >&2; exit 3'); });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.stdout, 'hello\n');
  assert.is(r.stderr, 'err\n');
  assert.is(r.status, 3);
  assert.is(sb.rt(['state', b.id]).status, 1, 'removed after run without --keep');
});

test('run: killed by a signal → 128+N', async () => {
  // The init is pid 1 of its namespace and immune to its own SIGKILL: kill it from the host, as a user would.
  const b = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  const { spawn } = await import('node:child_process');
  const child = spawn(RUNTIME, ['--root', sb.root, 'run', '--bundle', b.dir, b.id], { stdio: 'ignore' });
  assert.ok(waitFor(() => sb.rt(['state', b.id]).stdout.includes('"running"')), 'running');
  const code = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  assert.is(sb.rt(['kill', b.id, '9']).status, 0);
  assert.is(await code, 137);
});

test('create → created → start → running → kill → stopped → delete', () => {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  const pidFile = join(sb.tmp, `${b.id}.pid`);
  const c = sb.rt(['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
  assert.is(c.status, 0, c.stderr);
  assert.is(c.stdout, '', 'create prints nothing on success');
  const s1 = state(b.id);
  assert.is(s1.status, 'created');
  assert.is(s1.id, b.id);
  assert.is(s1.bundle, b.dir);
  const pidText = readFileSync(pidFile, 'utf8');
  assert.match(pidText, /^[0-9]+$/, 'pidfile: digits, no newline');
  assert.is(Number(pidText), s1.pid);
  // While waiting for start: a small C process, alone in its cgroup, no Node anywhere near it.
  const status = readFileSync(`/proc/${s1.pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  assert.ok(rss <= 1024, `waiting init VmRSS ${rss} kB ≤ 1024 kB`);
  const procs = readFileSync(join('/sys/fs/cgroup/pids', CGROUP_PARENT, b.id, 'cgroup.procs'), 'utf8').trim().split('\n');
  assert.equal(procs, [String(s1.pid)]);
  for (const p of procs) assert.not.match(readFileSync(`/proc/${p}/cmdline`, 'utf8'), /node/);
  assert.is(sb.rt(['start', b.id]).status, 0);
  assert.is(state(b.id).status, 'running');
  assert.ok(waitFor(() => readFileSync(`/proc/${s1.pid}/cmdline`, 'utf8').startsWith('sleep')), 'the user program runs after start');
  assert.is(sb.rt(['start', b.id]).stderr.includes('cannot start an already running container'), true);
  const d = sb.rt(['delete', b.id]);
  assert.is(d.status, 1);
  assert.ok(d.stderr.includes(`cannot delete container ${b.id} that is not stopped: running`), d.stderr);
  assert.is(sb.rt(['kill', b.id, 'KILL']).status, 0);
  assert.ok(waitFor(() => state(b.id).status === 'stopped'));
  assert.is(state(b.id).pid, 0);
  assert.is(sb.rt(['kill', b.id]).stderr.includes('container not running'), true);
  const ka = sb.rt(['kill', '--all', b.id, '9']);
  assert.is(ka.status, 0, 'kill --all of a stopped container succeeds: ' + ka.stderr);
  const del = sb.rt(['delete', b.id]);
  assert.is(del.status, 0, del.stderr);
  assert.ok(sb.rt(['state', b.id]).stderr.includes('container does not exist'));
  assert.equal(cgroupDirs(join(CGROUP_PARENT, b.id)), [], 'no cgroup left');
});

test('the user program does not run before start; delete of a created container kills it', () => {
  const mark = join(sb.tmp, 'ran');
  mkdirSync(mark);
  const b = sb.bundle((c) => {
    c.mounts.push({ destination: '/mark', type: 'bind', source: mark, options: ['rbind', 'rw'] });
    c.process.args = sh('touch /mark/yes');
  });
  assert.is(sb.rt(['create', '--bundle', b.dir, b.id]).status, 0);
  assert.not.ok(existsSync(join(mark, 'yes')));
  const pid = state(b.id).pid;
  assert.is(sb.rt(['delete', b.id]).status, 0, 'containerd deletes created containers without --force');
  assert.ok(waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')));
  assert.not.ok(existsSync(join(mark, 'yes')));
});

test('an unreadable state.json: named by state, skipped by list, refused by delete, dropped by delete --force with a warning', () => {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '60']; });
  assert.is(sb.rt(['create', '--bundle', b.dir, b.id]).status, 0);
  const pid = state(b.id).pid;
  const file = join(sb.root, b.id, 'state.json');
  writeFileSync(file, 'garbage');
  try {
    let r = sb.rt(['state', b.id]);
    assert.is(r.status, 1);
    assert.ok(r.stderr.includes(`container state ${file} is not valid JSON`), r.stderr);
    r = sb.rt(['list']);
    assert.is(r.status, 0);
    assert.not.ok(r.stdout.includes(b.id));
    assert.ok(r.stderr.includes(`skipping ${b.id}`), r.stderr);
    assert.is(sb.rt(['delete', b.id]).status, 1);
    if (RUNTIME.endsWith('tsrun')) {
      r = sb.rt(['delete', '--force', b.id]);
      assert.is(r.status, 0, r.stderr);
      assert.ok(r.stderr.includes('processes and cgroups, if any, are not known and are left as they are'), r.stderr);
      assert.not.ok(existsSync(join(sb.root, b.id)));
    }
  } finally {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }  // our own container's init, left by design
    waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'));
    for (const d of cgroupDirs(join(CGROUP_PARENT, b.id))) try { spawnSync('rmdir', [d]); } catch { /* busy */ }
  }
});

test('new namespaces differ from the host, joined ones equal the target', () => {
  const types = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];
  const b = sb.bundle((c) => { c.process.args = sh(types.map((t) => `readlink /proc/self/ns/${t}`).join(';')); });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  const inside = r.stdout.trim().split('\n');
  types.forEach((t, i) => assert.is.not(inside[i], readlinkSync(`/proc/self/ns/${t}`), `${t} namespace is new`));
  // A second container joins the first one's net and uts namespaces by path.
  const a = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  // A detached container inherits our stdio: give it nothing to hold open, or spawnSync waits for its end.
  const errFile = join(sb.tmp, 'run-d.err');
  const errFd = openSync(errFile, 'w');
  const ra = sb.rt(['run', '-d', '--bundle', a.dir, a.id], { stdio: ['ignore', 'ignore', errFd] });
  closeSync(errFd);
  assert.is(ra.status, 0, readFileSync(errFile, 'utf8'));
  const apid = state(a.id).pid;
  assert.ok(apid > 0, `run -d leaves a running container: ${JSON.stringify(state(a.id))}`);
  const j = sb.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' || n.type === 'uts' ? { ...n, path: `/proc/${apid}/ns/${n.type === 'network' ? 'net' : 'uts'}` } : n));
    delete c.hostname;
    c.process.args = sh('readlink /proc/self/ns/net; readlink /proc/self/ns/uts');
  });
  const jr = sb.rt(['run', '--bundle', j.dir, j.id]);
  assert.is(jr.status, 0, jr.stderr);
  assert.equal(jr.stdout.trim().split('\n'), [readlinkSync(`/proc/${apid}/ns/net`), readlinkSync(`/proc/${apid}/ns/uts`)]);
  sb.rt(['delete', '--force', a.id]);
});

test('hostname, ids, groups, umask and rlimits as configured', () => {
  const b = sb.bundle((c) => {
    c.hostname = 'box1';
    c.process.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o027 };
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 777 }];
    c.process.args = sh('hostname; id -u; id -g; id -G; umask; ulimit -n; ulimit -Hn');
  });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['box1', '1000', '1001', '1001 10 20', '0027', '512', '777']);
});

test('a user-namespace container sees its mapped ids', () => {
  const b = sb.bundle((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.process.args = sh('id -u; cat /proc/self/uid_map; sleep 1');
  });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  const [uid, map] = r.stdout.trim().split('\n');
  assert.is(uid, '0');
  assert.equal(map!.trim().split(/\s+/), ['0', '200000', '65536']);
});

test('a missing or non-executable program fails create with runc wording', () => {
  const b = sb.bundle((c) => { c.process.args = ['nosuchprog']; });
  const r = sb.rt(['create', '--bundle', b.dir, b.id]);
  assert.is(r.status, 1);
  // The text log quotes msg like logrus does; the substrings Docker matches are intact.
  assert.ok(r.stderr.includes('exec: \\"nosuchprog\\": executable file not found in $PATH'), r.stderr);
  assert.not.ok(existsSync(join(sb.root, b.id)), 'no state dir left');
  const b2 = sb.bundle((c) => { c.process.args = ['/nonexistent']; });
  assert.ok(sb.rt(['create', '--bundle', b2.dir, b2.id]).stderr.includes('exec: \\"/nonexistent\\": stat /nonexistent: no such file or directory'));
  const b3 = sb.bundle((c) => { c.process.args = ['/etc/passwd']; });
  assert.ok(sb.rt(['create', '--bundle', b3.dir, b3.id]).stderr.includes('exec: \\"/etc/passwd\\": permission denied'));
  const log = join(sb.tmp, 'create-fail.json');
  const j = sb.rt(['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, b.id]);
  assert.is(j.status, 1);
  assert.is(JSON.parse(readFileSync(log, 'utf8').trim()).msg, 'unable to start container process: exec: "nosuchprog": executable file not found in $PATH');
});

test('only fds 0-2 (and preserved ones) reach the container; a cwd through a leaked fd does not escape', () => {
  // Open a few host directories in the caller, as a leaky shim would.
  const leaked: number[] = [];
  for (let i = 0; i < 5; i++) leaked.push(openSync('/etc', 'r'));
  try {
    const b = sb.bundle((c) => { c.process.args = sh('ls /proc/self/fd | sort -n | tr "\\n" " "'); });
    const r = sb.rt(['run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'pipe', ...leaked] as any });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), '0 1 2 3', 'ls sees its own directory fd (3) and stdio only');
    for (const n of [3, 4, 5, 6, 7]) {
      const bb = sb.bundle((c) => { c.process.cwd = `/proc/self/fd/${n}`; c.process.args = ['pwd']; });
      const rr = sb.rt(['run', '--bundle', bb.dir, bb.id], { stdio: ['ignore', 'pipe', 'pipe', ...leaked] as any });
      if (rr.status === 0) assert.ok(!rr.stdout.includes('etc'), `cwd /proc/self/fd/${n} stayed inside: ${rr.stdout}`);
    }
  } finally {
    leaked.forEach((fd) => closeSync(fd));
  }
});

test('--preserve-fds passes fds at the same numbers', () => {
  const f = join(sb.tmp, 'preserved.txt');
  writeFileSync(f, 'kept\n');
  const fd = openSync(f, 'r');
  try {
    const b = sb.bundle((c) => { c.process.args = sh('cat <&3'); });
    const r = sb.rt(['run', '--preserve-fds', '1', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'pipe', fd] as any });
    assert.is(r.stdout, 'kept\n', r.stderr);
  } finally {
    closeSync(fd);
  }
});

test('hooks fire in order with valid state JSON; a failing prestart aborts create and leaves nothing', () => {
  const log = join(sb.tmp, 'hooks');
  mkdirSync(log);
  // Host-side hooks write to the log dir by its host path; startContainer runs inside and sees it at /tmp/hooklog
  // (a fixed target, so the shared test rootfs gains one empty directory, not one per run).
  const hook = (name: string, dir = log) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${name}.json; echo ${name} >> ${dir}/order`] });
  // startContainer runs inside the container: it sees the bind-mounted log dir at the same path.
  const b = sb.bundle((c) => {
    c.mounts.push({ destination: '/tmp/hooklog', type: 'bind', source: log, options: ['rbind', 'rw'] });
    c.hooks = {
      prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
      startContainer: [hook('startContainer', '/tmp/hooklog')], poststart: [hook('poststart')], poststop: [hook('poststop')],
    };
    c.process.args = ['true'];
  });
  assert.is(sb.rt(['create', '--bundle', b.dir, b.id]).status, 0);
  assert.is(sb.rt(['start', b.id]).status, 0);
  assert.ok(waitFor(() => state(b.id).status === 'stopped'));
  assert.is(sb.rt(['delete', b.id]).status, 0);
  assert.equal(readFileSync(join(log, 'order'), 'utf8').trim().split('\n'),
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  for (const name of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
    const s = JSON.parse(readFileSync(join(log, `${name}.json`), 'utf8'));
    assert.is(s.id, b.id, name);
    assert.ok(['creating', 'created', 'running', 'stopped'].includes(s.status), `${name} status ${s.status}`);
    if (name !== 'poststop') assert.ok(s.pid > 0, `${name} has the pid`);
  }
  const bad = sb.bundle((c) => { c.hooks = { prestart: [{ path: '/bin/false' }] }; c.process.args = ['true']; }, uniqueId('badhook'));
  const r = sb.rt(['create', '--bundle', bad.dir, bad.id]);
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('prestart'), r.stderr);
  assert.not.ok(existsSync(join(sb.root, bad.id)), 'no state dir');
  assert.equal(cgroupDirs(join(CGROUP_PARENT, bad.id)), [], 'no cgroup');
});

test('terminal: the console socket receives exactly one fd; the container sees a tty of the configured size', async () => {
  const { spawn } = await import('node:child_process');
  const sock = join(sb.tmp, 'console.sock');
  const recv = spawn('python3', [join(PKG, 'src/testing/console-receiver.py'), sock, 'typed-input\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  recv.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise((res) => recv.on('exit', res));
  assert.ok(await waitForAsync(() => out.includes('listening')), 'receiver listening');
  const b = sb.bundle((c) => {
    c.process.terminal = true;
    c.process.consoleSize = { height: 33, width: 111 };
    c.process.args = sh('stty size; tty; read line; echo "got:$line"; ls -l /dev/console');
  });
  const pidFile = join(sb.tmp, `${b.id}.pid`);
  const c = sb.rt(['create', '--bundle', b.dir, '--console-socket', sock, '--pid-file', pidFile, b.id]);
  assert.is(c.status, 0, c.stderr);
  assert.ok(existsSync(pidFile));
  assert.is(sb.rt(['start', b.id]).status, 0);
  await exited;
  assert.ok(out.includes('messages=1 cmsgs=1 fds=1 payload=/dev/ptmx'), out);
  assert.ok(out.includes('winsize=33x111'), out);
  assert.ok(out.includes('extra-after=0'), 'nothing follows the one message');
  assert.ok(out.includes('33 111\n/dev/pts/0\n'), out);
  assert.ok(out.includes('got:typed-input'), out);
  assert.ok(waitFor(() => state(b.id).status === 'stopped'));
  assert.is(sb.rt(['delete', b.id]).status, 0);
  // runc's terminal rules
  assert.ok(sb.rt(['create', '--bundle', b.dir, uniqueId()]).stderr.includes('cannot allocate tty if runc will detach without setting console socket'));
  const nt = sb.bundle((cc) => { cc.process.terminal = false; });
  assert.ok(sb.rt(['create', '--bundle', nt.dir, '--console-socket', sock, nt.id]).stderr.includes('cannot use console socket if runc will not detach or allocate tty'));
});

test('run -t in the foreground proxies the terminal: size from the caller, exit status, nothing left', () => {
  const b = sb.bundle((c) => { c.process.terminal = true; c.process.args = sh('stty size; tty; exit 5'); });
  // `script` gives us a terminal to run under, as a user's shell would.
  const r = spawnSync('script', ['-qec', `stty cols 99 rows 22; ${RUNTIME} --root ${sb.root} run --bundle ${b.dir} ${b.id}; echo "rc=$?"`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  // script(1) forwards the EOF of its own empty stdin as a NUL the pty echoes (^@) at a random moment: drop it.
  const out = r.stdout.replace(/\r/g, '').replace(/\^@|\0/g, '');
  assert.ok(out.includes('22 99\n/dev/pts/0\n'), out);
  assert.ok(out.includes('rc=5'), out);
  assert.not.ok(existsSync(join(sb.root, b.id)));
});

test('200 sequential run/delete cycles leave no state, cgroups, mounts or processes', () => {
  const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
  const b = sb.bundle((c) => { c.process.args = ['true']; });
  for (let i = 0; i < 200; i++) {
    const r = sb.rt(['run', '--bundle', b.dir, b.id]);
    assert.is(r.status, 0, `cycle ${i}: ${r.stderr}`);
  }
  assert.equal(spawnSync('ls', [sb.root], { encoding: 'utf8' }).stdout.trim(), '');
  assert.equal(cgroupDirs(join(CGROUP_PARENT, b.id)), []);
  assert.is(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length, mountsBefore);
});

test.run();
