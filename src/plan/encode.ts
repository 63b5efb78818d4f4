/**
 * Plan → bytes, driven by STEP_FIELDS (steps.ts). The executor's decoder (src/executor/plan.c) reads the same
 * grammar and rejects anything else, so this encoder refuses early, with the step and field named, whatever the
 * decoder would reject: NUL inside a string, a string above STR_MAX, an fd index outside the table, a u64 out of
 * range, unknown flag bits.
 *
 *   plan := "TSRP" u16:PLAN_VERSION u16:flags(0) u32:nfds u32:nslots u32:nsteps step{nsteps}   (ARCHITECTURE.md)
 *   step := u16:kind u16:flags u32:body_len str:label field*        (fields in STEP_FIELDS order)
 *   s = u32 len · UTF-8 bytes · NUL      u = u64      f = u32 fd-table index
 *   v = u32 count · s*                   U = u32 count · u64*      b = u32 len · bytes
 *
 * u64 fields are bigints (plain non-negative safe integers are accepted too). A negative value, such as a nice
 * level, must be passed as its two's complement: BigInt.asUintN(64, -5n).
 */
import { TsrunError } from '../errors.js';
import {
  PLAN_MAGIC, PLAN_MAX_BYTES, PLAN_MAX_FDS, PLAN_MAX_STEPS, PLAN_VERSION, STEP_CODE, STEP_FIELDS, STEP_FLAG,
  type Plan, type Step,
} from './steps.js';

/** proto.h STR_MAX / STRV_MAX, and the decoder's caps on U (NGROUPS_MAX) and seccomp programs (BPF_MAXINSNS). */
export const STR_MAX = 64 * 1024;
export const STRV_MAX = 4096;
export const GROUPS_MAX = 65536;
export const BPF_INSNS_MAX = 4096;
const U64_MAX = (1n << 64n) - 1n;
const KNOWN_FLAGS = Object.values(STEP_FLAG).reduce((a, b) => a | b, 0);

export class PlanEncodeError extends TsrunError {
  constructor(message: string) {
    super('ERR_TSRUN_PLAN_ENCODE', `plan: ${message}`, { hint: 'this is a bug in tsrun\'s plan compiler' });
  }
}

/**
 * A growable little-endian writer. Plain Buffer writes with no per-field allocation: create runs this once, cold
 * (V8's interpreter), so every call counts — a Buffer.from per string made the first encode ≈ 2 ms.
 */
class Writer {
  buf = Buffer.allocUnsafe(8192);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  u16(v: number): void { this.room(2); this.buf.writeUInt16LE(v, this.n); this.n += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v, this.n); this.n += 4; }
  u64(v: bigint): void { this.room(8); this.buf.writeBigUInt64LE(v, this.n); this.n += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.n); this.n += b.length; }
  /** u32 length · the UTF-8 bytes · NUL (the caller checked the length). */
  str(v: string, len: number): void {
    this.room(len + 5);
    this.buf.writeUInt32LE(len, this.n);
    this.n += 4 + this.buf.write(v, this.n + 4, len, 'utf8');
    this.buf[this.n++] = 0;
  }
  done(): Buffer { return this.buf.subarray(0, this.n); }
}

interface Ctx { nfds: number; ntable: number; index: number; step: Step }

function fail(c: Ctx, field: string, why: string): never {
  throw new PlanEncodeError(`step ${c.index} (${c.step.kind} "${c.step.label}"), ${field}: ${why}`);
}

function str(w: Writer, c: Ctx, field: string, v: unknown): void {
  if (typeof v !== 'string') fail(c, field, `expected a string, got ${typeof v}`);
  if (v.includes('\0')) fail(c, field, 'contains a NUL byte');
  const len = Buffer.byteLength(v, 'utf8');
  if (len > STR_MAX) fail(c, field, `${len} bytes, above ${STR_MAX}`);
  w.str(v, len);
}

function u64(c: Ctx, field: string, v: unknown): bigint {
  const x = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof x !== 'bigint') fail(c, field, `expected a bigint, got ${typeof v}`);
  if (x < 0n || x > U64_MAX) fail(c, field, `${x} is outside u64 (negative values: BigInt.asUintN(64, v))`);
  return x;
}

function field(w: Writer, c: Ctx, name: string, type: string, v: unknown): void {
  switch (type) {
    case 's':
      return str(w, c, name, v);
    case 'u':
      return w.u64(u64(c, name, v));
    case 'f': {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= c.ntable) {
        fail(c, name, `fd index ${String(v)} outside the table (${c.nfds} passed + ${c.ntable - c.nfds} slots)`);
      }
      return w.u32(v);
    }
    case 'v': {
      if (!Array.isArray(v)) fail(c, name, 'expected an array of strings');
      if (v.length > STRV_MAX) fail(c, name, `${v.length} entries, above ${STRV_MAX}`);
      w.u32(v.length);
      v.forEach((s, i) => str(w, c, `${name}[${i}]`, s));
      return;
    }
    case 'U': {
      if (!Array.isArray(v)) fail(c, name, 'expected an array of bigints');
      if (v.length > GROUPS_MAX) fail(c, name, `${v.length} entries, above ${GROUPS_MAX}`);
      w.u32(v.length);
      v.forEach((x, i) => w.u64(u64(c, `${name}[${i}]`, x)));
      return;
    }
    case 'b': {
      if (!(v instanceof Uint8Array)) fail(c, name, 'expected a Uint8Array');
      w.u32(v.length);
      w.bytes(v);
      return;
    }
    default:
      fail(c, name, `unknown field type ${type}`);
  }
}

/** The semantic checks of plan.c's check(), so that a compiler bug is caught here with names, not as a REJECT. */
function check(c: Ctx): void {
  const s = c.step as Step & Record<string, unknown>;
  switch (s.kind) {
    case 'fork': if ((s.mode as bigint) > 2n) fail(c, 'mode', 'must be 0, 1 or 2'); break;
    case 'logTo': if ((s.format as bigint) > 1n) fail(c, 'format', 'must be 0 (text) or 1 (json)'); break;
    case 'mkfifo': {
      const slot = s.slot as bigint;
      if (slot < BigInt(c.nfds) || slot >= BigInt(c.ntable)) fail(c, 'slot', `${slot} is not a slot index (${c.nfds}…${c.ntable - 1})`);
      break;
    }
    case 'sync': if ((s.token as bigint) > 0xffffffffn) fail(c, 'token', 'above u32'); break;
    case 'seccomp': {
      const n = (s.program as Uint8Array).length;
      if (n === 0 || n % 8 || n / 8 > BPF_INSNS_MAX) fail(c, 'program', `${n} bytes: not 1…${BPF_INSNS_MAX} sock_filter entries`);
      break;
    }
    case 'cpuAffinity': if ((s.mask as Uint8Array).length === 0) fail(c, 'mask', 'empty'); break;
    case 'exec': case 'hook':
      if ((s.argv as string[]).length === 0) fail(c, 'argv', 'empty');
      if (s.kind === 'exec' && (s.keepFds as bigint) > 0x7fffffffn) fail(c, 'keepFds', 'above 2^31-1');
      break;
  }
}

function encodeStep(w: Writer, c: Ctx): void {
  const s = c.step;
  const code = (STEP_CODE as Record<string, number>)[s.kind];
  if (code === undefined) fail(c, 'kind', 'unknown step kind');
  const flags = s.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff || flags & ~KNOWN_FLAGS) fail(c, 'flags', `unknown bits in ${flags}`);
  if (flags & STEP_FLAG.SKIP_SETGROUPS && s.kind !== 'user') fail(c, 'flags', 'SKIP_SETGROUPS is for `user` only');
  if (flags & STEP_FLAG.NO_DEV_CONSOLE && s.kind !== 'console') fail(c, 'flags', 'NO_DEV_CONSOLE is for `console` only');
  w.u16(code);
  w.u16(flags);
  const lenAt = w.n;
  w.u32(0);
  str(w, c, 'label', s.label);
  for (const [name, type] of STEP_FIELDS[s.kind]) field(w, c, name, type, (s as unknown as Record<string, unknown>)[name]);
  check(c);
  w.buf.writeUInt32LE(w.n - lenAt - 4, lenAt);
}

/** Encodes a plan. nfds is the number of passed fds (Plan.fds.length); slots follow them in the table. */
export function encodePlan(plan: Pick<Plan, 'steps' | 'slots'> & { fds: readonly unknown[] }): Buffer {
  const nfds = plan.fds.length;
  if (plan.steps.length > PLAN_MAX_STEPS) throw new PlanEncodeError(`${plan.steps.length} steps, above ${PLAN_MAX_STEPS}`);
  if (!Number.isInteger(plan.slots) || plan.slots < 0 || nfds + plan.slots > PLAN_MAX_FDS) {
    throw new PlanEncodeError(`fd table of ${nfds} fds + ${plan.slots} slots, above ${PLAN_MAX_FDS}`);
  }
  const w = new Writer();
  w.bytes(Buffer.from(PLAN_MAGIC, 'latin1'));
  w.u16(PLAN_VERSION);
  w.u16(0);
  w.u32(nfds);  // the executor checks it against the nfds on its command line
  w.u32(plan.slots);
  w.u32(plan.steps.length);
  plan.steps.forEach((step, index) => encodeStep(w, { nfds, ntable: nfds + plan.slots, index, step }));
  if (w.n > PLAN_MAX_BYTES) throw new PlanEncodeError(`${w.n} bytes, above ${PLAN_MAX_BYTES}`);
  return w.done();
}
