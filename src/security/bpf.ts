/**
 * A classic-BPF interpreter for seccomp programs (tests only): runs a struct sock_filter[] against a
 * struct seccomp_data {u32 nr, u32 arch, u64 ip, u64 args[6]} the way the kernel does, so tests can check what
 * a compiled filter *does* for a syscall instead of comparing opaque bytes.
 */

export interface SeccompData { nr: number; arch: number; args?: (number | bigint)[]; ip?: bigint }

export const AUDIT_ARCH = { X86_64: 0xc000003e, I386: 0x40000003, AARCH64: 0xc00000b7 } as const;
export const X32_BIT = 0x40000000;

/** SECCOMP_RET_* of a return value (action part and data). */
export const RET = {
  KILL_PROCESS: 0x80000000, KILL_THREAD: 0, TRAP: 0x00030000, ERRNO: 0x00050000, USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000,
} as const;

export function action(ret: number): number {
  return (ret & 0xffff0000) >>> 0;
}
export function data(ret: number): number {
  return ret & 0xffff;
}

function dataBuffer(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return b;
}

/** Runs the program; returns the 32-bit return value. Throws on anything the kernel's checker would refuse. */
export function runBpf(program: Uint8Array, d: SeccompData): number {
  const p = Buffer.from(program.buffer, program.byteOffset, program.byteLength);
  const n = p.length / 8;
  if (!Number.isInteger(n) || n === 0) throw new Error('bad program length');
  const mem = new Uint32Array(16);
  const pkt = dataBuffer(d);
  let A = 0;
  let X = 0;
  let pc = 0;
  for (let steps = 0; steps < 100000; steps++) {
    if (pc < 0 || pc >= n) throw new Error(`pc ${pc} out of range`);
    const code = p.readUInt16LE(8 * pc);
    const jt = p.readUInt8(8 * pc + 2);
    const jf = p.readUInt8(8 * pc + 3);
    const k = p.readUInt32LE(8 * pc + 4);
    pc++;
    const cls = code & 0x07;
    const src = code & 0x08 ? X : k;
    switch (cls) {
      case 0x00: { // LD
        const mode = code & 0xe0;
        if (mode === 0x20) { if ((code & 0x18) !== 0 || k + 4 > 64 || k % 4) throw new Error(`bad load ${k}`); A = pkt.readUInt32LE(k); }
        else if (mode === 0x00) A = k; // IMM
        else if (mode === 0x60) A = mem[k & 15]!; // MEM
        else if (mode === 0x80) A = 64; // LEN
        else throw new Error(`ld mode 0x${mode.toString(16)}`);
        break;
      }
      case 0x01: { // LDX
        const mode = code & 0xe0;
        if (mode === 0x00) X = k;
        else if (mode === 0x60) X = mem[k & 15]!;
        else if (mode === 0x80) X = 64;
        else throw new Error(`ldx mode 0x${mode.toString(16)}`);
        break;
      }
      case 0x02: mem[k & 15] = A; break; // ST
      case 0x03: mem[k & 15] = X; break; // STX
      case 0x04: { // ALU
        const op = code & 0xf0;
        const v = op === 0x80 ? 0 : src >>> 0;
        switch (op) {
          case 0x00: A = (A + v) >>> 0; break;
          case 0x10: A = (A - v) >>> 0; break;
          case 0x20: A = Math.imul(A, v) >>> 0; break;
          case 0x30: if (!v) return 0; A = Math.floor(A / v) >>> 0; break;
          case 0x40: A = (A | v) >>> 0; break;
          case 0x50: A = (A & v) >>> 0; break;
          case 0x60: A = v >= 32 ? 0 : (A << v) >>> 0; break;
          case 0x70: A = v >= 32 ? 0 : A >>> v; break;
          case 0x80: A = (-A) >>> 0; break;
          case 0xa0: A = (A ^ v) >>> 0; break;
          default: throw new Error(`alu op 0x${op.toString(16)}`);
        }
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        if (op === 0x00) { pc += k; break; }
        const v = src >>> 0;
        const a = A >>> 0;
        const t = op === 0x10 ? a === v : op === 0x20 ? a > v : op === 0x30 ? a >= v : op === 0x40 ? (a & v) !== 0 : undefined;
        if (t === undefined) throw new Error(`jmp op 0x${op.toString(16)}`);
        pc += t ? jt : jf;
        break;
      }
      case 0x06: return (code & 0x18) === 0x10 ? A >>> 0 : k >>> 0; // RET A / RET K
      case 0x07: if ((code & 0xf8) === 0x00) X = A; else A = X; break; // TAX / TXA
      default: throw new Error(`class ${cls}`);
    }
  }
  throw new Error('program did not return');
}
