// The real executor (dist/libexec/tsrun-executor) driven by startExecutor, with small hand-written plans.
// Needs root (namespaces, capabilities, setuid). Build first: node hack/build-executor.mjs
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmdirSync,
  rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePlan } from '../plan/encode.js';
import { STEP_CODE, STEP_FLAG, type Step } from '../plan/steps.js';
import { startExecutor, type ExecutorOptions, type ExecutorRun } from './executor.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const exe = join(root, 'dist/libexec/tsrun-executor');
const isRoot = process.getuid?.() === 0;
const tmp = mkdtempSync(join(tmpdir(), 'tsrun-exec-'));

const CLONE_NEWUTS = 0x04000000n;
const CAP = { KILL: 5, NET_BIND_SERVICE: 10, AUDIT_WRITE: 29 };
const bits = (...caps: number[]) => caps.reduce((a, c) => a | (1n << BigInt(c)), 0n);
const sh = (script: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step =>
  ({ kind: 'exec', label: 'exec sh', path: '/bin/sh', argv: ['sh', '-c', script], envp: ['PATH=/usr/bin:/bin'], keepFds: 3n, ...extra });
const ready: Step = { kind: 'ready', label: 'ready' };

interface Ran { run: ExecutorRun; out: Promise<string>; err: Promise<string> }

function start(steps: Step[], o: Partial<ExecutorOptions> & { fds?: number; slots?: number } = {}): Ran {
  const table = o.table ?? [];
  const plan = o.plan ?? encodePlan({ fds: table, slots: o.slots ?? 0, steps });
  const run = startExecutor({
    executorPath: o.executorPath ?? exe, plan, stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'], table,
    onSync: o.onSync ?? (async () => undefined),
  });
  const collect = (s: NodeJS.ReadableStream | null) => new Promise<string>((res) => {
    if (!s) return res('');
    let t = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (t += c));
    s.on('end', () => res(t));
  });
  return { run, out: collect(run.child.stdout), err: collect(run.child.stderr) };
}

const status = (text: string, key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();

if (!isRoot) {
  test('executor root tests (skipped: not root)', () => {});
} else {
  test('build exists', () => assert.ok(existsSync(exe), `${exe} missing: node hack/build-executor.mjs`));

  test('uts namespace + hostname + exec: clean signals and fds', async () => {
    // A wrapper that leaves signals ignored (SIGPIPE, SIGRTMIN+2: libuv resets only 1-31) and leaks fd 9.
    const wrap = join(tmp, 'wrap.sh');
    writeFileSync(wrap, `#!/bin/bash\ntrap '' PIPE RTMIN+2\nexec 9</etc/hostname\nexec ${exe} "$@"\n`);
    chmodSync(wrap, 0o755);
    const { run, out } = start([
      { kind: 'unshare', label: 'uts', cloneFlags: CLONE_NEWUTS },
      { kind: 'hostname', label: 'hostname', name: 'tsrun-test' },
      ready,
      sh('hostname; ls /proc/self/fd | tr "\\n" " "; echo; grep -E "SigIgn|SigBlk|NoNewPrivs|Cap" /proc/self/status'),
    ], { executorPath: wrap });
    assert.equal(await run.done, { kind: 'ready' });
    assert.equal(await run.exit, { code: 0, signal: null });
    const text = await out;
    const lines = text.split('\n');
    assert.is(lines[0], 'tsrun-test');
    assert.is(lines[1], '0 1 2 3 ', 'only stdio (and ls\'s own directory fd)');
    assert.is(status(text, 'SigIgn'), '0000000000000000');
    assert.is(status(text, 'SigBlk'), '0000000000000000');
    assert.is(status(text, 'CapInh'), '0000000000000000');
    assert.is.not(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), 'tsrun-test', 'the host kept its name');
  });

  test('preserved fds up to keepFds reach the program, the rest do not', async () => {
    const a = openSync('/etc/hostname', 'r');
    const b = openSync('/etc/passwd', 'r');
    const { run, out } = start([ready, sh('ls /proc/self/fd | tr "\\n" " "', { keepFds: 4n })],
      { stdio: ['ignore', 'pipe', 'pipe', a, b], table: [a, b] });
    assert.equal(await run.done, { kind: 'ready' });
    assert.is(await out, '0 1 2 3 4 ', 'fd 3 kept, 4 (preserved but above keepFds), ctl and table closed; 4 is ls');
    closeSync(a);
    closeSync(b);
  });

  test('a failing step: index, kind, errno, op, path; OK_ENOENT skips', async () => {
    const { run } = start([{ kind: 'umask', label: 'umask', mask: 0o22n }, { kind: 'chdir', label: 'cwd', path: '/nonexistent-tsrun' }]);
    assert.equal(await run.done, { kind: 'failed', step: 1, stepKind: STEP_CODE.chdir, errno: 2, op: 'chdir', path: '/nonexistent-tsrun' });
    assert.equal(await run.exit, { code: 1, signal: null });
    const ok = start([{ kind: 'chdir', label: 'cwd', path: '/nonexistent-tsrun', flags: STEP_FLAG.OK_ENOENT }, ready, sh('true')]);
    assert.equal(await ok.run.done, { kind: 'ready' });
  });

  test('a bad plan is rejected and nothing runs', async () => {
    const marker = join(tmp, 'marker');
    const good = encodePlan({ fds: [], slots: 0, steps: [
      { kind: 'hook', label: 'touch', path: '/usr/bin/touch', argv: ['touch', marker], envp: [], timeout: 5n },
      { kind: 'umask', label: 'x', mask: 0n },
    ] });
    const bad = Buffer.from(good);
    bad.writeUInt16LE(49, bad.length - (8 + 6 + 8));  // the second step's kind
    const { run } = start([], { plan: bad });
    const d = await run.done;
    assert.is(d.kind, 'rejected');
    assert.equal(d.kind === 'rejected' && [d.step, d.reason], [1, 'unknown step kind']);
    await run.exit;
    assert.not.ok(existsSync(marker), 'the first step did not run');
    const hdr = start([], { plan: Buffer.from('TSRP\x09\x00') });
    assert.equal(await hdr.run.done, { kind: 'rejected', step: -1, offset: 0, reason: 'plan shorter than its header' });
  });

  test('fork mode 0: FORKED pid, the first process exits 0, the child goes on', async () => {
    const { run, out } = start([{ kind: 'fork', label: 'fork', mode: 0n }, ready, sh('echo $$')]);
    const pid = await run.forked;
    assert.ok(typeof pid === 'number' && pid > 0 && pid !== run.pid);
    assert.equal(await run.exit, { code: 0, signal: null });
    assert.equal(await run.done, { kind: 'ready' });
    assert.is((await out).trim(), String(pid));
  });

  test('fork mode 1 and 2: the child\'s status propagates (3, SIGKILL → 137)', async () => {
    for (const [mode, script, code] of [[1n, 'exit 3', 3], [1n, 'kill -9 $$', 137], [2n, 'exit 5', 5]] as const) {
      const { run } = start([{ kind: 'fork', label: 'fork', mode }, ready, sh(script)]);
      assert.ok((await run.forked) !== null);
      assert.equal(await run.done, { kind: 'ready' });
      assert.equal(await run.exit, { code, signal: null }, `mode ${mode}: ${script}`);
    }
  });

  test('fork mode 1 makes the waiting parent a subreaper; mode 2 does not', async () => {
    // An orphan made while the container's init still runs is re-parented to the nearest subreaper.
    for (const [mode, want] of [[1n, true], [2n, false]] as const) {
      const f = join(tmp, `orphan-${mode}`);
      const { run, out } = start([{ kind: 'fork', label: 'fork', mode }, ready,
        sh(`(sleep 1 & echo $! > ${f}); sleep 0.2; cut -d" " -f4 /proc/$(cat ${f})/stat`)]);
      assert.equal(await run.done, { kind: 'ready' });
      const ppid = Number((await out).trim());
      assert.is(ppid === run.pid, want, `mode ${mode}: the orphan's parent is ${ppid}, the executor ${run.pid}`);
      await run.exit;
    }
  });

  test('sync/resume round-trip; the RESUME payload is the hook\'s stdin', async () => {
    const file = join(tmp, 'state.json');
    const seen: Array<[number, number]> = [];
    const { run } = start([
      { kind: 'sync', label: 'hooks', token: 2n },
      { kind: 'hook', label: 'hook', path: '/bin/sh', argv: ['sh', '-c', `cat > ${file}`], envp: [], timeout: 5n },
      ready,
    ], { onSync: async (step, token) => { seen.push([step, token]); return Buffer.from('{"id":"x"}'); } });
    assert.equal(await run.done, { kind: 'ready' });
    assert.equal(seen, [[0, 2]]);
    assert.is(readFileSync(file, 'utf8'), '{"id":"x"}');
  });

  test('hook failures: exit status, timeout, missing program', async () => {
    const hook = (path: string, script: string, timeout = 5n): Step =>
      ({ kind: 'hook', label: 'hook', path, argv: ['sh', '-c', script], envp: [], timeout });
    const r1 = await start([hook('/bin/sh', 'exit 3')]).run.done;
    assert.equal(r1, { kind: 'failed', step: 0, stepKind: STEP_CODE.hook, errno: 5, op: 'hook', path: '/bin/sh: exit status 3' });
    const t = Date.now();
    const r2 = await start([hook('/bin/sh', 'sleep 10', 1n)]).run.done;
    assert.equal(r2.kind === 'failed' && [r2.errno, r2.path], [110, '/bin/sh: timed out after 1 s']);
    assert.ok(Date.now() - t < 5000);
    const r3 = await start([hook('/nonexistent/hook', 'x')]).run.done;
    assert.equal(r3.kind === 'failed' && [r3.errno, r3.op, r3.path], [2, 'hook', '/nonexistent/hook']);
  });

  test('onSync throwing aborts: the executor exits quietly', async () => {
    const { run } = start([{ kind: 'sync', label: 'idmap', token: 1n }, sh('echo never')],
      { onSync: async () => { throw new Error('no maps'); } });
    const d = await run.done;
    assert.is(d.kind, 'aborted');
    assert.equal(await run.exit, { code: 1, signal: null });
  });

  test('a waiting executor runs from a sealed memfd; setns joins its namespace; VmRSS', async () => {
    const dir = join(tmp, 'state');
    mkdirSync(dir);
    const dirfd = openSync(dir, 'r');
    const { run, out } = start([
      { kind: 'unshare', label: 'uts', cloneFlags: CLONE_NEWUTS },
      { kind: 'hostname', label: 'hostname', name: 'waiting' },
      { kind: 'mkfifo', label: 'exec.fifo', dir: 0, name: 'exec.fifo', mode: 0o622n, uid: 0n, gid: 0n, slot: 1n },
      ready,
      { kind: 'waitStart', label: 'wait', fifo: 1 },
      sh('echo started'),
    ], { table: [dirfd], slots: 1 });
    assert.equal(await run.done, { kind: 'ready' });
    closeSync(dirfd);
    await new Promise((r) => setTimeout(r, 100));
    const pid = run.pid;
    assert.match(readlinkSync(`/proc/${pid}/exe`), /^\/memfd:tsrun-executor \(deleted\)$/);
    assert.throws(() => openSync(`/proc/${pid}/exe`, 'r+'), /ETXTBSY|EPERM|EACCES/);
    const seals = spawnSync('python3', ['-c', `import fcntl,os; print(fcntl.fcntl(os.open("/proc/${pid}/exe", os.O_RDONLY), 1034))`], { encoding: 'utf8' });
    if (seals.status === 0) assert.is(Number(seals.stdout) & 0xf, 0xf, 'SEAL, SHRINK, GROW, WRITE');
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.is(status(st, 'State')?.[0], 'S');
    const rss = Number(/(\d+)/.exec(status(st, 'VmRSS') ?? '')?.[1]);
    console.log(`    waiting executor: VmRSS ${rss} kB (RssAnon ${status(st, 'RssAnon')}, RssFile ${status(st, 'RssFile')}, RssShmem ${status(st, 'RssShmem')})`);
    assert.ok(rss > 0 && rss <= 1024, `VmRSS ${rss} kB above the 1 MB target`);

    // Join its UTS namespace from a second executor.
    const nsfd = openSync(`/proc/${pid}/ns/uts`, 'r');
    const joiner = start([{ kind: 'setns', label: 'uts', ns: 0, nstype: CLONE_NEWUTS }, ready, sh('hostname')], { table: [nsfd] });
    assert.equal(await joiner.run.done, { kind: 'ready' });
    assert.is((await joiner.out).trim(), 'waiting');
    closeSync(nsfd);

    const fifo = await open(join(dir, 'exec.fifo'), 'r');  // `tsrun start`
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fifo.read(buf, 0, 8, null);
    await fifo.close();
    assert.is(buf.toString('utf8', 0, bytesRead), '0');
    assert.equal(await run.exit, { code: 0, signal: null });
    assert.is((await out).trim(), 'started');
  });

  test('umask, rlimit, user, caps, no_new_privs, seccomp in /proc/self/status', async () => {
    const keep = bits(CAP.KILL, CAP.NET_BIND_SERVICE, CAP.AUDIT_WRITE);
    const allow = Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);  // BPF_RET|BPF_K SECCOMP_RET_ALLOW
    const { run, out } = start([
      { kind: 'umask', label: 'umask', mask: 0o027n },
      { kind: 'rlimit', label: 'nofile', resource: 7n, soft: 1000n, hard: 1001n },
      { kind: 'noNewPrivs', label: 'nnp' },
      { kind: 'capsBounding', label: 'bounding', keep },
      { kind: 'user', label: 'user', uid: 1000n, gid: 1001n, groups: [1001n, 10n] },
      { kind: 'caps', label: 'caps', effective: keep, permitted: keep, inheritable: bits(CAP.NET_BIND_SERVICE), ambient: bits(CAP.NET_BIND_SERVICE) },
      { kind: 'seccomp', label: 'seccomp', filterFlags: 0n, program: allow },
      ready,
      sh('cat /proc/self/status; grep "open files" /proc/self/limits'),
    ]);
    assert.equal(await run.done, { kind: 'ready' });
    const text = await out;
    assert.is(status(text, 'Umask'), '0027');
    assert.match(status(text, 'Uid') ?? '', /^1000\s+1000\s+1000\s+1000$/);
    assert.match(status(text, 'Gid') ?? '', /^1001\s+1001\s+1001\s+1001$/);
    assert.is(status(text, 'Groups'), '10 1001');
    assert.is(status(text, 'NoNewPrivs'), '1');
    assert.is(status(text, 'Seccomp'), '2');
    const hex = (v: bigint) => v.toString(16).padStart(16, '0');
    assert.is(status(text, 'CapBnd'), hex(keep));
    assert.is(status(text, 'CapAmb'), hex(bits(CAP.NET_BIND_SERVICE)));
    assert.is(status(text, 'CapInh'), hex(bits(CAP.NET_BIND_SERVICE)));
    assert.is(status(text, 'CapEff'), hex(bits(CAP.NET_BIND_SERVICE)), 'after execve as uid 1000: ambient only');
    assert.match(text, /Max open files\s+1000\s+1001/);
  });

  test('time ns offsets, sysctl, domainname, oom, personality, scheduler, ioprio, affinity, fixStdio', async () => {
    const CLONE_NEWTIME = 0x80n;
    const { run, out } = start([
      { kind: 'unshare', label: 'ns', cloneFlags: CLONE_NEWTIME | CLONE_NEWUTS },
      { kind: 'timeOffsets', label: 'offsets', text: 'boottime 86400 0' },
      { kind: 'fork', label: 'fork', mode: 1n },
      { kind: 'domainname', label: 'domainname', name: 'first.example' },
      { kind: 'sysctl', label: 'sysctl', path: '/proc/sys/kernel/domainname', value: 'second.example' },
      { kind: 'oomScoreAdj', label: 'oom', value: '500' },
      { kind: 'personality', label: 'personality', persona: 0x0040000n },
      { kind: 'scheduler', label: 'sched', policy: 0n, schedFlags: 0n, nice: 5n, priority: 0n, runtime: 0n, deadline: 0n, period: 0n },
      { kind: 'ioPriority', label: 'ioprio', ioClass: 2n, level: 4n },
      { kind: 'cpuAffinity', label: 'cpus', mask: new Uint8Array([1]) },
      { kind: 'fixStdio', label: 'stdio', uid: 1000n, gid: 1000n },
      ready,
      sh('cut -d. -f1 /proc/uptime; domainname; cat /proc/self/oom_score_adj /proc/self/personality; ' +
        'cut -d" " -f19 /proc/self/stat; grep Cpus_allowed_list /proc/self/status; stat -L -c %u:%g /proc/self/fd/1 /proc/self/fd/0; ' +
        '(command -v ionice >/dev/null && ionice -p $$) || echo no-ionice'),
    ]);
    assert.equal(await run.done, { kind: 'ready' });
    const [uptime, domain, oom, persona, nice, cpus, out1, in0, ioprio] = (await out).trim().split('\n');
    assert.ok(Number(uptime) >= 86400, `uptime ${uptime} in the new time namespace`);
    assert.is(domain, 'second.example');
    assert.is(oom, '500');
    assert.is(persona, '00040000');
    assert.is(nice, '5');
    assert.match(cpus ?? '', /Cpus_allowed_list:\s+0$/);
    assert.is(out1, '1000:1000', 'the stdout pipe was handed to the user');
    assert.is(in0, '0:0', '/dev/null is never chowned');
    assert.ok(ioprio === 'best-effort: prio 4' || ioprio === 'no-ionice', `ioprio: ${ioprio}`);
    assert.equal(await run.exit, { code: 0, signal: null });
  });

  test('pdeathsig after fork: killing the waiting parent kills the container', async () => {
    const { run } = start([{ kind: 'fork', label: 'fork', mode: 1n }, { kind: 'pdeathsig', label: 'pdeathsig', signal: 9n }, ready, sh('sleep 30')],
      { stdio: ['ignore', 'ignore', 'ignore'] });
    const pid = (await run.forked)!;
    assert.equal(await run.done, { kind: 'ready' });
    process.kill(run.pid, 'SIGKILL');
    await run.exit;
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      await new Promise((r) => setTimeout(r, 20));
      gone = !existsSync(`/proc/${pid}/stat`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
    }
    assert.ok(gone, `container pid ${pid} still alive`);
  });

  test('resolve: found in the search path, ENOENT, EACCES', async () => {
    const found = start([{ kind: 'resolve', label: 'resolve', name: 'sh', searchPath: ['/nonexistent', '/bin'] }, ready,
      { kind: 'exec', label: 'exec', path: '', argv: ['sh', '-c', 'echo resolved'], envp: [], keepFds: 3n }]);
    assert.equal(await found.run.done, { kind: 'ready' });
    assert.is((await found.out).trim(), 'resolved');
    const missing = await start([{ kind: 'resolve', label: 'r', name: 'tsrun-no-such-program', searchPath: ['/bin', '/usr/bin'] }]).run.done;
    assert.equal(missing, { kind: 'failed', step: 0, stepKind: STEP_CODE.resolve, errno: 2, op: 'resolve', path: 'tsrun-no-such-program' });
    const noexec = await start([{ kind: 'resolve', label: 'r', name: '/etc/passwd', searchPath: [] }]).run.done;
    assert.equal(noexec.kind === 'failed' && [noexec.errno, noexec.path], [13, '/etc/passwd']);
    const dir = await start([{ kind: 'resolve', label: 'r', name: '/etc', searchPath: [] }]).run.done;
    assert.equal(dir.kind === 'failed' && dir.errno, 13);
  });

  test('exec failing after READY: one log line, exit 127 / 126', async () => {
    for (const [path, code, json] of [['/nonexistent/prog', 127, true], ['/etc/passwd', 126, false]] as const) {
      const log = join(tmp, `log-${code}`);
      const fd = openSync(log, 'a');
      const { run } = start([{ kind: 'logTo', label: 'log', fd: 0, format: json ? 1n : 0n }, ready,
        { kind: 'exec', label: `exec ${path}`, path, argv: ['x'], envp: [], keepFds: 3n }], { table: [fd] });
      closeSync(fd);
      assert.equal(await run.done, { kind: 'ready' });
      assert.equal(await run.exit, { code, signal: null });
      const line = readFileSync(log, 'utf8');
      assert.is(line.split('\n').length, 2, 'exactly one line');
      const what = code === 127 ? 'no such file or directory' : 'permission denied';
      if (json) {
        const j = JSON.parse(line) as { level: string; msg: string; time: string };
        assert.is(j.level, 'error');
        assert.is(j.msg, `step 3/3 (exec ${path}): exec ${path}: ${what}`);
        assert.match(j.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      } else {
        assert.match(line, new RegExp(`^time="[^"]+" level=error msg="step 3/3 \\(exec ${path}\\): exec ${path}: ${what}"\\n$`));
      }
    }
  });

  test('cgroupJoin writes to cgroup.procs of a cgroup we created', async () => {
    const cg = `/sys/fs/cgroup/pids/tsrun-executor-test-${process.pid}`;
    if (!existsSync('/sys/fs/cgroup/pids')) return;
    mkdirSync(cg);
    try {
      const fd = openSync(join(cg, 'cgroup.procs'), 'w');
      const { run, out } = start([{ kind: 'cgroupJoin', label: 'cgroup', procs: 0 }, ready, sh('grep pids: /proc/self/cgroup')], { table: [fd] });
      closeSync(fd);
      assert.equal(await run.done, { kind: 'ready' });
      assert.match((await out).trim(), new RegExp(`^\\d+:pids:/tsrun-executor-test-${process.pid}$`));
      await run.exit;
    } finally {
      rmdirSync(cg);
    }
  });

  test('argv is parsed strictly; a non-socket ctl is refused', () => {
    for (const argv of [['03', '0'], ['3'], ['3', '-1'], ['3', '65'], ['2', '0'], ['3x', '0'], ['', '0']]) {
      const r = spawnSync(exe, argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8', env: {} });
      assert.is(r.status, 2, `argv ${JSON.stringify(argv)}`);
    }
    const r = spawnSync(exe, ['3', '0'], { stdio: ['ignore', 'ignore', 'pipe', 'ignore'], env: {} });
    assert.is(r.status, 2);
  });

  test('EOF on the control stream before the plan: exits quietly', async () => {
    const run = startExecutor({ executorPath: exe, plan: Buffer.alloc(0), stdio: ['ignore', 'ignore', 'pipe'], table: [], onSync: async () => undefined });
    run.child.stdio[3]?.destroy();
    const d = await run.done;
    assert.ok(d.kind === 'exited' || d.kind === 'rejected', d.kind);
    assert.ok((await run.exit).code !== 0);
  });

  test('spawn failure is a value, not a throw', async () => {
    const run = startExecutor({ executorPath: '/nonexistent/tsrun-executor', plan: Buffer.alloc(0), stdio: ['ignore', 'ignore', 'ignore'], table: [], onSync: async () => undefined });
    const d = await run.done;
    assert.is(d.kind, 'aborted');
    assert.is(await run.forked, null);
  });
}

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
