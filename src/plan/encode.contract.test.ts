// encode.ts ↔ the executor's decoder (src/executor/plan.c, through dist/libexec/tests/plan-dump): a plan encoded
// in TypeScript must decode in C to exactly what TypeScript meant. Both sides print the same canonical text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePlan } from './encode.js';
import { STEP_CODE, STEP_FIELDS, STEP_FLAG, type Plan, type Step, type StepKind } from './steps.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const tests = join(root, 'dist/libexec/tests');
const dump = join(tests, 'plan-dump');
if (!existsSync(dump)) execFileSync(process.execPath, [join(root, 'hack/build-executor.mjs'), '--tests'], { stdio: 'inherit' });
const tmp = mkdtempSync(join(tmpdir(), 'tsrun-contract-'));
const corpus = join(tests, 'corpus');
mkdirSync(corpus, { recursive: true });

type P = Pick<Plan, 'slots' | 'steps'> & { fds: unknown[] };

/** The canonical text of plan-dump.c, computed from the TypeScript plan. */
function canonical(plan: P): string {
  const esc = (s: string) => '"' + [...Buffer.from(s, 'utf8')]
    .map((c) => (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c)))
    .join('') + '"';
  const lines = [`plan nfds=${plan.fds.length} nslots=${plan.slots} nsteps=${plan.steps.length}`];
  plan.steps.forEach((s, i) => {
    lines.push(`${i} ${s.kind} flags=${s.flags ?? 0} label=${esc(s.label)}`);
    for (const [name, t] of STEP_FIELDS[s.kind]) {
      const v = (s as unknown as Record<string, unknown>)[name];
      switch (t) {
        case 's': lines.push(`  s ${esc(v as string)}`); break;
        case 'u': lines.push(`  u ${BigInt(v as bigint)}`); break;
        case 'f': lines.push(`  f ${v as number}`); break;
        case 'v': lines.push(`  v ${(v as string[]).length}${(v as string[]).map((x) => ' ' + esc(x)).join('')}`); break;
        case 'U': lines.push(`  U ${(v as bigint[]).length}${(v as bigint[]).map((x) => ' ' + x).join('')}`); break;
        case 'b': {
          const b = Buffer.from(v as Uint8Array);
          lines.push(`  b ${b.length}${b.length ? ' ' + b.toString('hex') : ''}`);
          break;
        }
      }
    }
  });
  return lines.join('\n') + '\n';
}

function runDump(name: string, bytes: Buffer, nfds: number): { status: number | null; out: string } {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  writeFileSync(join(corpus, `ts-${name}`), bytes);  // seeds the fuzz corpus (fuzz/fuzz-plan.c replays it)
  const r = spawnSync(dump, [file, String(nfds)], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout };
}

const STRINGS = ['', 'plain', 'quote " and \\ backslash', 'line\nfeed\ttab', 'ünïcödé ✓', '/proc/sys/net/ipv4/ip_forward'];
const U64S = [0n, 1n, 0x7fn, 0xffff_ffffn, 0x1_0000_0000n, 2n ** 64n - 1n];

/** One step of each kind, with values that exercise the encoding (valid for the decoder's semantic checks). */
function sample(kind: StepKind, i: number, nfds: number, slots: number): Step {
  const s: Record<string, unknown> = { kind, label: `${kind} #${i} ${STRINGS[i % STRINGS.length]}` };
  STEP_FIELDS[kind].forEach(([name, t], j) => {
    const k = i + j;
    s[name] = t === 's' ? STRINGS[k % STRINGS.length]
      : t === 'u' ? U64S[k % U64S.length]
      : t === 'f' ? k % (nfds + slots)
      : t === 'v' ? STRINGS.slice(0, 1 + (k % STRINGS.length))
      : t === 'U' ? U64S.slice(0, k % U64S.length)
      : Uint8Array.from({ length: 8 * (1 + (k % 3)) }, (_, x) => (x * 37 + k) & 0xff);
  });
  const fix: Partial<Record<StepKind, Record<string, unknown>>> = {
    fork: { mode: BigInt(i % 3) }, logTo: { format: BigInt(i % 2) }, sync: { token: 3n }, mkfifo: { slot: BigInt(nfds) },
    idmapTree: { slot: BigInt(nfds), recursive: 3n }, cloneTree: { slot: BigInt(nfds), recursive: 1n }, sessionKeyring: { permSet: 0x80000n },
    // values the decoder range-checks (int-sized flags, small ranges)
    unshare: { cloneFlags: BigInt(0x20000 + i) }, setns: { nstype: BigInt(i) }, rlimit: { resource: BigInt(i % 16) },
    personality: { persona: BigInt(i) }, ioPriority: { ioClass: BigInt(i % 8), level: BigInt((i + 1) % 8) }, pivotRoot: { mode: BigInt(i % 3) },
    user: { flags: STEP_FLAG.SKIP_SETGROUPS }, exec: { keepFds: BigInt(i % 5) }, mask: { flags: STEP_FLAG.OK_ENOENT },
  };
  return { ...s, ...fix[kind] } as unknown as Step;
}

const kinds = Object.keys(STEP_CODE) as StepKind[];

test('every kind, decoded by C exactly as TypeScript meant it', () => {
  const plan: P = { fds: [1, 2, 3], slots: 2, steps: kinds.map((k, i) => sample(k, i, 3, 2)) };
  const { status, out } = runDump('every-kind', encodePlan(plan), 3);
  assert.is(status, 0, out);
  assert.fixture(out, canonical(plan));
});

test('the same kinds with other values (shifted samples)', () => {
  for (let shift = 1; shift < 6; shift++) {
    const plan: P = { fds: [1], slots: 1, steps: kinds.map((k, i) => sample(k, i + shift, 1, 1)) };
    const { status, out } = runDump(`shift-${shift}`, encodePlan(plan), 1);
    assert.is(status, 0, out);
    assert.fixture(out, canonical(plan));
  }
});

test('an empty plan and a large one', () => {
  const empty: P = { fds: [], slots: 0, steps: [] };
  assert.fixture(runDump('empty', encodePlan(empty), 0).out, canonical(empty));
  const big: P = { fds: [], slots: 0, steps: Array.from({ length: 2000 }, (_, i) => ({ kind: 'hostname', label: `h${i}`, name: 'x'.repeat(i % 300) })) };
  writeFileSync(join(tmp, 'big'), encodePlan(big));
  const r = spawnSync(dump, [join(tmp, 'big'), '0'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.is(r.status, 0);
  assert.ok(r.stdout === canonical(big), 'large plan matches');
});

test('the C decoder rejects what the encoder would never produce', () => {
  const good = encodePlan({ fds: [1], slots: 0, steps: [{ kind: 'hostname', label: 'h', name: 'abc' }] });
  const cut = runDump('truncated', good.subarray(0, good.length - 1), 1);
  assert.is(cut.status, 1);
  assert.match(cut.out, /^reject step=0 offset=\d+ reason=length beyond what is left/);
  const range = Buffer.from(encodePlan({ fds: [1], slots: 0, steps: [{ kind: 'cgroupJoin', label: 'c', procs: 0 }] }));
  range.writeUInt32LE(1, range.length - 4);  // the fd index: 1 is outside a one-entry table
  assert.match(runDump('fd-range', range, 1).out, /^reject step=0 offset=\d+ reason=fd index out of range/);
  const trailing = runDump('trailing', Buffer.concat([good, Buffer.from([0])]), 1);
  assert.match(trailing.out, /^reject step=header offset=\d+ reason=trailing bytes after the last step/);
  const kind = Buffer.from(good);
  kind.writeUInt16LE(49, 20);
  assert.match(runDump('kind49', kind, 1).out, /^reject step=0 offset=20 reason=unknown step kind/);
  assert.match(runDump('nfds', good, 2).out, /^reject step=header offset=8 reason=the plan's fd count differs/);
});

test('the fuzz replayer accepts the whole corpus (no crash, ASan clean)', () => {
  const fuzz = join(tests, 'fuzz-plan');
  const files = readdirSync(corpus).map((f) => join(corpus, f));
  const r = spawnSync(fuzz, files, { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
