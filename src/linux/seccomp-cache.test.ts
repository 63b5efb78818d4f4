// The cache of compiled seccomp filters (seccomp-cache.ts) with a fake compiler and temp dirs; one test uses the
// real compiler to check that an entry round-trips exactly what compileSeccomp returns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../spec/corpus.js';
import type { Seccomp } from '../spec/types.js';
import type { CompiledSeccomp } from './seccomp.js';
import { compileSeccomp } from './seccomp.js';
import {
  cacheKey, cachedCompileSeccomp, cachedCompileSeccompLazy, canonicalJson, CACHE_FORMAT, decodeEntry, encodeEntry, evict, hostIdentity,
  libseccompCandidates, type HostIdentity,
} from './seccomp-cache.js';

const HOST: HostIdentity = { arch: 'x64', kernel: '6.18 #1', lib: 'lib a', build: 'build a' };
const PROFILE: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] };
const RESULT: CompiledSeccomp = {
  program: Uint8Array.from({ length: 24 }, (_, i) => i), flags: 1n << 3n, notify: true, unknownSyscalls: ['newer_syscall'], warnings: ['w'],
};

const tmps: string[] = [];
test.after(() => { for (const t of tmps) rmSync(t, { recursive: true, force: true }); });
/** A state root like ensureRoot's (0700) and its cache dir path (not created). */
function root(): { root: string; dir: string } {
  const t = mkdtempSync(join(tmpdir(), 'tsrun-sccache-'));
  tmps.push(t);
  const r = join(t, 'state');
  mkdirSync(r, { mode: 0o700 });
  return { root: r, dir: join(r, '@cache', 'seccomp') };
}

function fake(result: CompiledSeccomp = RESULT) {
  const calls: Seccomp[] = [];
  return { calls, compile: (sc: Seccomp) => { calls.push(sc); return result; } };
}
const entries = (dir: string) => readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n));

test('miss compiles and stores; hit returns the same result without compiling', () => {
  const { dir } = root();
  const f = fake();
  const a = cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST });
  assert.is(a.hit, false);
  assert.is(f.calls.length, 1);
  assert.is(entries(dir).length, 1);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  assert.is(statSync(join(dir, entries(dir)[0]!)).mode & 0o777, 0o600);
  const b = cachedCompileSeccomp(structuredClone(PROFILE), f.compile, { dir, host: HOST });
  assert.is(b.hit, true);
  assert.is(f.calls.length, 1, 'not compiled again');
  assert.equal(b.compiled, RESULT);
  assert.ok(b.compiled.program instanceof Uint8Array);
});

test('the lazy variant (exec) loads the compiler only on a miss', async () => {
  const { dir } = root();
  const f = fake();
  let loads = 0;
  const load = async () => { loads++; return f.compile; };
  assert.is((await cachedCompileSeccompLazy(PROFILE, load, { dir, host: HOST })).hit, false);
  const b = await cachedCompileSeccompLazy(PROFILE, load, { dir, host: HOST });
  assert.is(b.hit, true);
  assert.is(loads, 1);
  assert.equal(b.compiled, RESULT);
});

test('the real compiler: an entry gives back exactly what compileSeccomp returned (Docker profile)', () => {
  const { dir } = root();
  const sc = JSON.parse(readFileSync(join(fixturesDir(), 'seccomp', 'docker-default.json'), 'utf8')) as Seccomp;
  const a = cachedCompileSeccomp(sc, compileSeccomp, { dir, host: HOST });
  const b = cachedCompileSeccomp(sc, () => { throw new Error('must not compile'); }, { dir, host: HOST });
  assert.is(a.hit, false);
  assert.is(b.hit, true);
  assert.equal(Buffer.from(b.compiled.program).toString('hex'), Buffer.from(a.compiled.program).toString('hex'));
  assert.equal({ ...b.compiled, program: 0 }, { ...a.compiled, program: 0 });
});

test('key: canonical (key order) and blind to listenerPath/listenerMetadata', () => {
  const reordered = JSON.parse(JSON.stringify({ syscalls: PROFILE.syscalls!.map((s) => ({ action: s.action, names: s.names })), architectures: PROFILE.architectures, defaultAction: PROFILE.defaultAction }));
  assert.ok(cacheKey(PROFILE, HOST).equals(cacheKey(reordered, HOST)));
  assert.ok(cacheKey(PROFILE, HOST).equals(cacheKey({ ...PROFILE, listenerPath: '/run/a.sock', listenerMetadata: 'x' }, HOST)));
  assert.is(canonicalJson({ b: 1, a: [2, { d: 3n, c: undefined }] }), '{"a":[2,{"d":{"$bigint":"3"}}],"b":1}');
});

test('key changes with every input: profile fields, arch, kernel, library, build', () => {
  const base = cacheKey(PROFILE, HOST).toString('hex');
  const variants: [string, Seccomp, HostIdentity][] = [
    ['defaultAction', { ...PROFILE, defaultAction: 'SCMP_ACT_KILL' }, HOST],
    ['defaultErrnoRet', { ...PROFILE, defaultErrnoRet: 13 }, HOST],
    ['flags', { ...PROFILE, flags: ['SECCOMP_FILTER_FLAG_LOG'] }, HOST],
    ['architectures', { ...PROFILE, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] }, HOST],
    ['syscall names', { ...PROFILE, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, HOST],
    ['syscall args', { ...PROFILE, syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] }, HOST],
    ['errnoRet', { ...PROFILE, syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }, HOST],
    ['arch', PROFILE, { ...HOST, arch: 'arm64' }],
    ['kernel', PROFILE, { ...HOST, kernel: '6.19 #1' }],
    ['libseccomp', PROFILE, { ...HOST, lib: 'lib b' }],
    ['build', PROFILE, { ...HOST, build: 'build b' }],
  ];
  const seen = new Set([base]);
  for (const [what, sc, host] of variants) {
    const k = cacheKey(sc, host).toString('hex');
    assert.not.ok(seen.has(k), `${what} must change the key`);
    seen.add(k);
  }
});

test('hostIdentity: library files by identity, a rebuilt tsrun (build-info rewritten) changes it', () => {
  const { root: r } = root();
  const info = join(r, 'build-info.json');
  writeFileSync(info, '{"commit":"abc"}\n');
  const a = hostIdentity(info);
  assert.match(a.lib, /ld\.so\.cache \d+:\d+:/);
  assert.ok(libseccompCandidates({ LD_LIBRARY_PATH: '/opt/x' }, 'x64').includes('/opt/x/libseccomp.so.2'));
  assert.ok(libseccompCandidates({}, 'x64').includes('/usr/lib/x86_64-linux-gnu/libseccomp.so.2'));
  assert.equal(hostIdentity(info), a, 'stable while nothing changes');
  // same content, written again (what hack/build.mjs does on every build): another identity
  utimesSync(info, new Date(Date.now() + 5000), new Date(Date.now() + 5000));
  assert.is.not(hostIdentity(info).build, a.build);
  assert.match(hostIdentity(join(r, 'missing.json')).build, /ENOENT/);
});

test('corrupt entries are refused, compiled again and overwritten', () => {
  const key = cacheKey(PROFILE, HOST);
  const good = encodeEntry(key, RESULT);
  assert.equal(decodeEntry(good, key), RESULT);
  const bad = (edit: (b: Buffer) => Buffer) => decodeEntry(edit(Buffer.from(good)), key);
  assert.is(bad((b) => b.subarray(0, 10)), 'truncated header');
  assert.is(bad((b) => { b[0] = 0x58; return b; }), 'bad magic');
  assert.match(bad((b) => { b.writeUInt32LE(CACHE_FORMAT + 1, 8); return b; }) as string, /^format/);
  assert.is(decodeEntry(good, cacheKey({ ...PROFILE, defaultErrnoRet: 1 }, HOST)), 'key mismatch');
  assert.match(bad((b) => b.subarray(0, b.length - 1)) as string, /body length/);
  assert.is(bad((b) => { b[b.length - 1]! ^= 1; return b; }), 'checksum mismatch');
  // a program that is not whole instructions, with a valid checksum (someone who can write the file can do this)
  assert.match(decodeEntry(encodeEntry(key, { ...RESULT, program: new Uint8Array(12) }), key) as string, /bad program length 12/);
  assert.match(decodeEntry(encodeEntry(key, { ...RESULT, program: new Uint8Array(0) }), key) as string, /bad program length 0/);
  assert.match(decodeEntry(encodeEntry(key, { ...RESULT, program: new Uint8Array(8 * 4097) }), key) as string, /bad program length/);

  // through the cache: garbage in the entry → compiled, entry rewritten and usable again
  const { dir } = root();
  const f = fake();
  cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST });
  const path = join(dir, entries(dir)[0]!);
  writeFileSync(path, 'garbage');
  const msgs: string[] = [];
  const r = cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST, log: { debug: (m) => msgs.push(m) } });
  assert.is(r.hit, false);
  assert.is(f.calls.length, 2);
  assert.match(msgs.join('\n'), /truncated header; compiling again/);
  assert.ok(readFileSync(path).equals(good), 'overwritten with a good entry');
  assert.is(cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST }).hit, true);
});

test('an entry or directory others could write is not trusted', () => {
  const { dir } = root();
  const f = fake();
  cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST });
  const path = join(dir, entries(dir)[0]!);
  chmodSync(path, 0o666);
  const msgs: string[] = [];
  assert.is(cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST, log: { debug: (m) => msgs.push(m) } }).hit, false);
  assert.match(msgs.join('\n'), /writable by group or others \(mode 666\)/);
  assert.is(statSync(path).mode & 0o777, 0o600, 'replaced by a fresh 0600 entry');
  chmodSync(dir, 0o777);
  msgs.length = 0;
  assert.is(cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST, log: { debug: (m) => msgs.push(m) } }).hit, false);
  assert.match(msgs.join('\n'), /seccomp writable by group or others/);
  assert.match(msgs.join('\n'), /store: not writing/);
  chmodSync(dir, 0o700);
});

test('write: false (explain) looks up but never creates anything', () => {
  const { dir } = root();
  const f = fake();
  assert.is(cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST, write: false }).hit, false);
  assert.not.ok(existsSync(join(dir, '..')), 'no @cache directory');
  cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST });
  assert.is(cachedCompileSeccomp(PROFILE, f.compile, { dir, host: HOST, write: false }).hit, true);
});

test('cache problems never fail the compile; compile errors propagate and are not cached', () => {
  const { root: r } = root();
  writeFileSync(join(r, '@cache'), 'a file where the directory should be');
  const f = fake();
  const res = cachedCompileSeccomp(PROFILE, f.compile, { dir: join(r, '@cache', 'seccomp'), host: HOST });
  assert.is(res.hit, false);
  assert.equal(res.compiled, RESULT);
  const { dir } = root();
  assert.throws(() => cachedCompileSeccomp(PROFILE, () => { throw new Error('bad profile'); }, { dir, host: HOST }), /bad profile/);
  assert.not.ok(existsSync(dir));
});

test('eviction keeps the most recently used entries; hits refresh the mtime; stale temp files go', () => {
  const { dir } = root();
  const f = fake();
  const profiles = Array.from({ length: 5 }, (_, i): Seccomp => ({ ...PROFILE, defaultErrnoRet: i + 1 }));
  const t0 = Date.now() / 1000 - 1000;
  profiles.forEach((p, i) => {
    cachedCompileSeccomp(p, f.compile, { dir, host: HOST, maxEntries: 3 });
    // spread the mtimes: entry i was written at t0 + i
    const name = cacheKey(p, HOST).toString('hex');
    if (existsSync(join(dir, name))) utimesSync(join(dir, name), t0 + i, t0 + i);
  });
  const has = (i: number) => existsSync(join(dir, cacheKey(profiles[i]!, HOST).toString('hex')));
  assert.is(entries(dir).length, 3);
  assert.equal([0, 1, 2, 3, 4].map(has), [false, false, true, true, true]);
  // a hit on the oldest (2) makes it the newest: the next write evicts 3
  assert.is(cachedCompileSeccomp(profiles[2]!, f.compile, { dir, host: HOST, maxEntries: 3 }).hit, true);
  cachedCompileSeccomp(profiles[0]!, f.compile, { dir, host: HOST, maxEntries: 3 });
  assert.equal([0, 1, 2, 3, 4].map(has), [true, false, true, false, true]);
  writeFileSync(join(dir, '.tmp.1.aaaa'), 'x');
  utimesSync(join(dir, '.tmp.1.aaaa'), t0, t0);
  writeFileSync(join(dir, '.tmp.2.bbbb'), 'x');
  assert.equal(evict(dir, 3), ['.tmp.1.aaaa']);
  assert.ok(existsSync(join(dir, '.tmp.2.bbbb')), 'a writer in progress keeps its temp file');
});

test('concurrent writers of one entry (separate processes) leave one valid entry and no temp files', async () => {
  const { dir } = root();
  const mod = fileURLToPath(new URL('./seccomp-cache.js', import.meta.url));
  const script = `
    const { cachedCompileSeccomp, cacheKey } = await import(${JSON.stringify(mod)});
    const program = Uint8Array.from({ length: 8 * 600 }, (_, i) => i & 255);
    const host = ${JSON.stringify(HOST)};
    const entry = ${JSON.stringify(dir)} + '/' + cacheKey(${JSON.stringify(PROFILE)}, host).toString('hex');
    // a reader must never see a partial entry: any message but a plain miss fails
    const log = { debug: (m) => { console.error(m); process.exit(1); } };
    for (let i = 0; i < 40; i++) {
      if (i % 2) require('node:fs').rmSync(entry, { force: true });
      const r = cachedCompileSeccomp(${JSON.stringify(PROFILE)}, () => ({ program, flags: 0n, notify: false, unknownSyscalls: [], warnings: [] }), { dir: ${JSON.stringify(dir)}, host, log });
      if (r.compiled.program.length !== program.length) { console.error('bad length'); process.exit(1); }
    }`;
  const runOne = () => new Promise<number>((resolve) => {
    const c = spawn(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })().catch((e) => { console.error(e); process.exit(2); })`], { stdio: ['ignore', 'inherit', 'inherit'] });
    c.on('exit', (code) => resolve(code ?? 99));
  });
  const codes = await Promise.all([runOne(), runOne(), runOne(), runOne()]);
  assert.equal(codes, [0, 0, 0, 0]);
  assert.equal(readdirSync(dir), [cacheKey(PROFILE, HOST).toString('hex')]);
  const got = decodeEntry(readFileSync(join(dir, entries(dir)[0]!)), cacheKey(PROFILE, HOST));
  assert.is(typeof got, 'object');
  assert.is((got as CompiledSeccomp).program.length, 8 * 600);
});

test.run();
