// linux.seccomp → BPF (libseccomp through koffi). The programs are checked two ways: byte for byte for tiny
// profiles (libseccomp 2.5's exact output, so a change of code generation is noticed), and by running them in a
// BPF interpreter (src/security/bpf.ts) for what matters — the action each syscall gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { compile } from '../plan/compile.js';
import type { CompileContext } from '../plan/context.js';
import defaultConfig from '../plan/fixtures/default.config.json' with { type: 'json' };
import { SYNC_TOKEN } from '../plan/steps.js';
import { fixturesDir } from '../spec/corpus.js';
import type { Seccomp, Spec } from '../spec/types.js';
import { action, AUDIT_ARCH, data, RET, runBpf, X32_BIT } from '../security/bpf.js';
import { libseccomp } from '../sys/libseccomp.js';
import { features } from '../plan/features.js';
import { compileSeccomp, enosysStub, FILTER_FLAG, seccompFeatures } from './seccomp.js';

const X86_64 = AUDIT_ARCH.X86_64;
const I386 = AUDIT_ARCH.I386;
/** x86_64 numbers. */
const NR = { getpid: 39, kill: 62, mkdir: 83, personality: 135, socket: 41, clone: 56, clone3: 435, kexec_load: 246, mkdirat: 258 };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const profile = (name: string): Seccomp => JSON.parse(readFileSync(join(fixturesDir(), 'seccomp', name), 'utf8')) as Seccomp;
const run = (sc: Seccomp, nr: number, args: (number | bigint)[] = [], arch: number = X86_64) => runBpf(compileSeccomp(sc).program, { nr, arch, args });

test('libseccomp loads through koffi (2.5 or later)', () => {
  const l = libseccomp();
  assert.ok(l.version.major > 2 || (l.version.major === 2 && l.version.minor >= 5), JSON.stringify(l.version));
  assert.is(l.archResolve('x86_64'), X86_64);
  assert.is(l.syscallResolve('mkdir'), NR.mkdir);
  assert.is(l.syscallResolve('no_such_syscall'), undefined);
  assert.ok(l.syscallResolve('chown32')! < 0, 'an x86-only syscall has a pseudo-number on x86_64');
});

test('exact BPF of tiny profiles (libseccomp 2.5 code generation)', () => {
  const l = libseccomp();
  if (l.version.major !== 2 || l.version.minor !== 5) return; // other versions lay the tree out differently
  const a = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.is(hex(a.program), [
    '2000000004000000', // ld [4]            arch
    '150000063e0000c0', // jeq x86_64, 0, 6  → kill (bad arch)
    '2000000000000000', // ld [0]            nr
    '3500000100000040', // jge 0x40000000    x32 syscall numbers on the x86_64 arch …
    '15000003ffffffff', //                   … are not x86_64 ones
    '1500010053000000', // jeq 83 (mkdir)
    '060000000000ff7f', // ret ALLOW
    '0600000001000500', // ret ERRNO(EPERM)
    '0600000000000000', // ret KILL
  ].join(''));
  assert.is(a.flags, 0n);
  assert.is(a.notify, false);
  // a restrictive default gets runc's -ENOSYS stub in front: ld arch; jeq x86_64; ja section; ja filter;
  // section: ld nr; jset x32 → filter; jgt 39 (getpid, the largest named) → ret ERRNO(ENOSYS); ja filter
  const b = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
  assert.is(hex(b.program).slice(0, 9 * 16), [
    '2000000004000000', '150000013e0000c0', '0500000001000000', '0500000005000000',
    '2000000000000000', '4500020000000040', '2500000127000000', '0600000026000500', '0500000000000000',
  ].join(''));
});

test('actions and errno values', () => {
  const one = (act: Seccomp['defaultAction'], errnoRet?: number) =>
    run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: act, ...(errnoRet === undefined ? {} : { errnoRet }) }] }, NR.mkdir);
  assert.is(one('SCMP_ACT_ERRNO'), RET.ERRNO | 1, 'ERRNO defaults to EPERM');
  assert.is(one('SCMP_ACT_ERRNO', 28), RET.ERRNO | 28);
  assert.is(one('SCMP_ACT_TRACE') >>> 0, (RET.TRACE | 1) >>> 0, 'TRACE carries EPERM too (runc)');
  assert.is(one('SCMP_ACT_TRACE', 5) >>> 0, (RET.TRACE | 5) >>> 0);
  assert.is(one('SCMP_ACT_TRAP'), RET.TRAP);
  assert.is(one('SCMP_ACT_KILL'), RET.KILL_THREAD);
  assert.is(one('SCMP_ACT_KILL_THREAD'), RET.KILL_THREAD);
  assert.is(one('SCMP_ACT_KILL_PROCESS') >>> 0, RET.KILL_PROCESS);
  assert.is(one('SCMP_ACT_LOG'), RET.LOG);
  assert.is(one('SCMP_ACT_NOTIFY'), RET.USER_NOTIF);
  // the default action and its errno; other syscalls get it
  const sc: Seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] };
  assert.is(run(sc, NR.mkdir), RET.ERRNO | 13);
  assert.is(run(sc, NR.getpid), RET.ALLOW);
  assert.is(run({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }, NR.getpid) >>> 0, RET.KILL_PROCESS);
  // a foreign architecture gets libseccomp's bad-arch action (kill)
  assert.is(runBpf(compileSeccomp(sc).program, { nr: NR.getpid, arch: AUDIT_ARCH.AARCH64 }), RET.KILL_THREAD);
});

test('argument conditions: all seven operators, 64-bit values, MASKED_EQ with valueTwo', () => {
  const rule = (op: string, value: number, valueTwo?: number): Seccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value, ...(valueTwo === undefined ? {} : { valueTwo }), op: op as never }] }],
  });
  const denied = (sc: Seccomp, v: number | bigint) => run(sc, NR.kill, [1, v]) === (RET.ERRNO | 1);
  const table: [string, number, [number | bigint, boolean][]][] = [
    ['SCMP_CMP_EQ', 15, [[15, true], [9, false]]],
    ['SCMP_CMP_NE', 15, [[15, false], [9, true]]],
    ['SCMP_CMP_LT', 10, [[9, true], [10, false], [11, false]]],
    ['SCMP_CMP_LE', 10, [[9, true], [10, true], [11, false]]],
    ['SCMP_CMP_GT', 10, [[9, false], [10, false], [11, true]]],
    ['SCMP_CMP_GE', 10, [[9, false], [10, true], [11, true]]],
  ];
  for (const [op, v, cases] of table) for (const [arg, want] of cases) assert.is(denied(rule(op, v), arg), want, `${op} ${v} with ${arg}`);
  // MASKED_EQ: (arg & value) == valueTwo
  const m = rule('SCMP_CMP_MASKED_EQ', 0xf0, 0x30);
  assert.ok(denied(m, 0x3f));
  assert.not.ok(denied(m, 0x4f));
  // all 64 bits are compared
  const big = rule('SCMP_CMP_EQ', 2 ** 40 + 5);
  assert.ok(denied(big, 2n ** 40n + 5n));
  assert.not.ok(denied(big, 5));
});

test('conditions on different arguments are ANDed; repeated indexes become one rule each (ORed, like runc)', () => {
  const and = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] }] }, NR.kill, [1, 15]);
  assert.is(and, RET.ALLOW);
  const or: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }] };
  assert.is(run(or, NR.kill, [1, 9]), RET.ERRNO | 1);
  assert.is(run(or, NR.kill, [1, 15]), RET.ERRNO | 1);
  assert.is(run(or, NR.kill, [1, 2]), RET.ALLOW);
});

test('unknown syscall names are skipped (runc), rules equal to the default are dropped', () => {
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid', 'no_such_call', 'mkdir'], action: 'SCMP_ACT_ALLOW' }, { names: ['kill'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(c.unknownSyscalls, ['no_such_call']);
  assert.is(runBpf(c.program, { nr: NR.mkdir, arch: X86_64 }), RET.ALLOW);
  assert.is(runBpf(c.program, { nr: NR.kill, arch: X86_64 }), RET.ERRNO | 1);
});

test('flags → seccomp(2) bits; NOTIFY adds NEW_LISTENER (and TSYNC_ESRCH with TSYNC)', () => {
  const base: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const f = (sc: Partial<Seccomp>) => compileSeccomp({ ...base, ...sc });
  assert.is(f({ flags: ['SECCOMP_FILTER_FLAG_LOG'] }).flags, FILTER_FLAG.LOG);
  assert.is(f({ flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] }).flags, FILTER_FLAG.SPEC_ALLOW | FILTER_FLAG.TSYNC);
  const w = f({ flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] });
  assert.is(w.flags, 0n, 'WAIT_KILLABLE_RECV without a listener is EINVAL in the kernel: dropped');
  assert.match(w.warnings[0]!, /WAIT_KILLABLE_RECV ignored: no syscall uses SCMP_ACT_NOTIFY/);
  const n = f({ listenerPath: '/x', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_TSYNC'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] });
  assert.is(n.notify, true);
  assert.is(n.flags, FILTER_FLAG.NEW_LISTENER | FILTER_FLAG.WAIT_KILLABLE_RECV | FILTER_FLAG.TSYNC | FILTER_FLAG.TSYNC_ESRCH);
});

test('errors name the config field', () => {
  const err = (sc: Seccomp, re: RegExp) => {
    try {
      compileSeccomp(sc);
    } catch (e) {
      assert.instance(e, TsrunError);
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`expected ${re}`);
  };
  err({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_NOPE' as never] }, /^\/linux\/seccomp\/architectures\/0: unknown seccomp architecture "SCMP_ARCH_NOPE"/);
  err({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /^\/linux\/seccomp\/syscalls\/0\/args\/0\/index: syscall argument index 6 is out of range/);
  err({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, /^\/linux\/seccomp\/defaultAction: errno 70000 out of range/);
  err({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_BOGUS' as never }] }, /unknown seccomp action "SCMP_ACT_BOGUS"/);
});

test('-ENOSYS stub: syscalls newer than the profile get ENOSYS, per arch and per x32/x86_64 mode', () => {
  const docker = profile('docker-default.json');
  const prog = compileSeccomp(docker).program;
  const r = (nr: number, arch: number = X86_64, args: (number | bigint)[] = []) => runBpf(prog, { nr, arch, args });
  assert.is(r(NR.getpid), RET.ALLOW);
  assert.is(r(NR.kexec_load), RET.ERRNO | 1, 'a known syscall the profile leaves out: EPERM');
  assert.is(r(600), RET.ERRNO | 38, 'past the last syscall the profile names: ENOSYS');
  assert.is(r(NR.clone3), RET.ERRNO | 38, 'clone3 is ENOSYS in the profile itself');
  assert.is(r(X32_BIT | 600), RET.ERRNO | 38, 'x32 mode');
  assert.is(r(X32_BIT | 39), RET.ALLOW, 'x32 getpid');
  assert.is(r(600, I386), RET.ERRNO | 38, 'i386');
  assert.is(r(212, I386), RET.ALLOW, 'chown32 on i386 (a pseudo-number on x86_64, real on x86)');
  assert.is(r(102, I386), RET.ALLOW, 'socketcall on i386');
  // conditional rules of the profile
  assert.is(r(NR.socket, X86_64, [40]), RET.ERRNO | 1, 'AF_VSOCK denied');
  assert.is(r(NR.socket, X86_64, [2]), RET.ALLOW);
  assert.is(r(NR.personality, X86_64, [0]), RET.ALLOW);
  assert.is(r(NR.personality, X86_64, [1]), RET.ERRNO | 1);
  assert.is(r(NR.clone, X86_64, [0x11]), RET.ALLOW, 'plain fork-style clone');
  assert.is(r(NR.clone, X86_64, [0x10000000]), RET.ERRNO | 1, 'clone(CLONE_NEWUSER) without CAP_SYS_ADMIN');
  // no stub when the default lets syscalls through, or already is ENOSYS
  assert.is(runBpf(compileSeccomp({ ...docker, defaultAction: 'SCMP_ACT_LOG' }).program, { nr: 600, arch: X86_64 }), RET.LOG);
  assert.is(enosysStub([]).length, 0);
});

test('the Docker and podman default profiles compile within BPF_MAXINSNS', () => {
  for (const name of ['docker-default.json', 'podman-default.json']) {
    const c = compileSeccomp(profile(name));
    assert.ok(c.program.length / 8 > 100 && c.program.length / 8 <= 4096, `${name}: ${c.program.length / 8} instructions`);
    assert.equal(c.unknownSyscalls, [], `${name}: libseccomp knows every name`);
  }
  const podman = compileSeccomp(profile('podman-default.json')).program;
  assert.is(runBpf(podman, { nr: 600, arch: X86_64 }), RET.ERRNO | 38, 'podman: default ENOSYS');
  assert.is(runBpf(podman, { nr: 320 /* kexec_file_load */, arch: X86_64 }), RET.ERRNO | 1);
  assert.is(runBpf(podman, { nr: NR.socket, arch: X86_64, args: [16, 3, 9] }), RET.ERRNO | 22, 'NETLINK_AUDIT without CAP_AUDIT_WRITE');
  assert.is(runBpf(podman, { nr: NR.socket, arch: X86_64, args: [2, 1, 0] }), RET.ALLOW);
});

test('features: the seccomp section says what compileSeccomp and this kernel really do', () => {
  const sf = seccompFeatures('6.18.0-1-amd64')!;
  const f = features({ cgroup: { v1: true, v2: true, systemd: false }, seccomp: sf }).linux!.seccomp!;
  assert.is(f.enabled, true);
  for (const a of f.actions!) {
    const sc: Seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['mkdir'], action: a }] };
    assert.ok(compileSeccomp(sc).program.length > 0, a);
  }
  assert.is(f.actions!.length, 9);
  for (const op of f.operators!) {
    assert.ok(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op }] }] }).program.length > 0, op);
  }
  assert.ok(f.archs!.includes('SCMP_ARCH_X86_64') && f.archs!.includes('SCMP_ARCH_AARCH64') && f.archs!.includes('SCMP_ARCH_X32'));
  for (const a of f.archs!) compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [a] });
  assert.equal(f.supportedFlags, f.knownFlags);
  // the kernel decides: SPEC_ALLOW came in 4.17, WAIT_KILLABLE_RECV in 5.19
  assert.equal(seccompFeatures('4.15.0')!.supportedFlags, ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG']);
  assert.match(features({ cgroup: { v1: true, v2: true, systemd: false }, seccomp: sf }).annotations!['io.github.seccomp.libseccomp.version']!, /^2\.\d+\.\d+$/);
});

// ── compile(): where the steps go ──────────────────────────────────────────────────────────────────────────────

function context(over: Partial<CompileContext> = {}): CompileContext {
  return {
    id: 'demo', bundle: '/b', rootfs: '/b/rootfs', mode: 'create', foreground: false, subreaper: true,
    stateDir: '/run/tsrun/demo', noPivot: false, preserveFds: 0, listenFds: 0, cgroupProcs: [],
    cgroupMounts: { v1: [], links: [], v2: { hostPath: '/sys/fs/cgroup' } }, log: false, logJson: false, lastCap: 40, sourceKind: () => 'dir', ...over,
  };
}

test('compile: seccomp is the last step before ready with no_new_privs, before the capability drop without', () => {
  const s = structuredClone(defaultConfig) as Spec;
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  const sc = compileSeccomp(s.linux!.seccomp);
  const ctx = context({ seccomp: { program: sc.program, flags: sc.flags, notify: sc.notify } });
  s.process!.noNewPrivileges = true;
  let kinds = compile(s, ctx).plan.steps.map((x) => x.kind);
  assert.equal(kinds.slice(kinds.indexOf('resolve'), kinds.indexOf('resolve') + 3), ['resolve', 'seccomp', 'ready']);
  assert.ok(kinds.indexOf('noNewPrivs') < kinds.indexOf('seccomp'));
  s.process!.noNewPrivileges = false;
  kinds = compile(s, ctx).plan.steps.map((x) => x.kind);
  assert.ok(kinds.indexOf('seccomp') < kinds.indexOf('capsBounding') && kinds.indexOf('seccomp') < kinds.indexOf('user'), kinds.join(' '));
  assert.not.ok(kinds.includes('noNewPrivs'));
  const step = compile(s, ctx).plan.steps.find((x) => x.kind === 'seccomp')!;
  assert.equal(step.kind === 'seccomp' && [step.filterFlags, step.program], [0n, sc.program]);
});

test('compile: NOTIFY adds the agent socket to the fd table and a seccompListener step right before seccomp', () => {
  const s = structuredClone(defaultConfig) as Spec;
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
  const sc = compileSeccomp(s.linux!.seccomp);
  const { plan } = compile(s, context({ seccomp: { program: sc.program, flags: sc.flags, notify: true } }));
  const i = plan.steps.findIndex((x) => x.kind === 'seccompListener');
  const l = plan.steps[i]!;
  assert.is(plan.steps[i + 1]!.kind, 'seccomp');
  assert.ok(l.kind === 'seccompListener' && plan.fds[l.socket]!.kind === 'seccompListener');
  assert.equal(plan.fds.filter((f) => f.kind === 'seccompListener').map((f) => 'path' in f && f.path), ['/run/agent.sock']);
  assert.is(SYNC_TOKEN.seccomp, 4n);
});

test.run();
