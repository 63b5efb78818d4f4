// steps.ts / protocol.ts ↔ src/executor/proto.h: names, codes, signatures and constants must agree both ways.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MOUNT_OPT, PLAN_MAGIC, PLAN_MAX_BYTES, PLAN_MAX_FDS, PLAN_MAX_STEPS, PLAN_VERSION, STEP_CODE, STEP_FLAG,
  SYNC_TOKEN, stepSignature, type StepKind } from './steps.js';
import { MSG, PROTO_VERSION, RESUME_MAX } from './protocol.js';
import { STR_MAX, STRV_MAX } from './encode.js';

// dist/src/plan/x.test.js → the repository root is three levels up.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const proto = readFileSync(join(root, 'src/executor/proto.h'), 'utf8');

/** X(NAME, code, "ts", "sig") lines of STEP_LIST. */
const listed = [...proto.matchAll(/^\s*X\(\s*(\w+)\s*,\s*(\d+)\s*,\s*"(\w+)"\s*,\s*"([a-zA-Z]*)"\s*\)/gm)]
  .map((m) => ({ cname: m[1]!, code: Number(m[2]), ts: m[3]!, sig: m[4]! }));

/** `#define NAME value` and `NAME = value,` (enum) as numbers; (4u * 1024u * 1024u) style products too. */
function cConst(name: string): number {
  const def = new RegExp(`^#define\\s+${name}\\s+(.+?)\\s*(?:/\\*.*)?$`, 'm').exec(proto);
  const en = new RegExp(`^\\s*${name}\\s*=\\s*(\\w+)\\s*,?\\s*(?:/\\*.*)?$`, 'm').exec(proto);
  const expr = (def?.[1] ?? en?.[1])?.trim();
  if (expr === undefined) throw new Error(`${name} not found in proto.h`);
  if (/^"/.test(expr)) throw new Error(`${name} is a string`);
  const clean = expr.replace(/[()]/g, '').replace(/(\d)u\b/g, '$1');
  if (!/^[\dx*+ a-fA-F]+$/.test(clean)) throw new Error(`${name}: cannot evaluate ${expr}`);
  return clean.split('*').map((t) => Number(t.trim())).reduce((a, b) => a * b, 1);
}

test('STEP_LIST parses and is not empty', () => {
  assert.ok(listed.length >= 40, `only ${listed.length} X() entries found`);
});

test('every TS kind is in proto.h with the same code and signature', () => {
  for (const [kind, code] of Object.entries(STEP_CODE)) {
    const c = listed.find((x) => x.ts === kind);
    assert.ok(c, `${kind} missing from proto.h STEP_LIST`);
    assert.is(c.code, code, `${kind}: code`);
    assert.is(c.sig, stepSignature(kind as StepKind), `${kind}: signature`);
  }
});

test('every proto.h kind is in STEP_CODE', () => {
  for (const c of listed) assert.ok(c.ts in STEP_CODE, `${c.cname} (${c.ts}) missing from STEP_CODE`);
  assert.is(new Set(listed.map((c) => c.code)).size, listed.length, 'codes are unique');
  assert.ok(listed.every((c) => c.code > 0 && c.code < cConst('STEP_KIND_MAX')), 'codes below STEP_KIND_MAX');
});

test('field counts fit struct step (executor.h STEP_MAX_*)', () => {
  const h = readFileSync(join(root, 'src/executor/executor.h'), 'utf8');
  const max = (t: string) => Number(new RegExp(`#define STEP_MAX_${t}\\s+(\\d+)`).exec(h)![1]);
  for (const c of listed) {
    const count = (ch: string) => [...c.sig].filter((x) => x === ch).length;
    assert.ok(count('s') <= max('S') && count('u') <= max('U') && count('f') <= max('F') && count('v') <= max('V'), c.ts);
    assert.ok(count('U') <= 1 && count('b') <= 1, `${c.ts}: at most one U and one b`);
  }
});

test('message types', () => {
  for (const [name, v] of Object.entries(MSG)) assert.is(cConst(`MSG_${name}`), v, `MSG_${name}`);
  const cMsgs = [...proto.matchAll(/^\s*MSG_(\w+)\s*=/gm)].map((m) => m[1]!);
  assert.equal(cMsgs.sort(), Object.keys(MSG).sort(), 'the same set of messages');
});

test('versions, limits, flags, mount opts, sync tokens', () => {
  assert.is(cConst('PROTO_VERSION'), PROTO_VERSION);
  assert.is(cConst('PLAN_VERSION'), PLAN_VERSION);
  assert.match(proto, new RegExp(`#define PLAN_MAGIC\\s+"${PLAN_MAGIC}"`));
  assert.is(cConst('PLAN_MAX_BYTES'), PLAN_MAX_BYTES);
  assert.is(cConst('PLAN_MAX_STEPS'), PLAN_MAX_STEPS);
  assert.is(cConst('PLAN_MAX_FDS'), PLAN_MAX_FDS);
  assert.is(cConst('RESUME_MAX'), RESUME_MAX);
  assert.is(cConst('STR_MAX'), STR_MAX);
  assert.is(cConst('STRV_MAX'), STRV_MAX);
  assert.is(cConst('STEP_F_OK_ENOENT'), STEP_FLAG.OK_ENOENT);
  assert.is(cConst('STEP_F_SKIP_SETGROUPS'), STEP_FLAG.SKIP_SETGROUPS);
  assert.is(cConst('STEP_F_NO_DEV_CONSOLE'), STEP_FLAG.NO_DEV_CONSOLE);
  assert.is(cConst('STEP_F_SECOND_STATE'), STEP_FLAG.SECOND_STATE);
  assert.is(cConst('STEP_F_KNOWN'), Object.values(STEP_FLAG).reduce((a, b) => a | b, 0));
  assert.is(cConst('MOUNT_OPT_MKDIR'), Number(MOUNT_OPT.MKDIR));
  assert.is(cConst('MOUNT_OPT_MKFILE'), Number(MOUNT_OPT.MKFILE));
  assert.is(cConst('MOUNT_OPT_BIND_FD'), Number(MOUNT_OPT.BIND_FD));
  assert.is(cConst('MOUNT_OPT_TARGET_MUST_BE_DIR'), Number(MOUNT_OPT.TARGET_MUST_BE_DIR));
  assert.is(cConst('MOUNT_OPT_COPYUP'), Number(MOUNT_OPT.COPYUP));
  assert.is(cConst('SYNC_TOKEN_IDMAP'), Number(SYNC_TOKEN.idmap));
  assert.is(cConst('SYNC_TOKEN_HOOKS'), Number(SYNC_TOKEN.hooks));
  assert.is(cConst('SYNC_TOKEN_START'), Number(SYNC_TOKEN.start));
  assert.is(cConst('SYNC_TOKEN_SECCOMP'), Number(SYNC_TOKEN.seccomp));
});

test.run();
