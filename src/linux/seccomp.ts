/**
 * linux.seccomp → a classic BPF program plus the seccomp(2) flags the executor loads it with.
 *
 * Follows runc (libcontainer/seccomp/seccomp_linux.go and patchbpf): libseccomp builds the filter, which is
 * exported, not loaded; tsrun then prepends the same "-ENOSYS for syscalls newer than the profile" stub runc does,
 * and computes the flags itself (the executor calls seccomp(2) directly):
 *   - a syscall name libseccomp does not know is skipped (runc logs it at debug level: profiles list syscalls of
 *     newer kernels than the host's), as is a rule whose action equals the default action;
 *   - SCMP_ACT_ERRNO and SCMP_ACT_TRACE return EPERM unless errnoRet (defaultErrnoRet for the default) says
 *     otherwise; SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD;
 *   - several conditions on one argument index become one rule each (libseccomp would AND them, which can never
 *     match), otherwise all conditions go in one rule;
 *   - more than 32 syscalls: libseccomp's binary-tree optimisation;
 *   - any SCMP_ACT_NOTIFY rule adds SECCOMP_FILTER_FLAG_NEW_LISTENER.
 * Only this module (through src/sys/libseccomp.ts) loads koffi for seccomp, and only when called.
 */
import { connect, type Socket } from 'node:net';
import { errnoText, TsrunError } from '../errors.js';
import type { Seccomp, SeccompAction, SeccompFlag, SeccompOperator } from '../spec/types.js';
import { libseccomp, SCMP_ACT, SCMP_CMP, SCMP_FLTATR, type ArgCmp } from '../sys/libseccomp.js';

export interface CompiledSeccomp {
  /** struct sock_filter[] (8 bytes per instruction, host byte order). */
  program: Uint8Array;
  /** seccomp(2) SECCOMP_FILTER_FLAG_* bits. */
  flags: bigint;
  /** A rule uses SCMP_ACT_NOTIFY: the listener fd goes to linux.seccomp.listenerPath. */
  notify: boolean;
  /** Syscall names this libseccomp does not know (skipped, like runc). */
  unknownSyscalls: string[];
  /** Config that was accepted but has no effect (runc ignores it silently). */
  warnings: string[];
}

/** SECCOMP_FILTER_FLAG_* (linux/seccomp.h). */
export const FILTER_FLAG = {
  TSYNC: 1n << 0n,
  LOG: 1n << 1n,
  SPEC_ALLOW: 1n << 2n,
  NEW_LISTENER: 1n << 3n,
  TSYNC_ESRCH: 1n << 4n,
  WAIT_KILLABLE_RECV: 1n << 5n,
} as const;

/** The OCI flags tsrun passes to seccomp(2), and the kernel version that added each. */
export const OCI_FLAGS: Readonly<Record<SeccompFlag, { bit: bigint; kernel: [number, number] }>> = {
  SECCOMP_FILTER_FLAG_TSYNC: { bit: FILTER_FLAG.TSYNC, kernel: [3, 17] },
  SECCOMP_FILTER_FLAG_LOG: { bit: FILTER_FLAG.LOG, kernel: [4, 14] },
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: { bit: FILTER_FLAG.SPEC_ALLOW, kernel: [4, 17] },
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: { bit: FILTER_FLAG.WAIT_KILLABLE_RECV, kernel: [5, 19] },
};

export const SECCOMP_ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];

const OPERATORS: Readonly<Record<SeccompOperator, number>> = {
  SCMP_CMP_NE: SCMP_CMP.NE, SCMP_CMP_LT: SCMP_CMP.LT, SCMP_CMP_LE: SCMP_CMP.LE, SCMP_CMP_EQ: SCMP_CMP.EQ,
  SCMP_CMP_GE: SCMP_CMP.GE, SCMP_CMP_GT: SCMP_CMP.GT, SCMP_CMP_MASKED_EQ: SCMP_CMP.MASKED_EQ,
};
export const SECCOMP_OPERATORS = Object.keys(OPERATORS) as SeccompOperator[];

/** OCI architecture names libseccomp 2.5 knows (seccomp_arch_resolve_name of the lower-cased suffix). */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
] as const;

const EPERM = 1;
const ENOSYS = 38;
const EACCES = 13;
const EEXIST = 17;
const MAX_ARGS = 6;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
const BPF_MAXINSNS = 4096;
/** AUDIT_ARCH_X86_64; x32 shares it and marks its syscalls with bit 30. */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

const fail = (ptr: string, message: string, hint?: string) =>
  new TsrunError('ERR_TSRUN_PLAN', `${ptr}: ${message}`, hint ? { hint } : {});

/** The libseccomp action value of an OCI action (runc getAction). */
export function actionValue(action: SeccompAction, errnoRet: number | undefined, ptr: string): number {
  const ret = (v: number | undefined) => {
    if (v === undefined) return EPERM;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw fail(ptr, `errno ${v} out of range (0 … 65535)`);
    return v;
  };
  switch (action) {
    case 'SCMP_ACT_KILL': case 'SCMP_ACT_KILL_THREAD': return SCMP_ACT.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return SCMP_ACT.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return SCMP_ACT.TRAP;
    case 'SCMP_ACT_ERRNO': return (SCMP_ACT.ERRNO | ret(errnoRet)) >>> 0;
    case 'SCMP_ACT_TRACE': return (SCMP_ACT.TRACE | ret(errnoRet)) >>> 0;
    case 'SCMP_ACT_ALLOW': return SCMP_ACT.ALLOW;
    case 'SCMP_ACT_LOG': return SCMP_ACT.LOG;
    case 'SCMP_ACT_NOTIFY': return SCMP_ACT.NOTIFY;
    default: throw fail(ptr, `unknown seccomp action ${JSON.stringify(action)}`);
  }
}

/** "SCMP_ARCH_X86_64" → libseccomp's "x86_64". */
const libArchName = (oci: string) => oci.replace(/^SCMP_ARCH_/, '').toLowerCase();

function toDatum(v: unknown, ptr: string): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(ptr, `must be an integer, got ${JSON.stringify(v)}`);
  return BigInt.asUintN(64, BigInt(v));
}

export function compileSeccomp(sc: Seccomp): CompiledSeccomp {
  const lib = libseccomp();
  const warnings: string[] = [];
  const defAct = actionValue(sc.defaultAction, sc.defaultErrnoRet, '/linux/seccomp/defaultAction');
  const syscalls = sc.syscalls ?? [];
  const notify = syscalls.some((c) => c.action === 'SCMP_ACT_NOTIFY');

  // flags: passed to seccomp(2) by the executor, not through libseccomp (which only knows about them to load)
  let flags = 0n;
  (sc.flags ?? []).forEach((f, i) => {
    const known = Object.hasOwn(OCI_FLAGS, f) ? OCI_FLAGS[f] : undefined;
    if (!known) throw fail(`/linux/seccomp/flags/${i}`, `seccomp flag ${JSON.stringify(f)} is not supported`);
    if (known.bit === FILTER_FLAG.WAIT_KILLABLE_RECV && !notify) {
      // the kernel refuses it without a listener (EINVAL); libseccomp only sets it together with NEW_LISTENER
      warnings.push(`/linux/seccomp/flags/${i}: ${f} ignored: no syscall uses SCMP_ACT_NOTIFY`);
      return;
    }
    flags |= known.bit;
  });
  if (notify) {
    flags |= FILTER_FLAG.NEW_LISTENER;
    // TSYNC with NEW_LISTENER is EINVAL unless TSYNC failures are reported as ESRCH (the executor has one thread)
    if (flags & FILTER_FLAG.TSYNC) flags |= FILTER_FLAG.TSYNC_ESRCH;
  }

  const archTokens: { oci: string; token: number }[] = [];
  (sc.architectures ?? []).forEach((a, i) => {
    const token = lib.archResolve(libArchName(a));
    if (!token) throw fail(`/linux/seccomp/architectures/${i}`, `unknown seccomp architecture ${JSON.stringify(a)} (libseccomp ${lib.version.major}.${lib.version.minor}.${lib.version.micro})`);
    archTokens.push({ oci: a, token });
  });

  const filter = lib.filter(defAct);
  const unknown = new Set<string>();
  try {
    for (const { oci, token } of archTokens) {
      const rc = filter.archAdd(token);
      if (rc < 0 && rc !== -EEXIST) throw fail('/linux/seccomp/architectures', `adding ${oci}: ${errName(-rc)}`);
    }
    // runc counts one rule per name; an old libseccomp just says no
    if (syscalls.reduce((n, c) => n + c.names.length, 0) > 32) filter.attrSet(SCMP_FLTATR.CTL_OPTIMIZE, 2);
    filter.attrSet(SCMP_FLTATR.CTL_NNP, 0); // only used by seccomp_load; NNP is the plan's own step

    syscalls.forEach((call, i) => {
      const ptr = `/linux/seccomp/syscalls/${i}`;
      const act = actionValue(call.action, call.errnoRet, `${ptr}/action`);
      const conds: ArgCmp[] = (call.args ?? []).map((a, j) => {
        const ap = `${ptr}/args/${j}`;
        if (!Number.isInteger(a.index) || a.index < 0 || a.index >= MAX_ARGS) throw fail(`${ap}/index`, `syscall argument index ${a.index} is out of range (0 … 5)`);
        const op = Object.hasOwn(OPERATORS, a.op) ? OPERATORS[a.op] : undefined;
        if (op === undefined) throw fail(`${ap}/op`, `unknown seccomp operator ${JSON.stringify(a.op)}`);
        const value = toDatum(a.value, `${ap}/value`);
        const two = a.valueTwo === undefined ? 0n : toDatum(a.valueTwo, `${ap}/valueTwo`);
        return { arg: a.index, op, a: value, b: op === SCMP_CMP.MASKED_EQ ? two : 0n };
      });
      // one rule per condition when an index repeats (runc's "old behaviour"), else one rule with all of them
      const perIndex = new Map<number, number>();
      for (const c of conds) perIndex.set(c.arg, (perIndex.get(c.arg) ?? 0) + 1);
      const split = [...perIndex.values()].some((n) => n > 1);
      const rules: ArgCmp[][] = split ? conds.map((c) => [c]) : [conds];
      call.names.forEach((name, j) => {
        const nr = lib.syscallResolve(name);
        if (nr === undefined) {
          unknown.add(name);
          return;
        }
        if (act === defAct) return; // runc: "action is the same as default"
        for (const r of rules) {
          const rc = filter.ruleAdd(act, nr, r);
          if (rc === -EACCES) continue;
          if (rc < 0) throw fail(`${ptr}/names/${j}`, `error adding seccomp filter rule for syscall ${name}: ${errName(-rc)}`);
        }
      });
    });
    const raw = filter.exportBpf();
    const stub = skipEnosys(sc, defAct) ? new Uint8Array(0) : enosysStub(lastSyscalls(sc, archTokens, lib));
    const program = new Uint8Array(stub.length + raw.length);
    program.set(stub, 0);
    program.set(raw, stub.length);
    if (program.length / 8 > BPF_MAXINSNS) {
      throw fail('/linux/seccomp', `the filter has ${program.length / 8} BPF instructions; the kernel takes at most ${BPF_MAXINSNS}`);
    }
    return { program, flags, notify, unknownSyscalls: [...unknown], warnings };
  } finally {
    filter.release();
  }
}

function errName(errno: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 17: 'EEXIST', 22: 'EINVAL', 33: 'EDOM', 34: 'ERANGE', 95: 'EOPNOTSUPP' };
  return names[errno] ?? `errno ${errno}`;
}

// ── the -ENOSYS stub (runc patchbpf) ──────────────────────────────────────────────────────────────────────────
//
// A profile lists the syscalls it knows; a syscall newer than all of them (glibc probing clone3, faccessat2 …)
// would get the default action — EPERM with Docker's profile — where the program expects ENOSYS and falls back.
// Like runc, for each architecture of the profile, syscall numbers above the largest one the profile names get
// ENOSYS; everything else goes on to libseccomp's filter. Not done when the default action lets syscalls through
// (ALLOW, LOG, TRACE) or already is ERRNO(ENOSYS).

/** sock_filter opcodes used by the stub. */
const BPF = { LD_W_ABS: 0x20, JA: 0x05, JEQ_K: 0x15, JGT_K: 0x25, JSET_K: 0x45, RET_K: 0x06 } as const;
type Insn = [code: number, jt: number, jf: number, k: number];

function skipEnosys(sc: Seccomp, defAct: number): boolean {
  if (['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(sc.defaultAction)) return true;
  return defAct === ((SCMP_ACT.ERRNO | ENOSYS) >>> 0);
}

interface ArchMax { audit: number; x32: 'no' | 'x86_64' | 'x32'; max: number }

/** The largest syscall number the profile names, per architecture of linux.seccomp.architectures. */
function lastSyscalls(sc: Seccomp, arches: { oci: string; token: number }[], lib: ReturnType<typeof libseccomp>): ArchMax[] {
  const names = [...new Set((sc.syscalls ?? []).flatMap((c) => c.names))];
  const out: ArchMax[] = [];
  const seen = new Set<string>();
  for (const { oci, token } of arches) {
    if (seen.has(oci)) continue;
    seen.add(oci);
    let max = -1;
    for (const n of names) {
      const nr = lib.syscallResolveArch(token, n);
      if (nr !== undefined && nr > max) max = nr;
    }
    if (max <= 0) continue; // runc: "could not find any syscalls for arch"
    const x32 = oci === 'SCMP_ARCH_X32' ? 'x32' : oci === 'SCMP_ARCH_X86_64' ? 'x86_64' : 'no';
    out.push({ audit: x32 === 'x32' ? AUDIT_ARCH_X86_64 : token, x32, max });
  }
  return out;
}

/**
 * The stub, built forwards with only short conditional jumps (ja carries the long ones):
 *   ld [4]; { jeq ARCH,0,1; ja SECTION }*; ja FILTER
 *   SECTION: ld [0]; [jset X32_BIT …]; jgt MAX,0,1; ret ERRNO(ENOSYS); ja FILTER
 * FILTER is libseccomp's program, which loads the arch again itself.
 */
export function enosysStub(arches: ArchMax[]): Uint8Array {
  if (!arches.length) return new Uint8Array(0);
  const byAudit = new Map<number, ArchMax[]>();
  for (const a of arches) byAudit.set(a.audit, [...(byAudit.get(a.audit) ?? []), a]);
  const enosys = (SCMP_ACT.ERRNO | ENOSYS) >>> 0;
  // sections first (their lengths decide the dispatch jumps), each ending in a "ja FILTER" patched below
  const sections: { audit: number; insns: Insn[] }[] = [];
  for (const [audit, list] of byAudit) {
    const insns: Insn[] = [[BPF.LD_W_ABS, 0, 0, 0]];
    const check = (max: number): Insn[] => [[BPF.JGT_K, 0, 1, max >>> 0], [BPF.RET_K, 0, 0, enosys], [BPF.JA, 0, 0, -1]];
    const amd = list.find((a) => a.x32 === 'x86_64');
    const x32 = list.find((a) => a.x32 === 'x32');
    if (audit === AUDIT_ARCH_X86_64 && amd && x32) {
      insns.push([BPF.JSET_K, 3, 0, X32_SYSCALL_BIT], ...check(amd.max), ...check(x32.max));
    } else if (audit === AUDIT_ARCH_X86_64 && amd) {
      insns.push([BPF.JSET_K, 2, 0, X32_SYSCALL_BIT], ...check(amd.max));
    } else if (audit === AUDIT_ARCH_X86_64 && x32) {
      insns.push([BPF.JSET_K, 0, 2, X32_SYSCALL_BIT], ...check(x32.max));
    } else {
      insns.push(...check(Math.max(...list.map((a) => a.max))));
    }
    sections.push({ audit, insns });
  }
  const head: Insn[] = [[BPF.LD_W_ABS, 0, 0, 4]];
  const dispatchLen = 1 + 2 * sections.length + 1;
  let at = dispatchLen;
  for (const s of sections) {
    const jaIndex = head.length + 1; // the ja after the jeq
    head.push([BPF.JEQ_K, 0, 1, s.audit >>> 0], [BPF.JA, 0, 0, at - (jaIndex + 1)]);
    at += s.insns.length;
  }
  const filterStart = at;
  head.push([BPF.JA, 0, 0, filterStart - (head.length + 1)]);
  const all: Insn[] = [...head];
  for (const s of sections) {
    for (const insn of s.insns) {
      const idx = all.length;
      all.push(insn[0] === BPF.JA && insn[3] === -1 ? [BPF.JA, 0, 0, filterStart - (idx + 1)] : insn);
    }
  }
  const out = Buffer.alloc(all.length * 8);
  all.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, 8 * i);
    out.writeUInt8(jt, 8 * i + 2);
    out.writeUInt8(jf, 8 * i + 3);
    out.writeUInt32LE(k >>> 0, 8 * i + 4);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

// ── SCMP_ACT_NOTIFY: the agent's socket ────────────────────────────────────────────────────────────────────────

export interface ListenerConn { fd: number; close(): void }

/**
 * Connect to linux.seccomp.listenerPath from the host before the spawn (runc dials it from the runtime too); the
 * executor sends the listener fd over this connection. Same fd trick as the console socket (console-socket.ts).
 */
export function connectListener(path: string): Promise<ListenerConn> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ path });
    // runc's words: "failed to connect with seccomp agent specified in the seccomp profile: dial unix P: connect: …"
    sock.once('error', (e) => {
      const errno = Math.abs((e as NodeJS.ErrnoException).errno ?? 0);
      const why = errno ? errnoText(errno) : (e as Error).message;
      reject(new TsrunError('ERR_TSRUN_SECCOMP', `failed to connect with seccomp agent specified in the seccomp profile: dial unix ${path}: connect: ${why}`, { cause: e }));
    });
    sock.once('connect', () => {
      const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) {
        sock.destroy();
        return reject(new TsrunError('ERR_TSRUN_SECCOMP', `seccomp listener socket ${path}: cannot get the connected fd`));
      }
      sock.pause();
      resolve({ fd, close: () => sock.destroy() });
    });
  });
}

/**
 * runc's message to the seccomp agent (specs.ContainerProcessState): sent with the listener fd as SCM_RIGHTS.
 * `state` is the container's state (status "creating").
 */
export function containerProcessState(ociVersion: string, pid: number, metadata: string | undefined, state: object): string {
  return JSON.stringify({ ociVersion, fds: ['seccompFd'], pid, ...(metadata ? { metadata } : {}), state });
}

// ── `tsrun features` ────────────────────────────────────────────────────────────────────────────────────────────

/** libseccomp knows the arch and a filter of this host can carry it (EDOM: the other byte order). */
function archUsable(lib: ReturnType<typeof libseccomp>, oci: string): boolean {
  const token = lib.archResolve(libArchName(oci));
  if (!token) return false;
  const f = lib.filter(SCMP_ACT.ALLOW);
  try {
    const rc = f.archAdd(token);
    return rc === 0 || rc === -EEXIST;
  } finally {
    f.release();
  }
}

/**
 * What `features` reports for seccomp: undefined when libseccomp cannot be loaded (then linux.seccomp fails at
 * create too). archs: the OCI names this libseccomp resolves and a filter here can carry; supportedFlags: the flags this kernel takes (tsrun
 * passes them to seccomp(2) itself, so the kernel decides, by the version that added each).
 */
export function seccompFeatures(release: string): { archs: (typeof SECCOMP_ARCHES)[number][]; supportedFlags: SeccompFlag[]; libseccompVersion: string } | undefined {
  let lib: ReturnType<typeof libseccomp>;
  try {
    lib = libseccomp();
  } catch {
    return undefined;
  }
  const [maj = 0, min = 0] = release.split(/[.-]/).map(Number);
  const atLeast = ([a, b]: [number, number]) => maj > a || (maj === a && min >= b);
  return {
    archs: SECCOMP_ARCHES.filter((a) => archUsable(lib, a)),
    supportedFlags: (Object.keys(OCI_FLAGS) as SeccompFlag[]).filter((f) => atLeast(OCI_FLAGS[f].kernel)),
    libseccompVersion: `${lib.version.major}.${lib.version.minor}.${lib.version.micro}`,
  };
}
