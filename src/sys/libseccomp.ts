/**
 * libseccomp (libseccomp.so.2, ≥ 2.5) through koffi: the one place tsrun turns a linux.seccomp object into BPF.
 *
 * Nothing is loaded when this module is imported: koffi and the library are opened on the first call, so only
 * configs with linux.seccomp (and `tsrun features`) pay for them (~15 ms). The filter is never loaded here: it is
 * exported as classic BPF (seccomp_export_bpf) and handed to the executor, which loads it inside the container
 * with its own flags (runc does the same through patchbpf).
 *
 * 2.5.x has no seccomp_export_bpf_mem, so the program goes through a memfd (memfd_create from libc), read back
 * with pread.
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TsrunError } from '../errors.js';
import { readWholeFd } from './read-fd.js';

/** Action values (seccomp.h SCMP_ACT_*). ERRNO and TRACE carry a 16-bit value in the low bits. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  NOTIFY: 0x7fc00000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** enum scmp_compare. */
export const SCMP_CMP = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 } as const;

/** enum scmp_filter_attr (the ones tsrun sets). */
export const SCMP_FLTATR = { ACT_BADARCH: 2, CTL_NNP: 3, CTL_OPTIMIZE: 8 } as const;

/** One comparison of a rule (struct scmp_arg_cmp: u32 arg, u32 op, u64 datum_a, u64 datum_b). */
export interface ArgCmp { arg: number; op: number; a: bigint; b: bigint }

export interface Libseccomp {
  version: { major: number; minor: number; micro: number };
  /** seccomp_api_get(): what the library found the kernel supports (1 … 6 for 2.5.x). */
  api: number;
  /** AUDIT_ARCH_* token of a libseccomp arch name ("x86_64", "aarch64"); 0 when unknown. */
  archResolve(name: string): number;
  archNative(): number;
  /**
   * Native syscall number, or undefined when libseccomp does not know the name (__NR_SCMP_ERROR). A syscall the
   * native arch lacks (chown32 on x86_64) gets a negative pseudo-number that rules still take: libseccomp maps it
   * to the real number on each added arch.
   */
  syscallResolve(name: string): number | undefined;
  /** The number on one architecture (token); undefined when unknown; negative: a pseudo-number (not on that arch). */
  syscallResolveArch(token: number, name: string): number | undefined;
  /** A filter context; always release() it. */
  filter(defaultAction: number): Filter;
}

export interface Filter {
  /** 0 or -errno (EEXIST: the arch is there already). */
  archAdd(token: number): number;
  attrSet(attr: number, value: number): number;
  /** seccomp_rule_add_array: 0 or -errno (EACCES: action equals the default; EDOM/EINVAL: bad args). */
  ruleAdd(action: number, syscall: number, args: ArgCmp[]): number;
  /** The classic BPF program (struct sock_filter[], 8 bytes each, host byte order). */
  exportBpf(): Uint8Array;
  release(): void;
}

interface Bound {
  version: () => { major: number; minor: number; micro: number };
  api_get: () => number;
  init: (def: number) => unknown;
  release: (ctx: unknown) => void;
  arch_add: (ctx: unknown, t: number) => number;
  arch_resolve_name: (n: string) => number;
  arch_native: () => number;
  attr_set: (ctx: unknown, a: number, v: number) => number;
  syscall_resolve_name: (n: string) => number;
  syscall_resolve_name_arch: (t: number, n: string) => number;
  rule_add_array: (ctx: unknown, act: number, nr: number, cnt: number, args: Buffer | null) => number;
  export_bpf: (ctx: unknown, fd: number) => number;
  memfd_create: (name: string, flags: number) => number;
}

const SONAMES = ['libseccomp.so.2', '/usr/lib/x86_64-linux-gnu/libseccomp.so.2', '/lib/x86_64-linux-gnu/libseccomp.so.2', '/usr/lib64/libseccomp.so.2', '/usr/lib/libseccomp.so.2'];
const MFD_CLOEXEC = 1;
/** __NR_SCMP_ERROR: the name is unknown to libseccomp. */
const NR_SCMP_ERROR = -1;

let cached: Libseccomp | undefined;
let loadError: Error | undefined;

/** Opens koffi and libseccomp once. Throws ERR_TSRUN_SECCOMP with a hint when the library is missing. */
export function libseccomp(): Libseccomp {
  if (cached) return cached;
  if (loadError) throw loadError;
  try {
    cached = bind();
    return cached;
  } catch (e) {
    loadError = new TsrunError('ERR_TSRUN_SECCOMP', `seccomp: cannot load libseccomp: ${(e as Error).message}`, {
      hint: 'install libseccomp2 (Debian/Ubuntu) or libseccomp (Fedora), or remove linux.seccomp from the config',
      cause: e,
    });
    throw loadError;
  }
}

function bind(): Libseccomp {
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const koffi = require('koffi') as typeof import('koffi');
  let lib: ReturnType<typeof koffi.load> | undefined;
  let firstErr: unknown;
  for (const name of SONAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      firstErr ??= e;
    }
  }
  if (!lib) throw firstErr instanceof Error ? firstErr : new Error(String(firstErr));
  const libc = koffi.load('libc.so.6');
  const ver = koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  const b: Bound = {
    version: lib.func('seccomp_version', koffi.pointer(ver), []) as never,
    api_get: lib.func('unsigned int seccomp_api_get(void)') as never,
    init: lib.func('void *seccomp_init(uint32_t def_action)') as never,
    release: lib.func('void seccomp_release(void *ctx)') as never,
    arch_add: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)') as never,
    arch_resolve_name: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)') as never,
    arch_native: lib.func('uint32_t seccomp_arch_native(void)') as never,
    attr_set: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)') as never,
    syscall_resolve_name: lib.func('int seccomp_syscall_resolve_name(const char *name)') as never,
    syscall_resolve_name_arch: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)') as never,
    rule_add_array: lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *arg_array)') as never,
    export_bpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)') as never,
    memfd_create: libc.func('int memfd_create(const char *name, unsigned int flags)') as never,
  };
  const vp = b.version() as unknown;
  const version = vp ? koffi.decode(vp, ver) as { major: number; minor: number; micro: number } : { major: 0, minor: 0, micro: 0 };
  return {
    version,
    api: b.api_get(),
    archResolve: (name) => b.arch_resolve_name(name) >>> 0,
    archNative: () => b.arch_native() >>> 0,
    syscallResolve: (name) => {
      const nr = b.syscall_resolve_name(name);
      return nr === NR_SCMP_ERROR ? undefined : nr;
    },
    syscallResolveArch: (token, name) => {
      const nr = b.syscall_resolve_name_arch(token >>> 0, name);
      return nr === NR_SCMP_ERROR ? undefined : nr;
    },
    filter: (def) => makeFilter(b, def, koffi),
  };
}

function makeFilter(b: Bound, def: number, koffi: typeof import('koffi')): Filter {
  const ctx = b.init(def >>> 0);
  if (!ctx) throw new TsrunError('ERR_TSRUN_SECCOMP', `seccomp: seccomp_init(0x${(def >>> 0).toString(16)}) failed`);
  let live = true;
  const check = () => { if (!live) throw new Error('seccomp filter used after release'); };
  return {
    archAdd: (t) => (check(), b.arch_add(ctx, t >>> 0)),
    attrSet: (a, v) => (check(), b.attr_set(ctx, a, v >>> 0)),
    ruleAdd: (act, nr, args) => {
      check();
      let buf: Buffer | null = null;
      if (args.length) {
        buf = Buffer.alloc(24 * args.length);
        args.forEach((c, i) => {
          buf!.writeUInt32LE(c.arg >>> 0, 24 * i);
          buf!.writeUInt32LE(c.op >>> 0, 24 * i + 4);
          buf!.writeBigUInt64LE(BigInt.asUintN(64, c.a), 24 * i + 8);
          buf!.writeBigUInt64LE(BigInt.asUintN(64, c.b), 24 * i + 16);
        });
      }
      return b.rule_add_array(ctx, act >>> 0, nr, args.length, buf);
    },
    exportBpf: () => {
      check();
      const fd = b.memfd_create('tsrun-seccomp', MFD_CLOEXEC);
      if (fd < 0) throw new TsrunError('ERR_TSRUN_SECCOMP', `seccomp: memfd_create failed (errno ${koffi.errno()})`);
      try {
        const rc = b.export_bpf(ctx, fd);
        if (rc < 0) throw new TsrunError('ERR_TSRUN_SECCOMP', `seccomp: seccomp_export_bpf failed: errno ${-rc}`);
        const out = readWholeFd(fd);
        return new Uint8Array(out.buffer, out.byteOffset, out.length);
      } finally {
        closeSync(fd);
      }
    },
    release: () => {
      if (live) b.release(ctx);
      live = false;
    },
  };
}
