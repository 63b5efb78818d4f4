/**
 * cgroup v2 has no devices controller: device rules are a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
 * cgroup (BPF_CGROUP_DEVICE), which the kernel runs on every open/mknod of a device node and which returns 1
 * (allow) or 0 (deny, the caller sees EPERM). This file compiles the rules into that program. Pure.
 *
 * Semantics are runc's (opencontainers/cgroups devices/devicefilter.go, itself from crun's ebpf.c): the rules
 * are first replayed through the same emulator the v1 driver uses (devices.ts), so v1 and v2 accept and refuse
 * exactly the same rule lists (a hole punched in a wildcard rule fails on both), and the program encodes the
 * emulator's result: the default action, plus one block per exception, in the emulator's order (major, minor,
 * type). Every exception has the action opposite to the default, so the first block that matches decides and
 * the order between blocks does not matter.
 *
 * One deliberate difference from runc: runc tests a deny block's access like an allow block's (every requested
 * bit must be listed), so with "a *:* rwm" allowed and "b 8:* w" denied an O_RDWR open of /dev/sda passes on
 * runc's v2 filter while the v1 kernel refuses it. tsrun denies on any overlap, as v1 does.
 *
 * The context (struct bpf_cgroup_dev_ctx) is three u32: access_type (device type in the low 16 bits:
 * BPF_DEVCG_DEV_BLOCK 1 / CHAR 2; requested access in the high 16: MKNOD 1, READ 2, WRITE 4), major, minor.
 *
 *   r2 = ctx->access_type & 0xffff     r3 = ctx->access_type >> 16     r4 = ctx->major     r5 = ctx->minor
 *   block: if r2 != type goto next
 *          [unless access is rwm] r1 = r3; r1 &= access; allow block: if r1 != r3 goto next (all requested bits
 *                                 listed); deny block: if r1 == 0 goto next (any requested bit listed)
 *          [unless major is *] if r4 != major goto next
 *          [unless minor is *] if r5 != minor goto next
 *          r0 = allow; exit
 *   last:  r0 = default; exit
 */
import { TsrunError } from '../../errors.js';
import { DeviceEmulator, type DeviceCgroupRule } from './devices.js';

/** One struct bpf_insn: u8 code, u4 dst_reg, u4 src_reg, s16 off, s32 imm. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** The opcodes this generator emits (linux/bpf_common.h, linux/bpf.h). */
export const OP = {
  /** BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off) */
  LDXW: 0x61,
  /** BPF_ALU | BPF_AND | BPF_K: dst = (u32)(dst & imm) */
  AND32_IMM: 0x54,
  /** BPF_ALU | BPF_RSH | BPF_K: dst = (u32)dst >> imm */
  RSH32_IMM: 0x74,
  /** BPF_ALU | BPF_MOV | BPF_K: dst = (u32)imm */
  MOV32_IMM: 0xb4,
  /** BPF_ALU | BPF_MOV | BPF_X: dst = (u32)src */
  MOV32_REG: 0xbc,
  /** BPF_JMP | BPF_JNE | BPF_K: if dst != (s64)imm, pc += off */
  JNE_IMM: 0x55,
  /** BPF_JMP | BPF_JNE | BPF_X: if dst != src, pc += off */
  JNE_REG: 0x5d,
  /** BPF_JMP | BPF_JEQ | BPF_K: if dst == (s64)imm, pc += off */
  JEQ_IMM: 0x15,
  /** BPF_JMP | BPF_EXIT: return r0 */
  EXIT: 0x95,
} as const;

export const BPF_DEVCG_ACC = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
export const BPF_DEVCG_DEV = { BLOCK: 1, CHAR: 2 } as const;
/** runc's license string; the program calls no helper, so no GPL-only restriction applies. */
export const DEVICE_FILTER_LICENSE = 'Apache';

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const RWM = BPF_DEVCG_ACC.MKNOD | BPF_DEVCG_ACC.READ | BPF_DEVCG_ACC.WRITE;
/** devices.ts permission bits (r 1, w 2, m 4) → the kernel's BPF_DEVCG_ACC_* bits. */
const toBpfAccess = (perms: number) => (perms & 1 ? BPF_DEVCG_ACC.READ : 0) | (perms & 2 ? BPF_DEVCG_ACC.WRITE : 0) | (perms & 4 ? BPF_DEVCG_ACC.MKNOD : 0);

function checkNumber(what: string, v: number): void {
  // JNE_IMM sign-extends imm to 64 bits while the context's u32 is zero-extended: keep to 0 … 2^31-1
  // (the kernel's majors are 12 bits and minors 20 bits, so nothing larger names a device anyway).
  if (!Number.isInteger(v) || v > 0x7fffffff) throw new TsrunError('ERR_TSRUN_CGROUP', `invalid device rule ${what} ${v}: must be -1 (any) or 0 … 2147483647`);
}

/** The program for an emulator's state. */
export function programFor(e: DeviceEmulator): BpfInsn[] {
  const out: BpfInsn[] = [
    insn(OP.LDXW, 2, 1, 0, 0),
    insn(OP.AND32_IMM, 2, 0, 0, 0xffff),
    insn(OP.LDXW, 3, 1, 0, 0),
    insn(OP.RSH32_IMM, 3, 0, 0, 16),
    insn(OP.LDXW, 4, 1, 4, 0),
    insn(OP.LDXW, 5, 1, 8, 0),
  ];
  const verdict = e.defaultAllow ? 0 : 1; // every exception does the opposite of the default
  for (const r of e.ordered()) {
    checkNumber('major', r.major);
    checkNumber('minor', r.minor);
    const access = toBpfAccess(r.perms);
    // Each test jumps to the next block: offsets are filled in once the block's length is known.
    const block: (BpfInsn & { next?: true })[] = [{ ...insn(OP.JNE_IMM, 2, 0, 0, r.type === 'b' ? BPF_DEVCG_DEV.BLOCK : BPF_DEVCG_DEV.CHAR), next: true }];
    if (access !== RWM) {
      // An allow needs every requested bit (r1 == r3); a deny (default allow) any of them (r1 != 0): the v1
      // kernel's match_exception / match_exception_partial.
      const test = verdict ? insn(OP.JNE_REG, 1, 3, 0, 0) : insn(OP.JEQ_IMM, 1, 0, 0, 0);
      block.push(insn(OP.MOV32_REG, 1, 3, 0, 0), insn(OP.AND32_IMM, 1, 0, 0, access), { ...test, next: true });
    }
    if (r.major >= 0) block.push({ ...insn(OP.JNE_IMM, 4, 0, 0, r.major), next: true });
    if (r.minor >= 0) block.push({ ...insn(OP.JNE_IMM, 5, 0, 0, r.minor), next: true });
    block.push(insn(OP.MOV32_IMM, 0, 0, 0, verdict), insn(OP.EXIT, 0, 0, 0, 0));
    block.forEach(({ next, ...i }, k) => out.push(next ? { ...i, off: block.length - k - 1 } : i));
  }
  out.push(insn(OP.MOV32_IMM, 0, 0, 0, e.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/**
 * linux.resources.devices (in order, runc's default allow list appended: resources.ts fromSpec) → the program.
 * Throws the emulator's error for a rule list cgroup v1 could not express either.
 */
export function deviceFilterProgram(rules: readonly DeviceCgroupRule[]): BpfInsn[] {
  return programFor(DeviceEmulator.fromRules(rules));
}

/** struct bpf_insn[] as the kernel reads it (little-endian: dst_reg is the low nibble of byte 1). */
export function encodeProgram(insns: readonly BpfInsn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    b.writeUInt8(i.code, n * 8);
    b.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    b.writeInt16LE(i.off, n * 8 + 2);
    b.writeInt32LE(i.imm, n * 8 + 4);
  });
  return b;
}

export function decodeProgram(b: Buffer): BpfInsn[] {
  const out: BpfInsn[] = [];
  for (let o = 0; o + 8 <= b.length; o += 8) {
    const regs = b.readUInt8(o + 1);
    out.push({ code: b.readUInt8(o), dst: regs & 0xf, src: regs >> 4, off: b.readInt16LE(o + 2), imm: b.readInt32LE(o + 4) });
  }
  return out;
}

/** One line per instruction, in the notation of cilium/ebpf's asm package that runc's tests use. */
export function disassemble(insns: readonly BpfInsn[]): string[] {
  return insns.map((i, n) => {
    const d = `dst: r${i.dst}`;
    const text = i.code === OP.LDXW ? `LdXMemW ${d} src: r${i.src} off: ${i.off} imm: ${i.imm}`
      : i.code === OP.AND32_IMM ? `AndImm32 ${d} imm: ${i.imm}`
      : i.code === OP.RSH32_IMM ? `RShImm32 ${d} imm: ${i.imm}`
      : i.code === OP.MOV32_IMM ? `MovImm32 ${d} imm: ${i.imm}`
      : i.code === OP.MOV32_REG ? `MovReg32 ${d} src: r${i.src}`
      : i.code === OP.JNE_IMM ? `JNEImm ${d} off: ${i.off} imm: ${i.imm}`
      : i.code === OP.JNE_REG ? `JNEReg ${d} off: ${i.off} src: r${i.src}`
      : i.code === OP.JEQ_IMM ? `JEqImm ${d} off: ${i.off} imm: ${i.imm}`
      : i.code === OP.EXIT ? 'Exit'
      : `op 0x${i.code.toString(16)} ${d} src: r${i.src} off: ${i.off} imm: ${i.imm}`;
    return `${n}: ${text}`;
  });
}
