/**
 * The cache of compiled seccomp filters (src/linux/seccomp-cache.ts) in real containers: the second `run` and an
 * `exec` with Docker's default profile take the filter from `<root>/@cache/seccomp` without opening koffi or
 * libseccomp (strace), the filter from the cache is really in force, a corrupt entry is compiled again and
 * rewritten, and `list` never shows the cache. Needs root; tsrun only (the cache is tsrun's; OCI_RUNTIME is ignored
 * only in the sense that these tests skip for another runtime).
 */
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME, Sandbox } from '../testing/harness.js';

const TSRUN = !process.env.OCI_RUNTIME || /tsrun/.test(RUNTIME);
const test = (name: string, fn: () => unknown) => (TSRUN ? uvuTest(name, fn as never) : uvuTest.skip(name, fn as never));
const sb = new Sandbox();
uvuTest.after(() => sb.cleanup());

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../src');
const profile = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'spec/fixtures/seccomp', name), 'utf8'));
const cacheDir = () => join(sb.root, '@cache', 'seccomp');
const entries = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((n) => /^[0-9a-f]{64}$/.test(n)) : []);
const hasStrace = spawnSync('strace', ['-V']).status === 0;

/** A busybox bundle with `seccomp` and a writable /tmp. */
function bundleWith(seccomp: object, args: string[]) {
  return sb.bundle((c) => {
    c.linux.seccomp = seccomp;
    c.process.args = args;
    c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
  });
}

/** `tsrun --root <sandbox> …args` under `strace -f -e trace=openat`: its result and the files it opened. */
function traced(args: string[]) {
  const log = join(sb.tmp, `strace-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat', '-o', log, RUNTIME, '--root', sb.root, ...args], { encoding: 'utf8', timeout: 60_000 });
  const opened = readFileSync(log, 'utf8').split('\n').filter((l) => !/ENOENT/.test(l));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, opened };
}
const ffi = (opened: string[]) => opened.filter((l) => /koffi|libseccomp\.so/.test(l));

const SCRIPT = 'mkdir /tmp/d && echo mkdir-ok; unshare -m true 2>/dev/null || echo unshare-denied; grep -E "^Seccomp(_filters)?:" /proc/self/status';
const EXPECTED = /^mkdir-ok\nunshare-denied\nSeccomp:\s+2\nSeccomp_filters:\s+1\n$/;

test("Docker's default profile: the first run fills the cache, the second takes it without koffi or libseccomp", () => {
  const p = profile('docker-default.json');
  const a = bundleWith(p, ['sh', '-c', SCRIPT]);
  const first = sb.rt(['run', '--bundle', a.dir, a.id]);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stdout, EXPECTED);
  assert.is(entries().length, 1, 'one entry after the first run');
  const entry = join(cacheDir(), entries()[0]!);
  assert.is(statSync(entry).mode & 0o777, 0o600);
  assert.is(statSync(cacheDir()).mode & 0o777, 0o700);
  assert.is(readFileSync(entry).subarray(0, 8).toString('latin1'), 'TSRSECC\0');

  // another container, same profile
  const b = bundleWith(p, ['sh', '-c', SCRIPT]);
  if (!hasStrace) {
    const r = sb.rt(['--debug', 'run', '--bundle', b.dir, b.id]);
    assert.match(r.stderr, /compiled filter from the cache/);
    return;
  }
  const second = traced(['--debug', 'run', '--bundle', b.dir, b.id]);
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stdout, EXPECTED, 'the cached filter is in force');
  assert.match(second.stderr, /seccomp: compiled filter from the cache \(\d+ instructions\)/);
  assert.equal(ffi(second.opened), [], 'neither koffi nor libseccomp opened on a hit');
  assert.ok(second.opened.some((l) => l.includes(entry)), 'the entry was read');
  assert.is(entries().length, 1);
});

test('the filter from the cache is the profile: a syscall it leaves out gets its default errno', () => {
  // Docker's profile without mkdir: the default action (ERRNO, EPERM) — from the cache as much as compiled
  const p = profile('docker-default.json');
  p.syscalls[0].names = p.syscalls[0].names.filter((n: string) => n !== 'mkdir' && n !== 'mkdirat');
  const cmd = 'mkdir /tmp/x; echo rc=$?; touch /tmp/f && echo touch-ok';
  const before = entries().length;
  for (const round of ['compiled', 'cached']) {
    const b = bundleWith(p, ['sh', '-c', cmd]);
    const r = sb.rt(['--debug', 'run', '--bundle', b.dir, b.id]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, round === 'cached' ? /compiled filter from the cache/ : /compiled with libseccomp/);
    assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/, round);
    assert.match(r.stdout, /rc=1\ntouch-ok/, round);
  }
  assert.is(entries().length, before + 1, 'another profile, another entry');
});

test('exec into a container with the profile takes the filter from the cache', () => {
  const p = profile('podman-default.json');
  const b = bundleWith(p, ['sleep', '1000']);
  // detached: the container inherits our stdio, and a pipe would keep spawnSync waiting
  const r = sb.rt(['run', '-d', '--bundle', b.dir, b.id], { stdio: 'ignore' });
  assert.is(r.status, 0);
  try {
    const e = hasStrace ? traced(['--debug', 'exec', b.id, 'sh', '-c', SCRIPT]) : { ...sb.rt(['--debug', 'exec', b.id, 'sh', '-c', SCRIPT]), opened: [] };
    assert.is(e.status, 0, e.stderr);
    assert.match(e.stdout, EXPECTED);
    assert.match(e.stderr, /seccomp: compiled filter from the cache/);
    assert.equal(ffi(e.opened), [], 'exec opened neither koffi nor libseccomp');
  } finally {
    sb.rt(['delete', '--force', b.id]);
  }
});

test('a corrupt entry is compiled again and rewritten; the filter is in force either way', () => {
  for (const entry of entries()) writeFileSync(entry.startsWith('/') ? entry : join(cacheDir(), entry), 'TSRSECC\0 but nothing else');
  const b = bundleWith(profile('docker-default.json'), ['sh', '-c', SCRIPT]);
  const r = sb.rt(['--debug', 'run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, EXPECTED);
  assert.match(r.stderr, /seccomp cache: .*: truncated header; compiling again/);
  assert.match(r.stderr, /compiled with libseccomp/);
  const b2 = bundleWith(profile('docker-default.json'), ['sh', '-c', SCRIPT]);
  const r2 = sb.rt(['--debug', 'run', '--bundle', b2.dir, b2.id]);
  assert.match(r2.stderr, /compiled filter from the cache/, 'rewritten: the next run hits');
  assert.match(r2.stdout, EXPECTED);
});

test('list shows containers only, never the cache directory; explain writes nothing', () => {
  const b = bundleWith(profile('docker-default.json'), ['sleep', '1000']);
  assert.is(sb.rt(['create', '--bundle', b.dir, b.id], { stdio: 'ignore' }).status, 0);
  try {
    assert.ok(existsSync(join(sb.root, '@cache')));
    const l = sb.rt(['list', '-q']);
    assert.is(l.stdout, `${b.id}\n`, l.stderr);
    const j = JSON.parse(sb.rt(['list', '--format', 'json']).stdout) as { id: string }[];
    assert.equal(j.map((c) => c.id), [b.id]);
    assert.is(sb.rt(['list']).stderr, '', 'no warning about @cache');
  } finally {
    sb.rt(['delete', '--force', b.id]);
  }
  // explain of a new profile: looks, compiles, stores nothing
  const n = entries().length;
  const p = profile('docker-default.json');
  p.defaultErrnoRet = 38;
  const e = bundleWith(p, ['true']);
  const x = sb.rt(['explain', '--bundle', e.dir]);
  assert.is(x.status, 0, x.stderr);
  assert.match(x.stdout, /seccomp/i);
  assert.is(entries().length, n);
});

uvuTest.run();
