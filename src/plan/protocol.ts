/**
 * The control-stream protocol between tsrun and tsrun-executor (mirrors src/executor/proto.h; the mirror test
 * compares the constants). The stream is the SOCK_STREAM socketpair libuv makes for a 'pipe' stdio entry, so
 * frames carry their own length:
 *
 *     u32 len (payload bytes) · u16 type · u16 version (PROTO_VERSION) · payload        little-endian
 *
 * Payloads (str = u32 len · bytes · NUL, as in plans):
 *     PLAN    P→E  plan bytes (encode.ts)                 REJECT  E→P  u32 step · u32 offset · str reason
 *     RESUME  P→E  u32 step · payload (state JSON)        FAILED  E→P  u32 step · u16 kind · u16 0 · i32 errno · str op · str path
 *     ABORT   P→E  empty                                  SYNC    E→P  u32 step · u32 token
 *                                                         FORKED  E→P  u32 pid      READY  E→P  empty
 * A step of 0xffffffff in REJECT means the plan header; in FAILED, the prologue (sealing, fd checks). Decoded
 * messages carry -1 for it.
 */
import { TsrunError } from '../errors.js';
import { PLAN_MAX_BYTES } from './steps.js';

export const PROTO_VERSION = 1;
export const MSG = {
  PLAN: 1, RESUME: 2, ABORT: 3,
  REJECT: 16, FAILED: 17, SYNC: 18, FORKED: 19, READY: 20,
} as const;
export const FRAME_HEADER = 8;
export const FRAME_MAX = PLAN_MAX_BYTES + 64;
export const RESUME_MAX = 64 * 1024;
export const STEP_NONE = 0xffffffff;
/** Bound on what the executor may send us: a FAILED frame with a 4 KiB path is the largest. */
const FROM_EXECUTOR_MAX = 16 * 1024;

export type ExecutorMessage =
  | { type: 'reject'; step: number; offset: number; reason: string }
  | { type: 'failed'; step: number; kind: number; errno: number; op: string; path: string }
  | { type: 'sync'; step: number; token: number }
  | { type: 'forked'; pid: number }
  | { type: 'ready' };

export class ProtocolError extends TsrunError {
  constructor(message: string) {
    super('ERR_TSRUN_EXECUTOR_PROTOCOL', `executor protocol: ${message}`, {
      hint: 'tsrun and its executor come from the same build; rebuild both with `npm run build`',
    });
  }
}

export function encodeFrame(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > FRAME_MAX) throw new ProtocolError(`frame of ${payload.length} bytes is above ${FRAME_MAX}`);
  const b = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  b.writeUInt32LE(payload.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(PROTO_VERSION, 6);
  b.set(payload, FRAME_HEADER);
  return b;
}

export const encodePlanFrame = (plan: Uint8Array): Buffer => encodeFrame(MSG.PLAN, plan);
export const encodeAbort = (): Buffer => encodeFrame(MSG.ABORT);
export function encodeResume(step: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > RESUME_MAX) throw new ProtocolError(`RESUME payload of ${payload.length} bytes is above ${RESUME_MAX}`);
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUInt32LE(step >>> 0, 0);
  b.set(payload, 4);
  return encodeFrame(MSG.RESUME, b);
}

/** Reads the protocol str at off: returns the string and the offset after its NUL. */
function readStr(p: Buffer, off: number, what: string): [string, number] {
  if (off + 4 > p.length) throw new ProtocolError(`${what}: truncated`);
  const n = p.readUInt32LE(off);
  const end = off + 4 + n;
  if (end + 1 > p.length || p[end] !== 0) throw new ProtocolError(`${what}: bad string`);
  return [p.toString('utf8', off + 4, end), end + 1];
}

const stepOf = (v: number): number => (v === STEP_NONE ? -1 : v);

/** Decodes one executor → parent frame payload. Strict: sizes must match exactly. */
export function decodeMessage(type: number, p: Buffer): ExecutorMessage {
  const exact = (n: number, name: string) => {
    if (p.length !== n) throw new ProtocolError(`${name} frame of ${p.length} bytes, expected ${n}`);
  };
  switch (type) {
    case MSG.READY:
      exact(0, 'READY');
      return { type: 'ready' };
    case MSG.FORKED:
      exact(4, 'FORKED');
      return { type: 'forked', pid: p.readUInt32LE(0) };
    case MSG.SYNC:
      exact(8, 'SYNC');
      return { type: 'sync', step: p.readUInt32LE(0), token: p.readUInt32LE(4) };
    case MSG.REJECT: {
      if (p.length < 8) throw new ProtocolError('REJECT truncated');
      const [reason, end] = readStr(p, 8, 'REJECT reason');
      exact(end, 'REJECT');
      return { type: 'reject', step: stepOf(p.readUInt32LE(0)), offset: p.readUInt32LE(4), reason };
    }
    case MSG.FAILED: {
      if (p.length < 12) throw new ProtocolError('FAILED truncated');
      const [op, next] = readStr(p, 12, 'FAILED op');
      const [path, end] = readStr(p, next, 'FAILED path');
      exact(end, 'FAILED');
      return { type: 'failed', step: stepOf(p.readUInt32LE(0)), kind: p.readUInt16LE(4), errno: p.readInt32LE(8), op, path };
    }
    default:
      throw new ProtocolError(`unknown frame type ${type}`);
  }
}

/** Splits a byte stream into frames. push() returns the complete frames so far; throws on a bad header. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly max = FROM_EXECUTOR_MAX) {}

  push(chunk: Buffer): Array<{ type: number; payload: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Array<{ type: number; payload: Buffer }> = [];
    while (this.buf.length >= FRAME_HEADER) {
      const len = this.buf.readUInt32LE(0);
      const version = this.buf.readUInt16LE(6);
      if (version !== PROTO_VERSION) {
        throw new ProtocolError(`executor speaks protocol ${version}, tsrun expects ${PROTO_VERSION}`);
      }
      if (len > this.max) throw new ProtocolError(`frame of ${len} bytes is above ${this.max}`);
      if (this.buf.length < FRAME_HEADER + len) break;
      out.push({ type: this.buf.readUInt16LE(4), payload: this.buf.subarray(FRAME_HEADER, FRAME_HEADER + len) });
      this.buf = this.buf.subarray(FRAME_HEADER + len);
    }
    return out;
  }

  /** Bytes of an incomplete frame still buffered (non-zero at EOF means the executor died mid-frame). */
  get pending(): number {
    return this.buf.length;
  }
}
