// The cgroup v2 device filter: instruction listings against runc's devicefilter_test.go goldens, a small BPF
// interpreter (only the opcodes the generator emits, with the verifier's basic checks) that runs each program
// over (type, major, minor, access) tables, the attach/replace order with a fake bpf, and the v2 driver wiring.
import { test } from 'uvu';
import { closeSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { BPF_DEVCG_ACC, BPF_DEVCG_DEV, decodeProgram, deviceFilterProgram, disassemble, encodeProgram, OP, type BpfInsn } from './devices-bpf.js';
import { applyDeviceFilter, setDeviceFilter, type BpfOps } from './devices-bpf-attach.js';
import { DEFAULT_ALLOWED_DEVICES, type DeviceCgroupRule } from './devices.js';
import { applyResources, type CgroupIo } from './apply.js';
import type { CgroupMounts } from './mounts.js';
import { fromSpec } from './resources.js';

const rule = (type: 'a' | 'b' | 'c', major: number, minor: number, access: string, allow: boolean): DeviceCgroupRule => ({ type, major, minor, access, allow });
const DEFAULTS = DEFAULT_ALLOWED_DEVICES.map((d) => d.rule);

/**
 * A listing in runc's test notation: "//" comments and blank lines dropped, "block-N:" labels mark positions,
 * and "off: -1 <block-N>" (an unresolved cilium symbol) becomes the real offset, pc + 1 + off = block-N.
 */
function runcListing(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//'));
  const labels = new Map<string, number>();
  const insns: string[] = [];
  for (const l of lines) {
    if (/^block-\d+:$/.test(l)) labels.set(l.slice(0, -1), insns.length);
    else insns.push(l);
  }
  return insns.map((l, pc) => l.replace(/off: -1 (.*) <(block-\d+)>$/, (_, rest: string, label: string) => `off: ${labels.get(label)! - pc - 1} ${rest}`)
    .replace(/^(\d+): JNEReg dst: (r\d) off: -1 src: (r\d) <(block-\d+)>$/, (_, n: string, d: string, s: string, label: string) => `${n}: JNEReg dst: ${d} off: ${labels.get(label)! - pc - 1} src: ${s}`));
}

const PROLOGUE = `
        0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
        1: AndImm32 dst: r2 imm: 65535
        2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
        3: RShImm32 dst: r3 imm: 16
        4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
        5: LdXMemW dst: r5 src: r1 off: 8 imm: 0`;

test('golden: no rules → deny everything (runc TestDeviceFilter_Nil)', () => {
  assert.equal(disassemble(deviceFilterProgram([])), runcListing(`${PROLOGUE}
block-0:
// return 0 (reject)
        6: MovImm32 dst: r0 imm: 0
        7: Exit`));
});

test('golden: runc\'s built-in allow list (TestDeviceFilter_BuiltInAllowList)', () => {
  assert.equal(disassemble(deviceFilterProgram(DEFAULTS)), runcListing(`${PROLOGUE}
block-0:
// (b, wildcard, wildcard, m, true)
        6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
        7: MovReg32 dst: r1 src: r3
        8: AndImm32 dst: r1 imm: 1
        9: JNEReg dst: r1 off: -1 src: r3 <block-1>
        10: MovImm32 dst: r0 imm: 1
        11: Exit
block-1:
// (c, wildcard, wildcard, m, true)
        12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
        13: MovReg32 dst: r1 src: r3
        14: AndImm32 dst: r1 imm: 1
        15: JNEReg dst: r1 off: -1 src: r3 <block-2>
        16: MovImm32 dst: r0 imm: 1
        17: Exit
block-2:
        18: JNEImm dst: r2 off: -1 imm: 2 <block-3>
        19: JNEImm dst: r4 off: -1 imm: 1 <block-3>
        20: JNEImm dst: r5 off: -1 imm: 3 <block-3>
        21: MovImm32 dst: r0 imm: 1
        22: Exit
block-3:
        23: JNEImm dst: r2 off: -1 imm: 2 <block-4>
        24: JNEImm dst: r4 off: -1 imm: 1 <block-4>
        25: JNEImm dst: r5 off: -1 imm: 5 <block-4>
        26: MovImm32 dst: r0 imm: 1
        27: Exit
block-4:
        28: JNEImm dst: r2 off: -1 imm: 2 <block-5>
        29: JNEImm dst: r4 off: -1 imm: 1 <block-5>
        30: JNEImm dst: r5 off: -1 imm: 7 <block-5>
        31: MovImm32 dst: r0 imm: 1
        32: Exit
block-5:
        33: JNEImm dst: r2 off: -1 imm: 2 <block-6>
        34: JNEImm dst: r4 off: -1 imm: 1 <block-6>
        35: JNEImm dst: r5 off: -1 imm: 8 <block-6>
        36: MovImm32 dst: r0 imm: 1
        37: Exit
block-6:
        38: JNEImm dst: r2 off: -1 imm: 2 <block-7>
        39: JNEImm dst: r4 off: -1 imm: 1 <block-7>
        40: JNEImm dst: r5 off: -1 imm: 9 <block-7>
        41: MovImm32 dst: r0 imm: 1
        42: Exit
block-7:
        43: JNEImm dst: r2 off: -1 imm: 2 <block-8>
        44: JNEImm dst: r4 off: -1 imm: 5 <block-8>
        45: JNEImm dst: r5 off: -1 imm: 0 <block-8>
        46: MovImm32 dst: r0 imm: 1
        47: Exit
block-8:
        48: JNEImm dst: r2 off: -1 imm: 2 <block-9>
        49: JNEImm dst: r4 off: -1 imm: 5 <block-9>
        50: JNEImm dst: r5 off: -1 imm: 2 <block-9>
        51: MovImm32 dst: r0 imm: 1
        52: Exit
block-9:
// tuntap (c, 10, 200, rwm, true)
        53: JNEImm dst: r2 off: -1 imm: 2 <block-10>
        54: JNEImm dst: r4 off: -1 imm: 10 <block-10>
        55: JNEImm dst: r5 off: -1 imm: 200 <block-10>
        56: MovImm32 dst: r0 imm: 1
        57: Exit
block-10:
// /dev/pts (c, 136, wildcard, rwm, true)
        58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
        59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
        60: MovImm32 dst: r0 imm: 1
        61: Exit
block-11:
        62: MovImm32 dst: r0 imm: 0
        63: Exit`));
});

test('golden: privileged, privileged except one device, and runc\'s "weird" list', () => {
  assert.equal(disassemble(deviceFilterProgram([rule('a', -1, -1, 'rwm', true)])), runcListing(`${PROLOGUE}
        6: MovImm32 dst: r0 imm: 1
        7: Exit`));
  const exceptOne = runcListing(`${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
         7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
         8: JNEImm dst: r5 off: -1 imm: 0 <block-1>
         9: MovImm32 dst: r0 imm: 0
        10: Exit
block-1:
        11: MovImm32 dst: r0 imm: 1
        12: Exit`);
  assert.equal(disassemble(deviceFilterProgram([rule('a', -1, -1, 'rwm', true), rule('b', 8, 0, 'rwm', false)])), exceptOne);
  // 8/1 is allowed (the "a" rule wipes the deny before it), 8/2 is not: runc's TestDeviceFilter_Weird.
  assert.equal(disassemble(deviceFilterProgram([rule('b', 8, 1, 'rwm', false), rule('a', -1, -1, 'rwm', true), rule('b', 8, 2, 'rwm', false)])),
    exceptOne.map((l) => l.replace('8: JNEImm dst: r5 off: 2 imm: 0', '8: JNEImm dst: r5 off: 2 imm: 2')));
});

test('golden: a deny with partial access (default allow) matches on any requested bit', () => {
  assert.equal(disassemble(deviceFilterProgram([rule('a', -1, -1, 'rwm', true), rule('b', 8, -1, 'w', false)])), runcListing(`${PROLOGUE}
block-0:
         6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
         7: MovReg32 dst: r1 src: r3
         8: AndImm32 dst: r1 imm: 4
         9: JEqImm dst: r1 off: -1 imm: 0 <block-1>
        10: JNEImm dst: r4 off: -1 imm: 8 <block-1>
        11: MovImm32 dst: r0 imm: 0
        12: Exit
block-1:
        13: MovImm32 dst: r0 imm: 1
        14: Exit`));
});

test('encoding: 8 bytes per instruction, little-endian, dst in the low nibble; decode round-trips', () => {
  const prog = deviceFilterProgram(DEFAULTS);
  const bytes = encodeProgram(prog);
  assert.is(bytes.length, prog.length * 8);
  assert.is(bytes.subarray(0, 8).toString('hex'), '6112000000000000'); // ldxw r2, [r1+0]
  assert.is(bytes.subarray(8, 16).toString('hex'), '54020000ffff0000'); // and32 r2, 0xffff
  assert.is(bytes.subarray(48, 56).toString('hex'), '5502050001000000'); // jne r2, 1 (block), +5
  assert.is(bytes.subarray(bytes.length - 8).toString('hex'), '9500000000000000'); // exit
  assert.equal(decodeProgram(bytes), prog);
});

/**
 * A tiny eBPF interpreter: the generator's opcodes only, 64-bit registers, r1 = the context pointer, 12-byte
 * context. Like the verifier it refuses reads of unset registers, loads other than aligned u32 context fields,
 * backward or out-of-range jumps, and an exit without r0.
 */
function runBpf(prog: readonly BpfInsn[], type: number, major: number, minor: number, access: number): number {
  const ctx = Buffer.alloc(12);
  ctx.writeUInt32LE(((access << 16) | type) >>> 0, 0);
  ctx.writeUInt32LE(major, 4);
  ctx.writeUInt32LE(minor, 8);
  const reg: (bigint | 'ctx' | undefined)[] = new Array(11).fill(undefined);
  reg[1] = 'ctx';
  const M32 = 0xffffffffn;
  const val = (r: number): bigint => {
    const v = reg[r];
    if (typeof v !== 'bigint') throw new Error(`R${r} ${v === undefined ? '!read_ok' : 'is a pointer'}`);
    return v;
  };
  for (let pc = 0, steps = 0; steps < 4096; steps++) {
    const i = prog[pc];
    if (!i) throw new Error(`pc ${pc} out of range`);
    let next = pc + 1;
    switch (i.code) {
      case OP.LDXW:
        if (reg[i.src] !== 'ctx' || i.off % 4 || i.off < 0 || i.off > 8) throw new Error(`invalid ctx access off=${i.off}`);
        reg[i.dst] = BigInt(ctx.readUInt32LE(i.off));
        break;
      case OP.AND32_IMM: reg[i.dst] = val(i.dst) & BigInt(i.imm >>> 0) & M32; break;
      case OP.RSH32_IMM: reg[i.dst] = (val(i.dst) & M32) >> BigInt(i.imm); break;
      case OP.MOV32_IMM: reg[i.dst] = BigInt(i.imm >>> 0); break;
      case OP.MOV32_REG: reg[i.dst] = val(i.src) & M32; break;
      case OP.JNE_IMM: if (val(i.dst) !== BigInt.asUintN(64, BigInt(i.imm))) next += i.off; break;
      case OP.JNE_REG: if (val(i.dst) !== val(i.src)) next += i.off; break;
      case OP.JEQ_IMM: if (val(i.dst) === BigInt.asUintN(64, BigInt(i.imm))) next += i.off; break;
      case OP.EXIT: return Number(val(0));
      default: throw new Error(`unexpected opcode 0x${i.code.toString(16)}`);
    }
    if (next <= pc || next >= prog.length) throw new Error(`jump from ${pc} to ${next}`);
    pc = next;
  }
  throw new Error('no exit');
}

const ACC: Record<string, number> = { r: BPF_DEVCG_ACC.READ, w: BPF_DEVCG_ACC.WRITE, m: BPF_DEVCG_ACC.MKNOD };
/** "c 1:3 rw" → 1 (allow) or 0 for each case, run through the encoded-then-decoded program. */
function verdicts(rules: DeviceCgroupRule[], cases: string[]): Record<string, number> {
  const prog = decodeProgram(encodeProgram(deviceFilterProgram(rules)));
  return Object.fromEntries(cases.map((c) => {
    const [t, mm, acc] = c.split(' ') as [string, string, string];
    const [ma, mi] = mm.split(':').map(Number) as [number, number];
    const access = [...acc].reduce((s, ch) => s | ACC[ch]!, 0);
    return [c, runBpf(prog, t === 'b' ? BPF_DEVCG_DEV.BLOCK : BPF_DEVCG_DEV.CHAR, ma, mi, access)];
  }));
}
const expect = (table: Record<string, 0 | 1>) => table;

test('interpreter: Docker\'s default (deny all, then runc\'s allow list)', () => {
  const rules = fromSpec({ devices: [{ allow: false, access: 'rwm' }] }).devices!;
  const want = expect({
    'c 1:3 rw': 1, 'c 1:3 rwm': 1, 'c 1:5 r': 1, 'c 1:9 rw': 1, 'c 1:8 r': 1, 'c 1:7 w': 1, 'c 5:0 rw': 1, 'c 5:2 rw': 1,
    'c 136:0 rw': 1, 'c 136:4095 rw': 1, 'c 10:200 rw': 1,
    'c 1:1 r': 0, 'c 1:11 r': 0, 'c 5:1 rw': 0, 'c 10:229 rw': 0, 'c 4:0 w': 0, 'c 137:0 r': 0, 'c 200:10 rw': 0,
    'b 8:0 r': 0, 'b 7:0 rw': 0,
    // mknod of any node is allowed (c/b *:* m), but not together with a read or write of a device not listed
    'c 1:1 m': 1, 'b 8:0 m': 1, 'c 250:3 m': 1, 'b 8:0 rm': 0, 'c 1:1 wm': 0,
  });
  assert.equal(verdicts(rules, Object.keys(want)), want);
});

test('interpreter: deny-all, allow-all, and a config\'s own list without the defaults', () => {
  const cases = ['c 1:3 rw', 'c 1:3 m', 'b 8:0 r', 'c 136:2 w'];
  assert.equal(verdicts([rule('a', -1, -1, 'rwm', false)], cases), { 'c 1:3 rw': 0, 'c 1:3 m': 0, 'b 8:0 r': 0, 'c 136:2 w': 0 });
  assert.equal(verdicts([rule('a', -1, -1, 'rwm', true)], cases), { 'c 1:3 rw': 1, 'c 1:3 m': 1, 'b 8:0 r': 1, 'c 136:2 w': 1 });
  // privileged minus one block device
  assert.equal(verdicts([rule('a', -1, -1, 'rwm', true), rule('b', 8, 0, 'rwm', false)], ['b 8:0 r', 'b 8:0 m', 'b 8:1 r', 'c 8:0 r']),
    { 'b 8:0 r': 0, 'b 8:0 m': 0, 'b 8:1 r': 1, 'c 8:0 r': 1 });
  // allow /dev/null only, then an allow-all resets it
  assert.equal(verdicts([rule('a', -1, -1, 'rwm', false), rule('c', 1, 3, 'rwm', true)], ['c 1:3 rw', 'c 1:5 r']), { 'c 1:3 rw': 1, 'c 1:5 r': 0 });
});

test('interpreter: wildcards and access subsets', () => {
  // c *:3 r → any char device with minor 3, reading only
  assert.equal(verdicts([rule('c', -1, 3, 'r', true)], ['c 7:3 r', 'c 1:3 r', 'c 7:3 w', 'c 7:3 rw', 'c 7:4 r', 'b 7:3 r']),
    { 'c 7:3 r': 1, 'c 1:3 r': 1, 'c 7:3 w': 0, 'c 7:3 rw': 0, 'c 7:4 r': 0, 'b 7:3 r': 0 });
  // c 1:* rw + c 1:5 m: access bits add up per device in the emulator, as on v1
  assert.equal(verdicts([rule('c', 1, -1, 'rw', true), rule('c', 1, 5, 'm', true)], ['c 1:9 rw', 'c 1:9 m', 'c 1:5 rwm', 'c 2:5 r']),
    { 'c 1:9 rw': 1, 'c 1:9 m': 0, 'c 1:5 rwm': 0, 'c 2:5 r': 0 });
  // an allow then a partial deny of the same device: r stays
  assert.equal(verdicts([rule('c', 1, 3, 'rwm', true), rule('c', 1, 3, 'wm', false)], ['c 1:3 r', 'c 1:3 w', 'c 1:3 rw']), { 'c 1:3 r': 1, 'c 1:3 w': 0, 'c 1:3 rw': 0 });
  // default allow, then deny every block device of major 8 for writes: an O_RDWR open is refused too (v1's
  // match_exception_partial; runc's v2 program would let it through)
  assert.equal(verdicts([rule('a', -1, -1, 'rwm', true), rule('b', 8, -1, 'w', false)], ['b 8:3 r', 'b 8:3 w', 'b 8:3 rw', 'b 9:0 w']),
    { 'b 8:3 r': 1, 'b 8:3 w': 0, 'b 8:3 rw': 0, 'b 9:0 w': 1 });
});

test('rule lists cgroup v1 refuses are refused on v2 too; out-of-range numbers are named', () => {
  assert.throws(() => deviceFilterProgram([rule('c', 1, -1, 'rwm', true), rule('c', 1, 3, 'rw', false)]), /cannot punch a hole in the wildcard rule c 1:\* rwm/);
  assert.throws(() => deviceFilterProgram([rule('c', 2 ** 31, 0, 'rwm', true)]), /invalid device rule major 2147483648/);
});

// ── attach / replace ──

function fakeBpf(attached: number[], opts: { hidden?: number[]; loadErr?: Error } = {}) {
  const log: string[] = [];
  let nextFd = 100, nextId = 50;
  const fdToId = new Map<number, number>();
  const bpf: BpfOps = {
    query: (fd) => { log.push(`query ${fd}`); return [...attached]; },
    getFdById: (id) => {
      if (opts.hidden?.includes(id)) throw Object.assign(new Error('bpf(BPF_PROG_GET_FD_BY_ID): operation not permitted'), { errno: 1 });
      const fd = nextFd++; fdToId.set(fd, id); log.push(`get ${id}→${fd}`); return fd;
    },
    load: (p) => {
      if (opts.loadErr) throw opts.loadErr;
      const fd = nextFd++; fdToId.set(fd, nextId++); log.push(`load ${p.length / 8} insns→${fd}`); return fd;
    },
    attach: (_d, fd) => { attached.push(fdToId.get(fd)!); log.push(`attach ${fd}`); },
    detach: (_d, fd) => { attached.splice(attached.indexOf(fdToId.get(fd)!), 1); log.push(`detach ${fd}`); },
    close: (fd) => { if (fd >= 100) log.push(`close ${fd}`); else { closeSync(fd); log.push('close dir'); } }, // the dir fd is real
  };
  return { bpf, log, attached };
}

test('setDeviceFilter: query, load, attach the new program, then detach the old; LSM-hidden programs stay', () => {
  const f = fakeBpf([7, 9], { hidden: [9] });
  setDeviceFilter('/', DEFAULTS, f.bpf);
  assert.equal(f.log.map((l) => l.replace(/^query \d+$/, 'query')), ['query', 'get 7→100', 'load 64 insns→101', 'attach 101', 'close 101', 'detach 100', 'close 100', 'close dir']);
  assert.equal(f.attached, [9, 50]);
  const fresh = fakeBpf([]);
  setDeviceFilter('/', [], fresh.bpf);
  assert.equal(fresh.attached, [50]);
  // a refused load names the verifier log; nothing was attached or detached
  const bad = fakeBpf([7], { loadErr: Object.assign(new Error('bpf(BPF_PROG_LOAD): permission denied'), { errno: 13, verifierLog: '0: R1 !read_ok' }) });
  assert.throws(() => setDeviceFilter('/', DEFAULTS, bad.bpf), (e: Error & { hint?: string }) => e.message === 'load program: permission denied' && e.hint === 'verifier log:\n0: R1 !read_ok');
  assert.equal(bad.attached, [7]);
  assert.ok(bad.log.includes('close 100') && bad.log.at(-1) === 'close dir', 'every fd closed');
  // a bad rule list fails before any syscall
  const none = fakeBpf([]);
  assert.throws(() => setDeviceFilter('/', [rule('c', 1, -1, 'rwm', true), rule('c', 1, 3, 'r', false)], none.bpf), /punch a hole/);
  assert.equal(none.log, []);
});

test('applyDeviceFilter: bpf failures are warnings only where runc skips them (unprivileged/userns, or nothing to deny)', () => {
  const denied = () => fakeBpf([], { loadErr: Object.assign(new Error('bpf(BPF_PROG_LOAD): operation not permitted'), { errno: 1 }) }).bpf;
  assert.throws(() => applyDeviceFilter('/', DEFAULTS, denied(), () => false), /^load program: operation not permitted$/);
  assert.is(applyDeviceFilter('/', DEFAULTS, denied(), () => true), 'linux.resources.devices is not enforced: load program: operation not permitted');
  assert.is(applyDeviceFilter('/', [rule('a', -1, -1, 'rwm', true)], denied(), () => false), 'linux.resources.devices is not enforced: load program: operation not permitted');
  // a rule list both drivers refuse stays an error even unprivileged
  assert.throws(() => applyDeviceFilter('/', [rule('c', 1, -1, 'rwm', true), rule('c', 1, 3, 'r', false)], denied(), () => true), /punch a hole/);
  assert.is(applyDeviceFilter('/', DEFAULTS, fakeBpf([]).bpf, () => true), undefined);
});

// ── the v2 driver ──

const V2: CgroupMounts = { v1: [], v2: '/cg2', mode: 'v2' };
const HYBRID: CgroupMounts = { v1: [{ mountpoint: '/cg/devices', controllers: ['devices'], root: '/' }], v2: '/cg2', mode: 'hybrid' };

function recordingIo(files: Record<string, string> = {}) {
  const fs = new Map(Object.entries({ '/cg2/cgroup.controllers': 'pids', '/cg2/cgroup.subtree_control': '', '/cg2/c/pids.max': 'max', ...files }));
  const filters: { dir: string; rules: readonly DeviceCgroupRule[] }[] = [];
  const writes: string[] = [];
  const io: CgroupIo = {
    read: (p) => fs.get(p),
    write: (p, v) => { if (!fs.has(p)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT', errno: -2 }); writes.push(`${p}=${v}`); fs.set(p, v); },
    setDeviceFilter: (dir, rules) => { filters.push({ dir, rules }); return undefined; },
  };
  return { io, filters, writes };
}

test('v2 driver: create attaches the filter for the config\'s rules + runc\'s defaults; update (skipDevices) leaves it', () => {
  const { io, filters, writes } = recordingIo();
  const r = fromSpec({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }], pids: { limit: 5 } });
  const { warnings } = applyResources({ unified: '/cg2/c' }, r, V2, io);
  assert.equal(warnings, []);
  assert.equal(writes, ['/cg2/cgroup.subtree_control=+pids', '/cg2/c/pids.max=5']);
  assert.is(filters.length, 1);
  assert.is(filters[0]!.dir, '/cg2/c');
  assert.equal(filters[0]!.rules, r.devices);
  assert.equal(verdicts([...filters[0]!.rules], ['c 10:229 rw', 'c 10:229 m', 'c 1:3 rw', 'c 1:1 r']), { 'c 10:229 rw': 1, 'c 10:229 m': 1, 'c 1:3 rw': 1, 'c 1:1 r': 0 });
  applyResources({ unified: '/cg2/c' }, { ...r, skipDevices: true }, V2, io);
  assert.is(filters.length, 1, 'update does not touch the device filter');
  applyResources({ unified: '/cg2/c' }, { ...r, devices: [rule('a', -1, -1, 'rwm', true)] }, V2, io);
  assert.is(filters.length, 2, 'a set with new rules replaces the program');
});

test('v2 driver: a refused rule list fails before any write; hybrid hosts use the v1 devices files, no program', () => {
  const { io, filters, writes } = recordingIo();
  assert.throws(() => applyResources({ unified: '/cg2/c' }, { pidsLimit: 5, devices: [rule('c', 1, -1, 'rwm', true), rule('c', 1, 3, 'w', false)] }, V2, io), /punch a hole/);
  assert.equal([writes, filters], [[], []]);
  const h = recordingIo({ '/cg/devices/c/devices.list': 'a *:* rwm', '/cg/devices/c/devices.allow': '', '/cg/devices/c/devices.deny': '' });
  assert.throws(() => applyResources({ devices: '/cg/devices/c', unified: '/cg2/c' }, fromSpec({}), HYBRID, h.io), /resulting devices cgroup|cannot read devices.list back/);
  assert.ok(h.writes[0]!.startsWith('/cg/devices/c/devices.deny=a *:* rwm'), 'the v1 emulator path ran');
  assert.equal(h.filters, []);
});

test.run();
