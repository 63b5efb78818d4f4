#!/usr/bin/env node
// The whole test suite: `npm test` (and .ci/run) run this. It builds, makes the busybox test bundle, then runs
//   unit tests (uvu, no root)        dist/src/**/*.test.js except *.root.test.js
//   C unit tests (TAP)               dist/libexec/tests/test-*, then the plan decoder's fuzz corpus replayed and,
//                                    with clang, fuzzed for TSRUN_FUZZ_SECONDS (default 30)
//   root integration tests (uvu)     dist/src/**/*.root.test.js           (only as root)
//   conformance (uvu)                dist/conformance/**/*.test.js        (only as root; OCI_RUNTIME picks the binary)
//   end to end (TAP)                 hack/e2e-*.sh, one after the other   (only as root; each script starts its own
//                                    private daemons and prints "1..0 # SKIP <why>" when they are not installed)
// and ends with one plain line "N passed, N failed" that CI reads.
// Flags: --unit | --root | --conformance | --e2e (only that part), --no-build. TSRUN_E2E=0 leaves the e2e part out,
// TSRUN_E2E=docker,podman runs only those scripts; TSRUN_E2E_TIMEOUT (s, default 600; a script takes < 1 min) bounds each script.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const only = ['--unit', '--root', '--conformance', '--e2e'].filter((a) => args.has(a));
const want = (part) => only.length === 0 || only.includes(part);
const isRoot = process.geteuid?.() === 0;
let passed = 0, failed = 0, skipped = 0;
const failures = [];

function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

if (!args.has('--no-build')) {
  const b = sh(process.execPath, ['hack/build.mjs', '--tests'], { stdio: 'inherit', env: { ...process.env, TSRUN_BUILD_TESTS: '1' } });
  if (b.status !== 0) { console.log('build failed\n0 passed, 1 failed'); process.exit(1); }
}

// Every part has a deadline (seconds, ≈ 10× what it takes here), so that one hung test costs minutes and a failure
// line, not CI's whole 90 minutes: the part is killed (SIGKILL), what it printed is kept and it counts as failed.
const scale = Number(process.env.TSRUN_TEST_TIMEOUT_SCALE ?? 1);
const DEADLINE = { unit: 300, tap: 120, root: 900, conformance: 600 };
function timedOut(label, r, secs) {
  if (r.error?.code !== 'ETIMEDOUT' && !(r.signal === 'SIGKILL' && r.status === null)) return false;
  console.log(`# ${label}: killed after ${secs} s (deadline; TSRUN_TEST_TIMEOUT_SCALE multiplies it)`);
  return true;
}

function uvu(label, dir, pattern, env = {}) {
  if (!existsSync(join(root, dir))) return;
  const secs = DEADLINE[label] * scale;
  const r = spawnSync(process.execPath, [join(root, 'node_modules/uvu/bin.js'), dir, pattern], {
    cwd: root, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    timeout: secs * 1000, killSignal: 'SIGKILL',
  });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (timedOut(label, r, secs)) { failed++; failures.push(label); return; }
  const total = Number(/Total:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const sk = Number(/Skipped:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  passed += ok; skipped += sk;
  // uvu's "Total" does not include skipped tests (test.skip only counts them), so failed = total - passed.
  const bad = total - ok + (r.status !== 0 && total === ok ? 1 : 0);
  failed += Math.max(bad, 0);
  if (bad > 0 || r.status !== 0) failures.push(label);
  console.log(`# ${label}: ${ok} passed, ${Math.max(bad, 0)} failed, ${sk} skipped`);
}

function tap(label, bin, argv = []) {
  const secs = DEADLINE.tap * scale;
  const r = spawnSync(bin, argv, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'], timeout: secs * 1000, killSignal: 'SIGKILL' });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (timedOut(label, r, secs)) { failed++; failures.push(label); return; }
  const ok = (r.stdout.match(/^ok /gm) ?? []).length;
  const bad = (r.stdout.match(/^not ok /gm) ?? []).length + (r.status !== 0 && !/^not ok /m.test(r.stdout) ? 1 : 0);
  passed += ok; failed += bad;
  if (bad) failures.push(label);
  console.log(`# ${label}: ${ok} passed, ${bad} failed`);
}

// The plan decoder is the executor's input boundary (security.md D11). fuzz-plan (ASan/UBSan) replays the corpus
// (test-plan's seeds and the plans encode.contract.test.ts adds); when clang is installed (hack/deps.sh installs
// it) a libFuzzer build mutates that corpus for TSRUN_FUZZ_SECONDS (default 30). A crash fails the part; its input
// is kept in the temp dir the failure line names.
function fuzz(tdir) {
  const corpus = join(tdir, 'corpus');
  if (!existsSync(corpus) || !existsSync(join(tdir, 'fuzz-plan'))) return;
  const files = readdirSync(corpus).map((f) => join(corpus, f));
  const replay = spawnSync(join(tdir, 'fuzz-plan'), files, { encoding: 'utf8', timeout: DEADLINE.tap * scale * 1000, killSignal: 'SIGKILL' });
  const okReplay = replay.status === 0;
  if (okReplay) passed++; else { failed++; failures.push('c:fuzz-plan'); process.stderr.write(replay.stderr ?? ''); }
  console.log(`# c:fuzz-plan: replayed ${files.length} corpus files: ${okReplay ? 'ok' : `FAILED (${replay.status ?? replay.signal})`}`);
  if (spawnSync('sh', ['-c', 'command -v "${FUZZ_CC:-clang}"']).status !== 0) {
    skipped++;
    console.log('# c:fuzz-plan-libfuzzer: skipped: no clang (apt-get install clang)');
    return;
  }
  const b = sh(process.execPath, ['hack/build-executor.mjs', '--fuzz']);
  const secs = Number(process.env.TSRUN_FUZZ_SECONDS ?? 30);
  const work = mkdtempSync(join(tmpdir(), 'tsrun-fuzz-'));
  cpSync(corpus, join(work, 'corpus'), { recursive: true });
  const r = b.status !== 0 ? b : spawnSync(join(tdir, 'fuzz-plan-libfuzzer'),
    [`-max_total_time=${secs}`, '-max_len=16384', '-print_final_stats=1', `-artifact_prefix=${work}/`, join(work, 'corpus')],
    { encoding: 'utf8', maxBuffer: 256 << 20, timeout: (secs + 120) * 1000, killSignal: 'SIGKILL' });
  const execs = /stat::number_of_executed_units:\s*(\d+)/.exec(r.stderr ?? '')?.[1];
  if (r.status === 0) {
    passed++;
    rmSync(work, { recursive: true, force: true });
    console.log(`# c:fuzz-plan-libfuzzer: ${execs ?? '?'} inputs in ${secs} s, no crash, leak or undefined behaviour`);
  } else {
    failed++;
    failures.push('c:fuzz-plan-libfuzzer');
    process.stderr.write((r.stderr ?? '').split('\n').filter((l) => !/^#\d+/.test(l)).join('\n'));
    console.log(`# c:fuzz-plan-libfuzzer: FAILED (${r.status ?? r.signal}); the input is in ${work}`);
  }
}

if (want('--unit')) {
  uvu('unit', 'dist/src', '(?<!\\.root)\\.test\\.js$');
  const tdir = join(root, 'dist/libexec/tests');
  if (existsSync(tdir)) {
    for (const f of readdirSync(tdir).sort()) {
      const p = join(tdir, f);
      if (!f.startsWith('test-') || !(statSync(p).mode & 0o111)) continue;
      if (f.includes('root') && !isRoot) { skipped++; continue; }
      tap(`c:${f}`, p, f === 'test-plan' ? [join(tdir, 'corpus')] : []);  // test-plan also writes the seed corpus
    }
    fuzz(tdir);
  }
}
if ((want('--root') || want('--conformance') || want('--e2e')) && isRoot && !existsSync(join(root, 'test-bundle/config.json'))) {
  const m = sh('sh', ['hack/mkbundle.sh'], { stdio: 'inherit' });
  if (m.status !== 0) { failed++; failures.push('mkbundle'); }
}
if (want('--root')) {
  if (isRoot) uvu('root', 'dist/src', '\\.root\\.test\\.js$');
  else console.log('# root integration tests skipped: not root');
}
if (want('--conformance')) {
  if (isRoot) uvu('conformance', 'dist/conformance', '\\.test\\.js$');
  else console.log('# conformance skipped: not root');
}

// One hack/e2e-*.sh (TAP): streamed as it runs; a SKIP plan counts as skipped, a Bail out!, a plan that does not
// match the lines or a non-zero exit without a "not ok" line counts as one failure. OCI_RUNTIME becomes TSRUN.
async function e2e(file) {
  const label = `e2e:${file.replace(/^e2e-|\.sh$/g, '')}`;
  const env = { ...process.env, ...(process.env.OCI_RUNTIME ? { TSRUN: process.env.OCI_RUNTIME } : {}) };
  const t0 = Date.now();
  const child = spawn('sh', [join(root, 'hack', file)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
  child.stderr.on('data', (d) => process.stderr.write(d));
  // each script bounds its own daemon calls; this is the backstop (TERM lets the script's trap clean up)
  const limit = Number(process.env.TSRUN_E2E_TIMEOUT ?? 600) * 1000;
  const timer = setTimeout(() => { console.log(`# ${label}: timed out after ${limit / 1000} s`); child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 60_000).unref(); }, limit);
  const status = await new Promise((res) => child.on('close', (code, sig) => res(code ?? sig)));
  clearTimeout(timer);
  const secs = Math.round((Date.now() - t0) / 1000);
  const skip = /^1\.\.0 # SKIP (.*)$/m.exec(out);
  if (skip && status === 0) { skipped++; console.log(`# ${label}: skipped: ${skip[1]}`); return; }
  const ok = (out.match(/^ok /gm) ?? []).length;
  const notOk = (out.match(/^not ok /gm) ?? []).length;
  const plan = /^1\.\.(\d+)$/m.exec(out);
  const broken = /^Bail out!/m.test(out) || !plan || Number(plan[1]) !== ok + notOk || (status !== 0 && notOk === 0);
  const bad = notOk + (broken ? 1 : 0);
  passed += ok; failed += bad;
  if (bad) failures.push(label);
  console.log(`# ${label}: ${ok} passed, ${bad} failed in ${secs} s${broken ? ` (did not run to the end: exit ${status})` : ''}`);
}
if (want('--e2e')) {
  const sel = process.env.TSRUN_E2E ?? '';
  const names = sel === '' || sel === '1' ? null : sel.split(',');
  const scripts = readdirSync(join(root, 'hack')).filter((f) => /^e2e-.+\.sh$/.test(f)).sort()
    .filter((f) => !names || names.includes(f.slice(4, -3)));
  if (!isRoot) console.log('# e2e skipped: not root');
  else if (sel === '0') console.log('# e2e skipped: TSRUN_E2E=0');
  else for (const f of scripts) await e2e(f);
}

console.log(failures.length ? `# failed parts: ${failures.join(', ')}` : '# all parts green');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
