/**
 * `tsrun exec` into real containers from the busybox test bundle: namespaces and cgroups joined, credentials,
 * exit codes, --process, detached with a pidfile, terminals, user namespaces, runc's errors, and no leftovers
 * after many execs. Needs root. OCI_RUNTIME=runc runs the same tests against runc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, CGROUP_PARENT, PKG, RUNTIME, TEST_BUNDLE, waitFor, uniqueId } from '../testing/harness.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];
function state(id: string) {
  const r = sb.rt(['state', id]);
  assert.is(r.status, 0, `state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const sh = (cmd: string) => ['sh', '-c', cmd];

async function waitForAsync(pred: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await new Promise((r) => setTimeout(r, 10));
  return pred();
}

let nfile = 0;
/** For detached commands: their program inherits our stdio, so give it files (a pipe would keep spawnSync waiting). */
function rtDetached(args: string[]) {
  const [o, e] = ['out', 'err'].map((k) => join(sb.tmp, `${k}-${nfile}`));
  nfile++;
  const [ofd, efd] = [openSync(o!, 'w'), openSync(e!, 'w')];
  try {
    const r = sb.rt(args, { stdio: ['ignore', ofd, efd] });
    return { status: r.status, stdout: readFileSync(o!, 'utf8'), stderr: readFileSync(e!, 'utf8') };
  } finally {
    closeSync(ofd);
    closeSync(efd);
  }
}

/** A running container whose init sleeps; returns its id and init pid. */
function sleeper(edit: (c: any) => void = () => {}, prefix = 'ex'): { id: string; pid: number; dir: string } {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '1000']; edit(c); }, uniqueId(prefix));
  const r = rtDetached(['run', '-d', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  return { id: b.id, pid: state(b.id).pid, dir: b.dir };
}

const nsOf = (pid: number | string) => Object.fromEntries(NS.map((n) => [n, readlinkSync(`/proc/${pid}/ns/${n}`)]));
const cgroupOf = (pid: number | string) => readFileSync(`/proc/${pid}/cgroup`, 'utf8');
const statusField = (pid: number | string, f: string) => new RegExp(`^${f}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

test('the exec\'d process joins every namespace and the cgroup of the init, and sees the container\'s root', () => {
  const c = sleeper();
  // seen from the inside: the same namespace links as the init (pid 1 there), and the rootfs
  const r = sb.rt(['exec', c.id, ...sh('for n in cgroup ipc mnt net pid time user uts; do echo "$n $(readlink /proc/self/ns/$n) $(readlink /proc/1/ns/$n)"; done; echo; cat /proc/self/cgroup; echo; cat /proc/1/cgroup; echo; ls /')]);
  assert.is(r.status, 0, r.stderr);
  const [nsText, mine, init, ls] = r.stdout.split('\n\n');
  for (const line of nsText!.trim().split('\n')) {
    const [n, a, b] = line.split(' ');
    assert.is(a, b, `${n}: ${line}`);
  }
  assert.equal(nsText!.trim().split('\n').map((l) => l.split(' ')[2]), NS.map((n) => nsOf(c.pid)[n]), 'the init\'s namespaces, seen from the host');
  assert.is(mine, init, 'same cgroups as the init');
  assert.equal(ls!.trim().split('\n').sort(), readdirSync(join(TEST_BUNDLE, 'rootfs')).sort(), '/ is the container\'s rootfs');

  // seen from the host: a detached exec has the init's namespaces and cgroups, nothing of ours
  const pidFile = join(sb.tmp, `${c.id}.exec.pid`);
  const d = rtDetached(['exec', '-d', '--pid-file', pidFile, c.id, 'sleep', '30']);
  assert.is(d.status, 0, d.stderr);
  assert.is(d.stdout, '', 'nothing printed on success');
  const text = readFileSync(pidFile, 'utf8');
  assert.match(text, /^[0-9]+$/, 'pidfile: digits, no newline');
  const pid = Number(text);
  assert.ok(waitFor(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u000030\u0000'), 'the program runs under that pid');
  assert.equal(nsOf(pid), nsOf(c.pid));
  assert.is(cgroupOf(pid), cgroupOf(c.pid));
  assert.not.equal(nsOf(pid).mnt, nsOf('self').mnt);
  const procs = readFileSync(join('/sys/fs/cgroup/pids', CGROUP_PARENT, c.id, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number).sort();
  assert.equal(procs, [c.pid, pid].sort((a, b) => a - b), 'only the init and the exec\'d process in the container\'s cgroup');
  assert.is(statusField(pid, 'NoNewPrivs'), '1', 'the container\'s noNewPrivileges is inherited');
  assert.is(statusField(pid, 'CapInh'), '0000000000000000');
  assert.is(statusField(pid, 'CapEff'), statusField(c.pid, 'CapEff'), 'the container\'s capabilities');
});

test('user, groups, env, cwd and --cap; --cap never adds inheritable', () => {
  const c = sleeper();
  const r = sb.rt(['exec', '-u', '1000:1001', '-g', '5', '-g', '7', '--cwd', '/tmp', '-e', 'FOO=bar', '-e', 'TERM=dumb', '--cap', 'CAP_NET_ADMIN', '--cap', 'sys_ptrace',
    c.id, ...sh('id -u; id -g; id -G; pwd; echo "$FOO $TERM $HOME $PATH"; grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status')]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.slice(0, 5), ['1000', '1001', '1001 5 7', '/tmp', 'bar dumb / /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const caps = Object.fromEntries(lines.slice(5).map((l) => l.split(/:\s*/)));
  assert.is(caps.CapInh, '0000000000000000');
  assert.is(caps.CapAmb, '0000000000000000');
  // bounding = the container's (AUDIT_WRITE, KILL, NET_BIND_SERVICE) + NET_ADMIN + SYS_PTRACE; a non-root user keeps none
  assert.is(BigInt('0x' + caps.CapBnd), (1n << 29n) | (1n << 5n) | (1n << 10n) | (1n << 12n) | (1n << 19n));
  assert.is(caps.CapEff, '0000000000000000');
  const root = sb.rt(['exec', '--cap', 'CAP_NET_ADMIN', c.id, 'grep', '-E', '^Cap(Inh|Eff)', '/proc/self/status']);
  assert.match(root.stdout, /CapInh:\s+0000000000000000/);
  assert.ok((BigInt('0x' + /CapEff:\s+(\w+)/.exec(root.stdout)![1]) & (1n << 12n)) !== 0n, 'root gets CAP_NET_ADMIN effective');
});

test('exit codes: the program\'s status, 128+N for a signal, 255 with runc\'s words when exec fails', () => {
  const c = sleeper();
  const out = sb.rt(['exec', c.id, ...sh('echo out; echo err >&2; exit 3')]);
  assert.equal([out.status, out.stdout, out.stderr], [3, 'out\n', 'err\n']);
  assert.is(sb.rt(['exec', c.id, ...sh('kill -9 $$')]).status, 137);
  assert.is(sb.rt(['exec', c.id, 'true']).status, 0);
  const cases: [string[], string][] = [
    [['nonexistent'], 'exec failed: unable to start container process: exec: "nonexistent": executable file not found in $PATH'],
    [['/nonexistent'], 'exec failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory'],
    [['/etc'], 'exec failed: unable to start container process: exec: "/etc": permission denied'],
    [[], 'exec failed: process args cannot be empty'],
  ];
  for (const [args, msg] of cases) {
    const r = sb.rt(['exec', c.id, ...args]);
    assert.is(r.status, 255, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(JSON.stringify(msg).slice(1, -1)), `${args.join(' ')}: ${r.stderr}`);
  }
  for (const [flags, msg] of [[['--cwd', '/no/such/dir'], 'chdir to cwd ("/no/such/dir") set in config.json failed: no such file or directory'],
    [['-u', 'x'], 'parsing x as int for uid failed'], [['-u', '0:x'], 'parsing x as int for gid failed'],
    [['--pidfd-socket', '/tmp/x'], 'not supported'], [['--apparmor', 'p'], 'apparmor failed to apply profile: write /proc/thread-self/attr/'],
    [['--process-label', 'l'], 'write /proc/thread-self/attr/exec: invalid argument'],
    [['-d', '-t'], 'cannot allocate tty if runc will detach without setting console socket'],
    [['--console-socket', '/tmp/x'], 'cannot use console socket if runc will not detach or allocate tty'],
    [['--cgroup', '../x'], 'is not a sub cgroup path'], [['--cgroup', 'nope:x'], 'unknown controller nope']] as const) {
    const r = sb.rt(['exec', ...flags, c.id, 'true']);
    assert.is(r.status, 255, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(JSON.stringify(msg).slice(1, -1)), `${flags.join(' ')}: ${r.stderr}`);
  }
  assert.is(sb.rt(['exec']).status, 1, 'a usage error is not an exec failure');
  const missing = sb.rt(['exec', 'no-such-container', 'true']);
  assert.is(missing.status, 255);
  assert.ok(missing.stderr.includes('container does not exist'), missing.stderr);
  // paused, then stopped
  assert.is(sb.rt(['pause', c.id]).status, 0);
  const p = sb.rt(['exec', c.id, 'true']);
  assert.is(p.status, 255);
  assert.ok(p.stderr.includes('cannot exec in a paused container (use --ignore-paused to override)'), p.stderr);
  // --ignore-paused: the process waits frozen in the cgroup until resume
  const child = spawn(RUNTIME, ['--root', sb.root, 'exec', '--ignore-paused', c.id, 'echo', 'after-resume'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let got = '';
  child.stdout.on('data', (d) => { got += d; });
  const code = new Promise<number | null>((res) => child.on('exit', (x) => res(x)));
  spawnSync('sleep', ['0.5']);
  assert.is(got, '', 'nothing ran while paused');
  assert.is(sb.rt(['resume', c.id]).status, 0);
  return code.then((x) => {
    assert.is(x, 0);
    assert.is(got, 'after-resume\n');
    assert.is(sb.rt(['kill', c.id, 'KILL']).status, 0);
    assert.ok(waitFor(() => state(c.id).status === 'stopped'));
    const s = sb.rt(['exec', c.id, 'true']);
    assert.is(s.status, 255);
    assert.ok(s.stderr.includes('cannot exec in a stopped container'), s.stderr);
  });
});

test('--process: a full OCI Process, validated; the command-line flags are not used', () => {
  const c = sleeper();
  const file = join(sb.tmp, 'process.json');
  writeFileSync(file, JSON.stringify({
    args: ['sh', '-c', 'id -u; id -g; pwd; echo "$FOO"; grep -E "^(NoNewPrivs|CapBnd)" /proc/self/status'], cwd: '/etc', env: ['FOO=from-json', 'PATH=/bin'],
    user: { uid: 2, gid: 3 }, noNewPrivileges: false, capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  }));
  const r = sb.rt(['exec', '--process', file, '-e', 'FOO=ignored', c.id]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['2', '3', '/etc', 'from-json', 'CapBnd:\t0000000000000020', 'NoNewPrivs:\t0']);
  writeFileSync(file, JSON.stringify({ args: ['true'] }));
  const bad = sb.rt(['exec', '-p', file, c.id]);
  assert.is(bad.status, 255);
  assert.ok(bad.stderr.includes('Cwd property must not be empty'), bad.stderr);
  writeFileSync(file, '{"args": [');
  assert.ok(sb.rt(['exec', '-p', file, c.id]).stderr.includes('not valid JSON'));
});

test('fds: only stdio and --preserve-fds reach the process', () => {
  const c = sleeper();
  const extra = Array.from({ length: 5 }, () => openSync('/etc', 'r'));
  try {
    const lsFds = 'ls /proc/self/fd | sort -n | tr "\\n" " "';
    const r = spawnSync(RUNTIME, ['--root', sb.root, 'exec', c.id, ...sh(lsFds)], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', ...extra] });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '0 1 2 3 ', 'stdio and the fd `ls` opens itself');
    const p = spawnSync(RUNTIME, ['--root', sb.root, 'exec', '--preserve-fds', '2', c.id, ...sh(lsFds + '; readlink /proc/self/fd/3')], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', ...extra] });
    assert.is(p.status, 0, p.stderr);
    assert.ok(p.stdout.startsWith('0 1 2 3 4 5 '), p.stdout);
  } finally {
    extra.forEach((fd) => closeSync(fd));
  }
});

test('--cgroup: the process goes to an existing sub-cgroup', () => {
  const c = sleeper();
  const made: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, CGROUP_PARENT, c.id);
    if (!existsSync(d)) continue;
    mkdirSync(join(d, 'sub'));
    made.push(join(d, 'sub'));
    if (h === 'cpuset') for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, 'sub', f), readFileSync(join(d, f), 'utf8'));
  }
  try {
    const r = sb.rt(['exec', '--cgroup', 'sub', c.id, 'cat', '/proc/self/cgroup']);
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.trim().split('\n').every((l) => l.endsWith(':/sub')), r.stdout);
    const one = sb.rt(['exec', '--cgroup', 'pids:sub', c.id, 'cat', '/proc/self/cgroup']);
    assert.is(one.status, 0, one.stderr);
    const lines = one.stdout.trim().split('\n');
    assert.ok(lines.some((l) => /:pids:\/sub$/.test(l)) && lines.filter((l) => l.endsWith('/sub')).length === 1, one.stdout);
  } finally {
    sb.rt(['kill', c.id, 'KILL']);
    waitFor(() => state(c.id).status === 'stopped');
    for (const d of made) waitFor(() => { try { rmdirSync(d); return true; } catch { return false; } });
  }
});

test('terminal: exec -d -t sends one pty master over --console-socket; the pidfile is written', async () => {
  const c = sleeper();
  const sock = join(sb.tmp, 'exec-console.sock');
  const recv = spawn('python3', [join(PKG, 'src/testing/console-receiver.py'), sock, 'typed\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  recv.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise((res) => recv.on('exit', res));
  assert.ok(await waitForAsync(() => out.includes('listening')), 'receiver listening');
  const file = join(sb.tmp, 'tty-process.json');
  writeFileSync(file, JSON.stringify({ terminal: true, consoleSize: { height: 20, width: 70 }, cwd: '/', env: ['PATH=/bin'], args: ['sh', '-c', 'tty; stty size; read l; echo "got:$l"'] }));
  const pidFile = join(sb.tmp, 'tty.pid');
  const r = sb.rt(['exec', '-d', '-p', file, '--console-socket', sock, '--pid-file', pidFile, c.id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(readFileSync(pidFile, 'utf8'), /^[0-9]+$/);
  await exited;
  assert.ok(out.includes('messages=1 cmsgs=1 fds=1 payload=/dev/ptmx'), out);
  assert.ok(out.includes('winsize=20x70'), out);
  assert.ok(out.includes('/dev/pts/'), out);
  assert.ok(out.includes('20 70\n'), out);
  assert.ok(out.includes('got:typed'), out);
  // /dev/console belongs to the init: a terminal exec neither makes nor replaces it (this init has none)
  assert.is(sb.rt(['exec', c.id, 'test', '-e', '/dev/console']).status, 1);
});

test('terminal in the foreground: exec -t proxies our terminal and returns the status', () => {
  const c = sleeper();
  const r = spawnSync('script', ['-qec', `stty cols 91 rows 19; ${RUNTIME} --root ${sb.root} exec -t ${c.id} sh -c 'tty; stty size; exit 4'; echo "rc=$?"`, '/dev/null'],
    { encoding: 'utf8', timeout: 30_000 });
  // `script` turns the EOF on its stdin into a NUL that we forward and the pty echoes as ^@: not ours to judge
  const out = r.stdout.replace(/\r/g, '').replace(/\^@/g, '');
  assert.ok(/\/dev\/pts\/\d+\n19 91\n/.test(out), out);
  assert.ok(out.includes('rc=4'), out);
});

test('a user-namespaced container: exec joins the user namespace first-class, ids map through it', () => {
  const c = sleeper((cfg) => {
    cfg.linux.namespaces.push({ type: 'user' });
    cfg.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    cfg.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  }, 'exu');
  const pidFile = join(sb.tmp, 'userns.pid');
  const r = rtDetached(['exec', '-d', '-u', '1000:1000', '--pid-file', pidFile, c.id, 'sleep', '30']);
  assert.is(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(nsOf(pid), nsOf(c.pid), 'every namespace, user included');
  assert.not.equal(nsOf(pid).user, nsOf('self').user);
  assert.match(statusField(pid, 'Uid')!, /^201000\s+201000\s+201000\s+201000$/, 'uid 1000 in the container is 201000 on the host');
  const id = sb.rt(['exec', c.id, ...sh('id -u; cat /proc/self/uid_map; ls /')]);
  assert.is(id.status, 0, id.stderr);
  assert.match(id.stdout, /^0\n\s+0\s+200000\s+65536\n/);
  const un = sb.rt(['exec', '-u', '70000', c.id, 'true']);
  assert.is(un.status, 255);
  assert.ok(un.stderr.includes('cannot setuid to unmapped uid 70000 in user namespace'), un.stderr);
});

test('500 execs leave nothing behind: no processes, zombies or fds in the container, nothing in its cgroup', async () => {
  const c = sleeper();
  const count = (pred: (stat: string) => boolean) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return pred(readFileSync(`/proc/${d}/stat`, 'utf8')); } catch { return false; }
  }).length;
  const ppidOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const children = () => count((s) => ppidOf(s) === c.pid);
  const zombies = () => count((s) => ppidOf(s) === c.pid && s.slice(s.lastIndexOf(')') + 2)[0] === 'Z');
  const initFds = () => readdirSync(`/proc/${c.pid}/fd`).length;
  const procsFile = join('/sys/fs/cgroup/pids', CGROUP_PARENT, c.id, 'cgroup.procs');
  const before = { children: children(), zombies: zombies(), fds: initFds(), tasks: readdirSync(`/proc/${c.pid}/task`).length };
  const N = Number(process.env.TSRUN_EXEC_COUNT ?? 500);
  const errors: string[] = [];
  const one = () => new Promise<void>((res) => {
    const p = spawn(RUNTIME, ['--root', sb.root, 'exec', c.id, 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (x, sig) => { if (x !== 0) errors.push(`status ${x ?? sig}: ${err}`); res(); });
  });
  for (let i = 0; i < N; i += 2) await Promise.all([one(), one()]);
  assert.equal(errors, [], 'every exec succeeded');
  assert.ok(waitFor(() => readFileSync(procsFile, 'utf8').trim() === String(c.pid), 3000), 'only the init is left in the cgroup');
  assert.equal({ children: children(), zombies: zombies(), fds: initFds(), tasks: readdirSync(`/proc/${c.pid}/task`).length }, before);
  assert.is(state(c.id).status, 'running');
});

test.run();
