// encode.ts (plan bytes) and protocol.ts (frames, messages): byte-exact layouts and every refusal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePlan, PlanEncodeError, STR_MAX } from './encode.js';
import { STEP_FLAG, type Step } from './steps.js';
import { decodeMessage, encodeFrame, encodeResume, FrameReader, MSG, ProtocolError, PROTO_VERSION } from './protocol.js';

const plan = (steps: Step[], nfds = 0, slots = 0) => encodePlan({ fds: new Array(nfds).fill(null), slots, steps });
const throwsEncode = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof PlanEncodeError && re.test((e as Error).message));

test('header: magic, version, flags, nfds, nslots, nsteps', () => {
  const b = plan([{ kind: 'ready', label: '' }], 2, 1);
  assert.is(b.length, 20 + 8 + 5);
  assert.is(b.toString('latin1', 0, 4), 'TSRP');
  assert.is(b.readUInt16LE(4), 1);
  assert.is(b.readUInt16LE(6), 0);
  assert.is(b.readUInt32LE(8), 2);
  assert.is(b.readUInt32LE(12), 1);
  assert.is(b.readUInt32LE(16), 1);
});

test('a step, byte for byte', () => {
  const b = plan([{ kind: 'setns', label: 'ns', ns: 1, nstype: 0x20000n, flags: STEP_FLAG.OK_ENOENT }], 2);
  const s = b.subarray(20);
  assert.equal([...s], [
    3, 0, 1, 0, 19, 0, 0, 0,           // kind 3, flags 1, body_len 19
    2, 0, 0, 0, 0x6e, 0x73, 0,         // label "ns"
    1, 0, 0, 0,                        // f 1
    0, 0, 2, 0, 0, 0, 0, 0,            // u 0x20000
  ]);
});

test('strv, u64 array, bytes, utf-8 strings', () => {
  const b = plan([
    { kind: 'resolve', label: 'r', name: 'é', searchPath: ['/a', ''] },
    { kind: 'user', label: 'u', uid: 1n, gid: 2n, groups: [3n, 2n ** 64n - 1n] },
    { kind: 'cpuAffinity', label: 'c', mask: new Uint8Array([1, 2, 3]) },
  ]);
  const r = b.subarray(20);
  assert.is(r.readUInt32LE(4), 6 + 7 + 4 + 7 + 5);
  assert.equal([...r.subarray(14, 21)], [2, 0, 0, 0, 0xc3, 0xa9, 0]);  // "é" is 2 UTF-8 bytes
  assert.is(r.readUInt32LE(21), 2);
  const u = r.subarray(8 + r.readUInt32LE(4));
  assert.is(u.readUInt32LE(8 + 6 + 16), 2);
  assert.is(u.readBigUInt64LE(8 + 6 + 16 + 4 + 8), 2n ** 64n - 1n);
  assert.equal([...b.subarray(b.length - 7)], [3, 0, 0, 0, 1, 2, 3]);
});

test('numbers are accepted for u64 when they are safe non-negative integers', () => {
  const b = plan([{ kind: 'umask', label: 'm', mask: 0o22 as unknown as bigint }]);
  assert.is(b.readBigUInt64LE(b.length - 8), 0o22n);
});

test('refusals name the step and field', () => {
  throwsEncode(() => plan([{ kind: 'hostname', label: 'h', name: 'a\0b' }]), /step 0 \(hostname "h"\), name: contains a NUL/);
  throwsEncode(() => plan([{ kind: 'hostname', label: 'h', name: 'x'.repeat(STR_MAX + 1) }]), /above 65536/);
  throwsEncode(() => plan([{ kind: 'hostname', label: 'h\0', name: 'x' }]), /label: contains a NUL/);
  throwsEncode(() => plan([{ kind: 'cgroupJoin', label: 'c', procs: 2 }], 2), /fd index 2 outside the table/);
  throwsEncode(() => plan([{ kind: 'cgroupJoin', label: 'c', procs: -1 }], 2), /fd index -1/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: -1n }]), /outside u64/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: 2n ** 64n }]), /outside u64/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: 1.5 as unknown as bigint }]), /expected a bigint/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: 0n, flags: 0x80 }]), /unknown bits/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: 0n, flags: STEP_FLAG.NO_DEV_CONSOLE }]), /for `console` only/);
  throwsEncode(() => plan([{ kind: 'umask', label: 'm', mask: 0n, flags: STEP_FLAG.SKIP_SETGROUPS }]), /for `user` only/);
  throwsEncode(() => plan([{ kind: 'fork', label: 'f', mode: 3n }]), /mode: must be 0, 1 or 2/);
  throwsEncode(() => plan([{ kind: 'seccomp', label: 's', filterFlags: 0n, program: new Uint8Array(12) }]), /program: 12 bytes/);
  throwsEncode(() => plan([{ kind: 'exec', label: 'e', path: '/x', argv: [], envp: [], keepFds: 3n }]), /argv: empty/);
  throwsEncode(() => plan([{ kind: 'mkfifo', label: 'm', dir: 0, name: 'f', mode: 0o622n, uid: 0n, gid: 0n, slot: 0n }], 1, 1),
    /slot: 0 is not a slot index \(1…1\)/);
  throwsEncode(() => plan([{ kind: 'nope', label: 'x' } as unknown as Step]), /unknown step kind/);
  throwsEncode(() => encodePlan({ fds: new Array(60).fill(null), slots: 5, steps: [] }), /fd table of 60 fds \+ 5 slots/);
});

test('frames: header and RESUME', () => {
  const f = encodeFrame(MSG.PLAN, Buffer.from('abc'));
  assert.equal([...f], [3, 0, 0, 0, 1, 0, PROTO_VERSION, 0, 0x61, 0x62, 0x63]);
  const r = encodeResume(5, Buffer.from('{}'));
  assert.equal([...r], [6, 0, 0, 0, 2, 0, 1, 0, 5, 0, 0, 0, 0x7b, 0x7d]);
  assert.throws(() => encodeResume(1, Buffer.alloc(64 * 1024 + 1)), (e: unknown) => e instanceof ProtocolError);
});

const str = (s: string) => Buffer.concat([Buffer.from(Uint32Array.of(Buffer.byteLength(s)).buffer), Buffer.from(s), Buffer.from([0])]);

test('FrameReader: frames split and joined arbitrarily', () => {
  const failed = Buffer.concat([Buffer.from([7, 0, 0, 0, 52, 0, 0, 0, 13, 0, 0, 0]), str('exec'), str('/bin/x')]);
  const stream = Buffer.concat([encodeFrame(MSG.FORKED, Buffer.from([1, 2, 0, 0])), encodeFrame(MSG.READY), encodeFrame(MSG.FAILED, failed)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const rd = new FrameReader();
    const got = [...rd.push(stream.subarray(0, cut)), ...rd.push(stream.subarray(cut))].map((f) => decodeMessage(f.type, f.payload));
    assert.equal(got, [
      { type: 'forked', pid: 513 },
      { type: 'ready' },
      { type: 'failed', step: 7, kind: 52, errno: 13, op: 'exec', path: '/bin/x' },
    ]);
    assert.is(rd.pending, 0);
  }
});

test('decodeMessage is strict', () => {
  const reject = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0]), str('bad magic')]);
  assert.equal(decodeMessage(MSG.REJECT, reject), { type: 'reject', step: -1, offset: 3, reason: 'bad magic' });
  assert.throws(() => decodeMessage(MSG.REJECT, Buffer.concat([reject, Buffer.from([0])])), /REJECT frame of/);
  assert.throws(() => decodeMessage(MSG.READY, Buffer.from([0])), /READY frame of 1 bytes/);
  assert.throws(() => decodeMessage(MSG.SYNC, Buffer.alloc(7)), (e: unknown) => e instanceof ProtocolError);
  assert.throws(() => decodeMessage(99, Buffer.alloc(0)), /unknown frame type 99/);
  const noNul = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61, 0x62]);
  assert.throws(() => decodeMessage(MSG.REJECT, noNul), /bad string/);
  assert.throws(() => new FrameReader().push(Buffer.from([0, 0, 0, 0, 20, 0, 2, 0])), /protocol 2, tsrun expects 1/);
  assert.throws(() => new FrameReader().push(Buffer.from([0, 0, 1, 0, 20, 0, 1, 0])), /above/);
});

test.run();
