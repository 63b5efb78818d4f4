/**
 * CVE regression suite (security.md §4): one test per class, each building the hostile input (a copy of the test
 * rootfs, modified — never test-bundle itself) and asserting that the host is untouched. Needs root.
 * OCI_RUNTIME=<path to another build's bin/tsrun, or runc> runs the same attacks against that runtime: that is
 * how each test is shown to fail on a deliberately weakened executor (see the report in each test's comment).
 */
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PKG, RUNTIME, Sandbox, TEST_BUNDLE, sleepMs, waitFor } from '../testing/harness.js';

const sb = new Sandbox();
uvuTest.after(() => sb.cleanup());
/** CVE_ONLY=2019-5736 runs only the tests whose name contains it (how the weakened builds were checked one by one). */
const ONLY = process.env.CVE_ONLY;
const test = (name: string, fn: () => unknown) => (!ONLY || name.includes(ONLY) ? uvuTest(name, fn as never) : uvuTest.skip(name, fn as never));

/** The file a container process could try to overwrite: our executor, or the runtime binary itself (runc). */
const EXECUTOR = basename(RUNTIME) === 'tsrun' ? join(resolve(dirname(RUNTIME), '..'), 'dist/libexec/tsrun-executor') : RUNTIME;
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const sh = (cmd: string) => ['sh', '-c', cmd];
const uniq = `tsrun-cve-${process.pid}`;

/** A private copy of the busybox rootfs, changed by `edit` (paths relative to the copy). */
function hostileRootfs(name: string, edit: (root: string) => void = () => {}): string {
  const dir = join(sb.tmp, `rootfs-${name}`);
  const r = spawnSync('cp', ['-a', join(TEST_BUNDLE, 'rootfs'), dir]);
  assert.is(r.status, 0, String(r.stderr));
  edit(dir);
  return dir;
}

function bundleOn(rootfs: string, edit: (c: any) => void) {
  return sb.bundle((c) => {
    c.root = { path: rootfs, readonly: false };
    edit(c);
  });
}

function containerPid(id: string): number {
  return JSON.parse(sb.rt(['state', id]).stdout).pid;
}

/** The pid of a host process in the innermost pid namespace it belongs to (NSpid's last field). */
function nsPid(hostPid: number): number {
  const line = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))![1]!;
  return Number(line.trim().split(/\s+/).pop());
}

const out = (dir: string, f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').trim() : '');

/**
 * An "attacker" container A that runs `script` with /out bound to a host directory, and a victim container B
 * created (not started) in A's pid namespace: B's waiting init — our executor, before its final execve — is then
 * a process A can see, exactly the situation of `runc exec` / `runc init` entering a hostile container.
 */
function attackerAndVictim(name: string, script: string, caps: string[]) {
  const outDir = join(sb.tmp, `out-${name}`);
  mkdirSync(outDir);
  const all = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', ...caps];
  const a = bundleOn(hostileRootfs(name), (c) => {
    c.process.args = sh(script);
    c.process.capabilities = { bounding: all, effective: all, permitted: all };
    c.mounts.push({ destination: '/out', type: 'bind', source: outDir, options: ['rbind'] });
  });
  const logA = openSync(join(outDir, 'a.log'), 'w');
  let r = sb.rt(['create', '--bundle', a.dir, a.id], { stdio: ['ignore', logA, logA] });
  closeSync(logA);
  assert.is(r.status, 0, `create A: ${r.stderr}`);

  assert.is(sb.rt(['start', a.id]).status, 0);
  const aPid = containerPid(a.id);
  const three = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const b = sb.bundle((c) => {
    c.process.args = ['sleep', '30'];
    c.process.capabilities = { bounding: three, effective: three, permitted: three };
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${aPid}/ns/pid` } : n));
  });
  // B's init keeps its stdio until it exits: a file, never a pipe the harness would wait on
  const logB = openSync(join(outDir, 'b.log'), 'w');
  r = sb.rt(['create', '--bundle', b.dir, b.id], { stdio: ['ignore', logB, logB] });
  closeSync(logB);
  assert.is(r.status, 0, `create B: ${out(outDir, 'b.log')}`);
  return { a, b, outDir, bPid: containerPid(b.id) };
}

// ── CVE-2019-5736: overwriting the runtime binary through /proc/<pid>/exe ──────────────────────────────────────
// The executor re-execs itself from a sealed memfd (seal.c). Weakened build (seal_self() returning 0 without
// sealing): /proc/<pid>/exe is the host file; the direct write fails with ETXTBSY while it runs, but the fd A keeps
// is reopened for writing after B's execve and the host executor changes → this test fails on `result` and the hash.
test('CVE-2019-5736: a container process cannot write the executor entering its pid namespace', () => {
  const before = sha256(EXECUTOR);
  const script = `
    while :; do
      for d in /proc/[0-9]*; do
        l=$(readlink $d/exe 2>/dev/null) || continue
        case "$l" in *tsrun-executor*|*runc*) ;; *) continue ;; esac
        echo "$l" > /out/exe
        if (echo PWNED >> $d/exe) 2>/out/direct.err; then echo WROTE > /out/direct; else echo FAILED > /out/direct; fi
        exec 3< $d/exe || { echo OPENFAIL > /out/held; exit 1; }
        echo \${d#/proc/} > /out/held
        break 2
      done
      sleep 0.02
    done
    while [ ! -e /out/go ]; do sleep 0.02; done
    if (echo PWNED >> /proc/self/fd/3) 2>/out/reopen.err; then echo WROTE > /out/result; else echo FAILED > /out/result; fi
    sleep 30`;
  // CAP_SYS_PTRACE: the strongest attacker, past the non-dumpable defence (tested on its own below)
  const { b, outDir } = attackerAndVictim('5736', script, ['CAP_SYS_PTRACE']);
  assert.ok(waitFor(() => out(outDir, 'held') !== '', 10000), `the attacker reached the waiting executor: ${out(outDir, 'a.log')}`);
  assert.is(out(outDir, 'direct'), 'FAILED', 'direct write through /proc/<pid>/exe');
  assert.is(sb.rt(['start', b.id]).status, 0); // B's init execs: the executor image is no longer running
  writeFileSync(join(outDir, 'go'), '');
  assert.ok(waitFor(() => out(outDir, 'result') !== '', 10000), 'attacker finished');
  assert.is(out(outDir, 'result'), 'FAILED', `write through the fd kept open after exec: ${out(outDir, 'reopen.err')}`);
  if (basename(RUNTIME) === 'tsrun') assert.match(out(outDir, 'exe'), /^\/memfd:tsrun-executor/, 'runs from a memfd');
  assert.is(sha256(EXECUTOR), before, 'the host executor is unchanged');
});

// The exec variant: `tsrun exec` sends an executor into a running container's pid namespace. To catch it there
// deterministically, the exec joins a frozen sub-cgroup (--cgroup freezer:sub): it freezes right after its
// cgroupJoin, inside the container's pid namespace and before its execve, while the attacker (pid 1 of the
// container, CAP_SYS_PTRACE) opens /proc/<pid>/exe and tries to write through it, then again after the exec.
test('CVE-2019-5736 (exec): a container process cannot write the executor that tsrun exec sends in', async () => {
  const before = sha256(EXECUTOR);
  const outDir = join(sb.tmp, 'out-5736-exec');
  mkdirSync(outDir);
  const all = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_PTRACE'];
  const script = `
    while :; do
      for d in /proc/[0-9]*; do
        [ "\${d#/proc/}" = 1 ] && continue
        l=$(readlink $d/exe 2>/dev/null) || continue
        case "$l" in *tsrun-executor*) ;; *) continue ;; esac
        echo "$l" > /out/exe
        if (echo PWNED >> $d/exe) 2>/out/direct.err; then echo WROTE > /out/direct; else echo FAILED > /out/direct; fi
        exec 3< $d/exe || { echo OPENFAIL > /out/held; exit 1; }
        echo \${d#/proc/} > /out/held
        break 2
      done
    done
    while [ ! -e /out/go ]; do sleep 0.02; done
    if (echo PWNED >> /proc/self/fd/3) 2>/out/reopen.err; then echo WROTE > /out/result; else echo FAILED > /out/result; fi
    sleep 30`;
  const a = bundleOn(hostileRootfs('5736-exec'), (c) => {
    c.process.args = sh(script);
    c.process.capabilities = { bounding: all, effective: all, permitted: all };
    c.mounts.push({ destination: '/out', type: 'bind', source: outDir, options: ['rbind'] });
  });
  const logA = openSync(join(outDir, 'a.log'), 'w');
  const r = sb.rt(['run', '-d', '--bundle', a.dir, a.id], { stdio: ['ignore', logA, logA] });
  closeSync(logA);
  assert.is(r.status, 0, `run A: ${out(outDir, 'a.log')}`);
  const freezer = join('/sys/fs/cgroup/freezer', a.config.linux.cgroupsPath, 'frozen-sub');
  mkdirSync(freezer);
  try {
    writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
    const ex = spawn(RUNTIME, ['--root', sb.root, 'exec', '--cgroup', 'freezer:frozen-sub', a.id, 'true'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => ex.on('exit', (c) => res(c)));
    assert.ok(waitFor(() => out(outDir, 'held') !== '', 15000), `the attacker reached the exec's executor: ${out(outDir, 'a.log')}`);
    assert.match(out(outDir, 'exe'), /^\/memfd:tsrun-executor/, 'the exec executor runs from a sealed memfd');
    assert.is(out(outDir, 'direct'), 'FAILED', 'direct write through /proc/<pid>/exe');
    writeFileSync(join(freezer, 'freezer.state'), 'THAWED');
    assert.is(await exited, 0, 'the exec completes once thawed');
    writeFileSync(join(outDir, 'go'), '');
    assert.ok(waitFor(() => out(outDir, 'result') !== '', 10000), 'attacker finished');
    assert.is(out(outDir, 'result'), 'FAILED', `write through the fd kept open after exec: ${out(outDir, 'reopen.err')}`);
    assert.is(sha256(EXECUTOR), before, 'the host executor is unchanged');
  } finally {
    try { writeFileSync(join(freezer, 'freezer.state'), 'THAWED'); } catch { /* gone */ }
    sb.rt(['delete', '--force', a.id]);
    try { rmdirSync(freezer); } catch { /* removed with the container */ }
  }
});

// ── CVE-2016-9962: ptrace / /proc access to the executor while it holds host resources ─────────────────────────
// The executor is non-dumpable from its prologue until its final execve (main.c PR_SET_DUMPABLE 0): the magic
// links of /proc/<pid> (exe, cwd, root, fd/N — what an attacker uses to reach host files) and environ/mem need
// ptrace access then, which a container root without CAP_SYS_PTRACE lacks. (Listing /proc/<pid>/fd is not
// guarded: for uid 0 it only needs owner access.) Weakened build (that prctl removed): A resolves
// /proc/<B's init>/cwd and fd/N while B waits, and the "Permission denied" assertions fail.
test('CVE-2016-9962: the waiting executor is non-dumpable: its exe, cwd and fd links are out of reach until execve', () => {
  const script = `
    while [ ! -e /out/target ]; do sleep 0.02; done
    t=$(cat /out/target)
    ls -l /proc/$t/exe > /out/exe1 2>&1; ls -l /proc/$t/cwd > /out/cwd1 2>&1
    ls -l /proc/$t/fd/ > /out/fd1 2>&1
    cat /proc/$t/environ > /dev/null 2> /out/env1; echo done > /out/phase1
    while [ ! -e /out/go ]; do sleep 0.02; done
    readlink /proc/$t/exe > /out/exe2 2>&1; echo done > /out/phase2
    sleep 30`;
  const { b, outDir, bPid } = attackerAndVictim('9962', script, []);
  writeFileSync(join(outDir, 'target'), String(nsPid(bPid)));
  assert.ok(waitFor(() => out(outDir, 'phase1') === 'done', 10000), `phase 1: ${out(outDir, 'a.log')}`);
  assert.match(out(outDir, 'exe1'), /Permission denied/, `exe of the waiting executor: ${out(outDir, 'exe1')}`);
  assert.match(out(outDir, 'cwd1'), /Permission denied/, `cwd: ${out(outDir, 'cwd1')}`);
  assert.not.match(out(outDir, 'fd1'), /-> \//, `no fd link resolves: ${out(outDir, 'fd1')}`);
  assert.match(out(outDir, 'fd1'), /Permission denied/);
  assert.match(out(outDir, 'env1'), /Permission denied/, 'environ');
  assert.is(sb.rt(['start', b.id]).status, 0);
  sleepMs(200);
  writeFileSync(join(outDir, 'go'), '');
  assert.ok(waitFor(() => out(outDir, 'phase2') === 'done', 10000));
  // positive control: after execve the same process is an ordinary (dumpable) one and A can see it
  assert.is(out(outDir, 'exe2'), '/bin/busybox', `exe after execve: ${out(outDir, 'exe2')}`);
});

// ── CVE-2024-21626: leaked fds and process.cwd = /proc/self/fd/N ────────────────────────────────────────────────
// Defences: CLOEXEC on everything the executor did not ask for, the plan's own fds closed before execve, and the
// chdir step resolving inside the root without magic links plus the getcwd check. Weakened build (chdir step as
// plain chdir(2) without the getcwd check): cwd /proc/self/fd/<state dir or leaked host dir> lands on the host and
// `ls` shows host files (exec.fifo, etc/passwd …) → the assertion on the output fails.
test('CVE-2024-21626: caller-leaked fds never reach the container; cwd /proc/self/fd/N never escapes (N = 3…20)', () => {
  const leaked: number[] = [];
  for (const p of ['/', '/etc', sb.tmp, '/root', '/tmp']) for (let i = 0; i < 4; i++) leaked.push(openSync(p, 'r'));
  const stdio = (o: number) => ['ignore', o, o, ...leaked] as any;
  try {
    const b = sb.bundle((c) => { c.process.args = sh('ls /proc/self/fd | sort -n | tr "\\n" " "'); });
    const r = sb.rt(['run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'pipe', ...leaked] as any });
    assert.is(r.stdout.trim(), '0 1 2 3', `only stdio and ls's own directory fd: ${r.stderr}`);
    for (let n = 3; n <= 20; n++) {
      // create mode: the plan's fd table then holds the state directory, a host directory
      const bb = sb.bundle((c) => { c.process.cwd = `/proc/self/fd/${n}`; c.process.args = sh('pwd; ls'); });
      const logPath = join(sb.tmp, `cwd-${n}.log`);
      const log = openSync(logPath, 'w');
      const c = sb.rt(['create', '--bundle', bb.dir, bb.id], { stdio: stdio(log) });
      closeSync(log);
      if (c.status !== 0) continue; // refused: fine
      assert.is(sb.rt(['start', bb.id]).status, 0);
      assert.ok(waitFor(() => JSON.parse(sb.rt(['state', bb.id]).stdout).status === 'stopped'), 'container ran');
      const text = readFileSync(logPath, 'utf8');
      assert.not.match(text, /unreachable|exec\.fifo|passwd|state\.json/, `cwd /proc/self/fd/${n} escaped: ${text}`);
      assert.match(text, /^\//, `cwd inside the root: ${text}`);
      sb.rt(['delete', '--force', bb.id]);
    }
  } finally {
    leaked.forEach((fd) => closeSync(fd));
  }
});

// ── CVE-2019-16884, CVE-2019-19921, CVE-2025-52881: a fake /proc redirecting procfs and LSM label writes ────────
// ── CVE-2023-27561, CVE-2023-28642: symlinked /proc and /sys ───────────────────────────────────────────────────
// Defences: the rootfsBind step refuses a rootfs whose /proc or /sys is not a real directory; `proc`/`sysfs` mounts
// carry TARGET_MUST_BE_DIR; checkProcMount-style plan checks refuse mounts over /proc/self/attr and non-proc
// sources on /proc. Weakened build (the rootfs check removed and TARGET_MUST_BE_DIR ignored): the proc mount follows
// /proc → /fakeproc, create succeeds and procfs shows up in the image's /fakeproc → both assertions fail.
test('CVE-2019-16884/19921, 2023-27561/28642, 2025-52881: /proc or /sys as a symlink, fake procfs mounts: refused', () => {
  const fake = hostileRootfs('proc-link', (r) => {
    rmSync(join(r, 'proc'), { recursive: true });
    mkdirSync(join(r, 'fakeproc'));
    symlinkSync('/fakeproc', join(r, 'proc'));
  });
  let b = bundleOn(fake, (c) => { c.process.args = ['true']; });
  let r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0, '/proc → /fakeproc refused');
  assert.equal(readdirSync(join(fake, 'fakeproc')), [], 'nothing mounted or created in its place');
  for (const target of ['/', '/etc']) {
    const sys = hostileRootfs(`sys-link${target.replace(/\//g, '-')}`, (root) => {
      rmSync(join(root, 'sys'), { recursive: true });
      symlinkSync(target, join(root, 'sys'));
    });
    b = bundleOn(sys, (c) => { c.process.args = ['true']; });
    r = sb.rt(['run', '--bundle', b.dir, b.id]);
    assert.is.not(r.status, 0, `/sys → ${target} refused`);
  }
  // label writes go through /proc/self/attr: nothing may be mounted over it, nor a non-procfs on /proc
  for (const m of [
    { destination: '/proc/self/attr', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/proc/thread-self/attr', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/proc', type: 'bind', source: sb.tmp, options: ['rbind'] },
  ]) {
    b = sb.bundle((c) => { c.mounts.push(m); c.process.args = ['true']; });
    r = sb.rt(['run', '--bundle', b.dir, b.id]);
    assert.is.not(r.status, 0, `mount on ${m.destination} (${m.type}) refused`);
  }
  // no LSM on this host: a config asking for a label fails as runc fails (never silently run unconfined):
  // AppArmor with the kernel's error for the write through the verified procfs, SELinux by runc's validator
  for (const [key, re] of [['apparmorProfile', /apparmor failed to apply profile: write \/proc\/thread-self\/attr\/(apparmor\/)?exec: invalid argument/],
    ['selinuxLabel', /selinux label is specified in config, but selinux is disabled or not supported/]] as const) {
    b = sb.bundle((c) => { c.process[key] = key === 'apparmorProfile' ? 'docker-default' : 'system_u:system_r:container_t:s0'; c.process.args = ['true']; });
    r = sb.rt(['run', '--bundle', b.dir, b.id]);
    assert.is.not(r.status, 0, `${key} refused`);
    assert.match(r.stderr, re);
  }
});

// ── CVE-2021-30465, CVE-2024-45310: symlinked / raced mount targets ─────────────────────────────────────────────
// Defence: every target is resolved with openat2(RESOLVE_IN_ROOT) and created component by component in the
// root (path.c). Weakened build (open_in_root without RESOLVE_IN_ROOT): the absolute target /mnt/<name> is resolved
// from the host's /, and mkdir_all creates /mnt/tsrun-cve-<pid> on the host → the host-path assertion fails.
// Every name is unique to this run, so each host path checked (and removed at the end) is ours.
test('CVE-2021-30465, CVE-2024-45310: symlinked and raced mount targets create nothing on the host', () => {
  const src = join(sb.tmp, 'bind-src');
  mkdirSync(src);
  writeFileSync(join(src, 'f'), 'from the host\n');
  const hostDeep = `/tmp/${uniq}-deep`;
  const hostRace = `/tmp/${uniq}-race`;
  const hostPaths = [`/${uniq}`, `/mnt/${uniq}`, hostDeep, `/${uniq}-a`, hostRace, `/${uniq}-target`];
  const untouched = (when: string) => {
    for (const p of hostPaths) assert.not.ok(existsSync(p), `${when}: ${p} appeared on the host`);
  };
  const root = hostileRootfs('links', (r) => {
    symlinkSync('/', join(r, 'mnt'));                                          // absolute: escapes if followed on the host
    symlinkSync(`../../../../../../../..${hostDeep}`, join(r, `${uniq}-a`));   // relative with more .. than depth
  });
  try {
    let b = bundleOn(root, (c) => {
      c.mounts.push({ destination: `/mnt/${uniq}`, type: 'bind', source: src, options: ['bind'] });
      c.process.args = sh(`cat /${uniq}/f`);
    });
    let r = sb.rt(['run', '--bundle', b.dir, b.id]);
    untouched('bind to /mnt/<name> with /mnt → /');
    if (r.status === 0) {
      assert.is(r.stdout, 'from the host\n', 'the bind landed inside the rootfs');
      assert.ok(existsSync(join(root, uniq)), 'its mount point was made inside the rootfs');
    }
    b = bundleOn(root, (c) => {
      c.mounts.push({ destination: `/${uniq}-a/b/c`, type: 'tmpfs', source: 'tmpfs' });
      c.process.args = ['true'];
    });
    sb.rt(['run', '--bundle', b.dir, b.id]);
    untouched('tmpfs on a path through a ../../.. symlink');

    // the race: a host process swaps /<name>-target between a directory and a symlink to a host path while
    // containers with a bind mount to /<name>-target/sub are created
    const raceRoot = hostileRootfs('race');
    const swapper: ChildProcess = spawn('python3', ['-c', `
import os, time
t = os.path.join(${JSON.stringify(raceRoot)}, ${JSON.stringify(`${uniq}-target`)})
end = time.time() + 60
while time.time() < end:
    try:
        os.mkdir(t)
        os.rmdir(t)
    except OSError:
        pass
    try:
        os.symlink(${JSON.stringify(hostRace)}, t)
        os.unlink(t)
    except OSError:
        pass
`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 25; i++) {
        const rb = bundleOn(raceRoot, (c) => {
          c.mounts.push({ destination: `/${uniq}-target/sub`, type: 'bind', source: src, options: ['bind'] });
          c.process.args = ['true'];
        });
        sb.rt(['run', '--bundle', rb.dir, rb.id]);
        untouched(`race iteration ${i}`);
      }
    } finally {
      swapper.kill('SIGKILL');
    }
  } finally {
    for (const p of hostPaths) rmSync(p, { recursive: true, force: true });
  }
});

// ── CVE-2022-29162: inheritable capabilities ────────────────────────────────────────────────────────────────────
// Defence: capSets() leaves every absent set empty, `tsrun spec` writes no inheritable set. Weakened build
// (capSets defaulting inheritable to the bounding set): CapInh is non-zero → the first assertion fails.
test('CVE-2022-29162: inheritable capabilities are empty by default, and `spec` generates none', () => {
  const b = sb.bundle((c) => { c.process.args = sh('grep -E "^Cap(Inh|Amb):" /proc/self/status'); c.process.user = { uid: 1000, gid: 1000 }; });
  delete b.config.process.capabilities.inheritable;
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.stdout, 'CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n', r.stderr);
  const dir = join(sb.tmp, 'spec-out');
  mkdirSync(dir);
  const s = sb.rt(['spec', '--bundle', dir]);
  assert.is(s.status, 0, s.stderr);
  const caps = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).process.capabilities;
  assert.is(caps.inheritable, undefined, 'spec: no inheritable set');
  assert.is(caps.ambient, undefined, 'spec: no ambient set');
});

// ── CVE-2025-31133: /dev/null swapped for a procfs symlink before masking ──────────────────────────────────────
// Defence: the mask step binds only a /dev/null verified (on the opened fd) to be char 1:3. Weakened build (that
// check removed): /proc/kcore … get a bind of /proc/sys/kernel/core_pattern, `cat` of a masked path prints the
// host's core pattern instead of nothing → the "masked paths read empty" assertion fails.
test('CVE-2025-31133: a /dev/null that is a procfs symlink or a regular file never becomes the mask', () => {
  const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const cases: [string, (dev: string) => void][] = [
    ['symlink to core_pattern', (dev) => symlinkSync('/proc/sys/kernel/core_pattern', join(dev, 'null'))],
    ['regular file', (dev) => writeFileSync(join(dev, 'null'), 'not a device\n')],
  ];
  for (const [what, plant] of cases) {
    // /dev bound from the image (no tmpfs): the image's own /dev/null is what masking would use
    const dev = join(sb.tmp, `dev-${what.replace(/\W+/g, '-')}`);
    for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(join(dev, d), { recursive: true });
    plant(dev);
    const b = sb.bundle((c) => {
      c.mounts = c.mounts.map((m: any) => (m.destination === '/dev' ? { destination: '/dev', type: 'bind', source: dev, options: ['rbind'] } : m));
      c.process.args = sh('cat /proc/kcore /proc/keys /proc/timer_list 2>/dev/null; echo END');
    });
    const r = sb.rt(['run', '--bundle', b.dir, b.id]);
    if (r.status === 0) assert.is(r.stdout, 'END\n', `${what}: masked paths read empty`);
    else assert.match(r.stderr, /\/dev\/null/, `${what}: refused because of /dev/null: ${r.stderr}`);
    // and with the image's /dev (no /dev mount at all): the planted node is not trusted either
    const img = hostileRootfs(`devnull-${what.replace(/\W+/g, '-')}`, (root) => plant(join(root, 'dev')));
    const b2 = bundleOn(img, (c) => {
      c.mounts = c.mounts.filter((m: any) => m.destination !== '/dev');
      for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(join(img, 'dev', d), { recursive: true });
      c.process.args = sh('cat /proc/kcore /proc/keys /proc/timer_list 2>/dev/null; echo END');
    });
    const r2 = sb.rt(['run', '--bundle', b2.dir, b2.id]);
    if (r2.status === 0) assert.is(r2.stdout, 'END\n', `${what} in the image: masked paths read empty`);
  }
  assert.is(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), corePattern, 'the host core pattern is unchanged');
});

// ── CVE-2025-52565: /dev/console (and /dev/pts) symlinks with terminal: true ────────────────────────────────────
// Defence: the console step allocates from the container's verified /dev/pts/ptmx, takes the peer with
// TIOCGPTPEER and creates /dev/console with O_CREAT|O_EXCL|O_NOFOLLOW before binding the peer fd onto it. Weakened
// build (/dev/console opened with a plain O_CREAT openat): the planted link is followed, the pty is bound over the
// file it names (a char device appears at /etc/console-target inside) and a dangling link's target is created →
// both assertions fail.
test('CVE-2025-52565: a planted /dev/console symlink is never followed; the console works or create fails', async () => {
  for (const [what, target] of [['existing file', '/etc/console-target'], ['dangling', `/tmp/${uniq}-console`]] as const) {
    const root = hostileRootfs(`console-${what.replace(/\W+/g, '-')}`, (r) => {
      writeFileSync(join(r, 'etc/console-target'), 'original\n');
      for (const d of ['pts', 'shm', 'mqueue']) mkdirSync(join(r, 'dev', d), { recursive: true });
      symlinkSync(target, join(r, 'dev/console'));
    });
    const sock = join(sb.tmp, `console-${what.replace(/\W+/g, '-')}.sock`);
    const recv = spawn('python3', [join(PKG, 'src/testing/console-receiver.py'), sock], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    recv.stdout!.on('data', (d) => { text += d; });
    const exited = new Promise((res) => recv.on('exit', res));
    try {
      assert.ok(waitFor(() => existsSync(sock)), 'receiver listening');
      const b = bundleOn(root, (c) => {
        c.process.terminal = true;
        c.mounts = c.mounts.filter((m: any) => m.destination !== '/dev'); // the image's own /dev, planted link included
        c.process.args = sh('echo console-ok; [ -c /etc/console-target ] && echo HIJACKED; cat /etc/console-target');
      });
      const r = sb.rt(['create', '--bundle', b.dir, '--console-socket', sock, b.id]);
      if (r.status === 0) {
        assert.is(sb.rt(['start', b.id]).status, 0);
        await Promise.race([exited, new Promise((res) => setTimeout(res, 10000))]);
        assert.match(text, /OUTPUT:console-ok\noriginal/, `${what}: the console works: ${text}`);
        assert.not.match(text, /HIJACKED/, `${what}: the pty was bound over the link's target`);
      }
      assert.not.ok(existsSync(join(root, `tmp/${uniq}-console`)), `${what}: the dangling link's target was created`);
      assert.not.ok(existsSync(`/tmp/${uniq}-console`), `${what}: created on the host`);
      assert.is(readFileSync(join(root, 'etc/console-target'), 'utf8'), 'original\n');
    } finally {
      recv.kill('SIGKILL');
      rmSync(`/tmp/${uniq}-console`, { force: true, recursive: true });
    }
  }
});

uvuTest.run();
