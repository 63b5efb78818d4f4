/**
 * linux.seccomp in real containers (busybox test bundle): the filter is loaded (Seccomp: 2), actions behave as the
 * kernel defines them, Docker's and podman's default profiles run a shell, SCMP_ACT_NOTIFY hands the listener fd
 * to an agent that answers syscalls. Needs root. OCI_RUNTIME=runc runs the same tests against runc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, cgroupDirs, waitFor } from '../testing/harness.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../src');
const profile = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'spec/fixtures/seccomp', name), 'utf8'));
const AGENT = join(FIXTURES, 'security/fixtures/seccomp-agent.py');
const sh = (cmd: string) => ['sh', '-c', cmd];
/** A writable /tmp (the test rootfs is read-only), so an allowed mkdir succeeds. */
const tmpfs = (c: any) => c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });

function runWith(seccomp: object, cmd: string, edit: (c: any) => void = () => {}) {
  const b = sb.bundle((c) => {
    c.linux.seccomp = seccomp;
    c.process.args = sh(cmd);
    tmpfs(c);
    edit(c);
  });
  return { ...sb.rt(['run', '--bundle', b.dir, b.id]), id: b.id };
}

const denyMkdir = (extra: object = {}) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...extra }] });

/** The seccomp agent fixture listening on <tmp>/<name>.sock (reports to <name>.json) while fn runs. */
async function withAgent(name: string, fn: (sock: string, report: string) => void): Promise<void> {
  const sock = join(sb.tmp, `${name}.sock`);
  const report = join(sb.tmp, `${name}.json`);
  const agent: ChildProcess = spawn('python3', [AGENT, sock, '18', report], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    assert.ok(waitFor(() => existsSync(sock + '.ready')), 'agent listening');
    fn(sock, report);
  } finally {
    agent.kill('SIGKILL');
  }
}

test('the filter is loaded: Seccomp 2, one filter; a denied mkdir gets EPERM', () => {
  const r = runWith(denyMkdir(), 'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status; mkdir /tmp/x || echo denied; touch /tmp/f && echo touch-ok');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
  assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
  assert.match(r.stdout, /denied\ntouch-ok/);
});

test('errnoRet and defaultErrnoRet', () => {
  let r = runWith(denyMkdir({ errnoRet: 28 }), 'mkdir /tmp/x');
  assert.match(r.stderr, /No space left on device/);
  // Docker's profile without mkdir, default errno EACCES: a syscall the profile leaves out gets it
  const p = profile('docker-default.json');
  p.syscalls[0].names = p.syscalls[0].names.filter((n: string) => n !== 'mkdir' && n !== 'mkdirat');
  p.defaultErrnoRet = 13;
  r = runWith(p, 'mkdir /tmp/x; echo rc=$?');
  assert.match(r.stderr, /Permission denied/);
  assert.match(r.stdout, /rc=1/);
});

test('TRAP, KILL, KILL_THREAD, KILL_PROCESS: the caller dies of SIGSYS (128+31); LOG lets it through', () => {
  for (const action of ['SCMP_ACT_TRAP', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS']) {
    const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action }] }, 'mkdir /tmp/x; echo status=$?');
    assert.match(r.stdout, /status=159/, `${action}: ${r.stdout} ${r.stderr}`);
  }
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }] }, 'mkdir /tmp/x && ls -d /tmp/x');
  assert.is(r.stdout, '/tmp/x\n', r.stderr);
});

test('argument conditions: kill(pid, SIGTERM) denied, kill(pid, 0) allowed', () => {
  const r = runWith({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }] },
    'kill -0 $$ && echo zero-ok; kill -TERM $$ || echo term-denied');
  assert.is(r.stdout, 'zero-ok\nterm-denied\n', r.stderr);
});

test('flags LOG, SPEC_ALLOW and TSYNC are accepted by the kernel', () => {
  const r = runWith(denyMkdir(), 'grep -E "^Seccomp:" /proc/self/status', (c) => {
    c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'];
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Seccomp:\s+2/);
});

test('without no_new_privs (as root) the filter loads before the capabilities drop; as a user too', () => {
  let r = runWith(denyMkdir(), 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; mkdir /tmp/x', (c) => { c.process.noNewPrivileges = false; });
  assert.match(r.stdout, /NoNewPrivs:\s+0/);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stderr, /Operation not permitted/);
  r = runWith(denyMkdir(), 'id -u; mkdir /tmp/x', (c) => { c.process.user = { uid: 1000, gid: 1000 }; });
  assert.match(r.stdout, /^1000$/m);
  assert.match(r.stderr, /Operation not permitted/);
});

test("Docker's and podman's default profiles: a busybox shell works, namespaces and mounts are refused", () => {
  for (const name of ['docker-default.json', 'podman-default.json']) {
    const r = runWith(profile(name), 'echo hi | cat; ls / | grep -c . ; mkdir /tmp/d && echo mkdir-ok; unshare -m true 2>/dev/null || echo unshare-denied; grep "^Seccomp:" /proc/self/status');
    assert.is(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /^hi\n\d+\nmkdir-ok\nunshare-denied\nSeccomp:\s+2\n$/, `${name}: ${r.stdout}`);
  }
});

test('SCMP_ACT_NOTIFY: the agent gets runc\'s message and the listener fd, and answers mkdir', () => withAgent('agent', (sock, report) => {
  const r = runWith({
    defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'tsrun-test',
    flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  }, 'mkdir /tmp/x; echo rc=$?; ls /tmp');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /Invalid cross-device link/, 'the agent answered -EXDEV');
  assert.is(r.stdout, 'rc=1\n');
  assert.ok(waitFor(() => existsSync(report)), 'agent report');
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  assert.is(rep.fds, 1);
  assert.equal(rep.state.fds, ['seccompFd']);
  assert.is(rep.state.metadata, 'tsrun-test');
  assert.is(rep.state.state.id, r.id);
  assert.is(rep.state.state.status, 'creating');
  assert.ok(rep.state.pid > 1 && rep.state.state.pid === rep.state.pid, 'the init\'s host pid');
  assert.is(rep.nr, 83, 'mkdir (x86_64)');
}));

test('SCMP_ACT_NOTIFY with a startContainer hook: the hook still reads the container\'s state, not the agent\'s message', () => withAgent('agent-hook', (sock, report) => {
  const r = runWith({
    defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'tsrun-hook',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  }, 'cat /tmp/state.json', (c) => {
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /tmp/state.json'] }] };
  });
  assert.is(r.status, 0, r.stderr);
  const state = JSON.parse(r.stdout);
  assert.equal([state.id, state.status], [r.id, 'created']);
  assert.ok(!('fds' in state) && !('metadata' in state), 'not the seccomp agent\'s message');
  assert.ok(waitFor(() => existsSync(report)), 'the agent got its message too');
  assert.is(JSON.parse(readFileSync(report, 'utf8')).state.metadata, 'tsrun-hook');
}));

test('SCMP_ACT_NOTIFY and exec: each exec\'d process sends the agent a new listener fd with runc\'s message', async () => {
  const sock = join(sb.tmp, 'agent-exec.sock');
  const report = join(sb.tmp, 'agent-exec.json');
  const agent: ChildProcess = spawn('python3', [AGENT, sock, '18', report], { stdio: ['ignore', 'ignore', 'inherit'] });
  const readReport = (n: number, withNr = true) => {
    const file = n ? `${report}.${n}` : report;
    assert.ok(waitFor(() => existsSync(file) && (!withNr || 'nr' in JSON.parse(readFileSync(file, 'utf8')))), `agent report ${n}`);
    return JSON.parse(readFileSync(file, 'utf8'));
  };
  try {
    assert.ok(waitFor(() => existsSync(sock + '.ready')), 'agent listening');
    const b = sb.bundle((c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, listenerMetadata: 'tsrun-exec',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      c.process.args = ['sleep', '1000'];
      c.process.noNewPrivileges = false; // the first exec loads the filter before the caps drop; --no-new-privs last
      tmpfs(c);
    });
    let r = sb.rt(['run', '-d', '--bundle', b.dir, b.id]);
    assert.is(r.status, 0, r.stderr);
    const init = JSON.parse(sb.rt(['state', b.id]).stdout).pid;
    const first = readReport(0, false);
    assert.is(first.state.pid, init, 'connection 0: the init');
    assert.is(first.state.state.status, 'creating');

    const pids = new Set<number>([init]);
    const checkExec = (n: number) => {
      const rep = readReport(n);
      assert.is(rep.fds, 1, `exec ${n}: one fd`);
      assert.equal(rep.state.fds, ['seccompFd']);
      assert.is(rep.state.ociVersion.split('.')[0], '1');
      assert.is(rep.state.metadata, 'tsrun-exec');
      assert.is(rep.state.state.id, b.id);
      assert.is(rep.state.state.status, 'running', 'runc setnsProcess: status running');
      assert.is(rep.state.state.pid, init, 'the state\'s pid is the init\'s');
      assert.is(rep.pid, rep.state.pid, 'the message names the exec\'d process, which then made the notified call');
      assert.not.ok(pids.has(rep.pid), `exec ${n}: a new process`);
      pids.add(rep.pid);
      assert.is(rep.nr, 83, 'mkdir (x86_64)');
      return rep;
    };
    // foreground, the filter loaded while privileged (no no_new_privs): the exec'd mkdir gets the agent's -EXDEV
    r = sb.rt(['exec', b.id, 'mkdir', '/tmp/a']);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /Invalid cross-device link/, 'the agent answered -EXDEV');
    checkExec(1);
    // --no-new-privs: the filter loaded last, right before execve
    r = sb.rt(['exec', '--no-new-privs', b.id, 'sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp_filters):" /proc/self/status; exec mkdir /tmp/b']);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /Seccomp_filters:\s+1/, 'one filter: the container\'s, loaded once');
    assert.match(r.stderr, /Invalid cross-device link/);
    checkExec(2);
    // detached: the pid in the agent's message is the one --pid-file records
    const pidFile = join(sb.tmp, 'exec-notify.pid');
    r = sb.rt(['exec', '-d', '--pid-file', pidFile, b.id, 'mkdir', '/tmp/c']);
    assert.is(r.status, 0, r.stderr);
    assert.is(checkExec(3).state.pid, Number(readFileSync(pidFile, 'utf8')));
    // nothing else was notified: mkdir by the init's filter, on the first connection, never happened
    assert.not.ok('nr' in JSON.parse(readFileSync(report, 'utf8')), 'the init made no mkdir');
    assert.is(sb.rt(['exec', b.id, 'ls', '/tmp']).stdout, '', 'no directory was made');
    // the agent is gone: exec fails (runc: "failed to connect with seccomp agent …: connection refused"), the init stays
    const gone = new Promise((res) => agent.once('exit', res));
    agent.kill('SIGKILL');
    await gone;
    r = sb.rt(['exec', b.id, 'true']);
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /seccomp (agent|listener socket).*(ECONNREFUSED|connection refused)/);
    assert.is(JSON.parse(sb.rt(['state', b.id]).stdout).status, 'running');
  } finally {
    agent.kill('SIGKILL');
  }
});

test('failures leave nothing behind: no agent listening, an unknown architecture', () => {
  let b = sb.bundle((c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: join(sb.tmp, 'nobody.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
  });
  let r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /failed to connect with seccomp agent specified in the seccomp profile: dial unix .*: connect: (no such file or directory|connection refused)/);
  assert.not.ok(existsSync(join(sb.root, b.id)), 'no state dir');
  assert.equal(cgroupDirs(`tsrun-test/${b.id}`), [], 'no cgroup');
  b = sb.bundle((c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_MIPS'] }; });
  r = sb.rt(['create', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /SCMP_ARCH_MIPS/);
  assert.not.ok(readdirSync(sb.root).includes(b.id));
});

test.run();
