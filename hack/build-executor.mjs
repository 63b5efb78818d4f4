#!/usr/bin/env node
// Builds the C init executor with the system cc:  dist/libexec/tsrun-executor
//   node hack/build-executor.mjs            the executor
//   node hack/build-executor.mjs --tests    + test binaries in dist/libexec/tests/ (ASan/UBSan when cc has them):
//                                             test-plan (TAP unit tests), plan-dump, fuzz-plan (corpus replay),
//                                             test-mount (root TAP tests of path.c/mount.c/console.c, not run here)
//   node hack/build-executor.mjs --check    --tests, then runs test-plan and replays the fuzz corpus
//   node hack/build-executor.mjs --fuzz     dist/libexec/tests/fuzz-plan-libfuzzer: the decoder under libFuzzer with
//                                             ASan/UBSan, built with clang ($FUZZ_CC; hack/test.mjs runs it when clang
//                                             is installed). CC=clang FUZZ=1 … --tests builds it too.
//
// Static or dynamic, measured (VmRSS of an executor blocked in waitStart; glibc 2.36, gcc 12, kernel 6.18):
//   -static-pie -Os            0.79–0.88 MB  ← chosen (ASLR kept); ≈ 0.75 MB of it is the sealed memfd image
//                                              (RssShmem, charged before cgroupJoin), ≈ 70 kB anonymous
//   -static -Os                0.84 MB
//   dynamic -Os                1.6 MB        (ld.so + libc.so pages count as RssFile)
// Falls back to -static, then to a dynamic build when the toolchain has no static libc (the executor still
// works; it only costs more memory). Details: src/executor/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, existsSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/executor');
const out = join(root, 'dist/libexec');
const testOut = join(out, 'tests');
const args = new Set(process.argv.slice(2));
const cc = process.env.CC || 'cc';
const verbose = !!process.env.TSRUN_BUILD_VERBOSE;

const WARN = ['-std=c11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wvla'];
const HARDEN = ['-fstack-protector-strong', '-D_FORTIFY_SOURCE=2', '-fno-strict-aliasing'];
// Size over speed: the executor runs a few hundred syscalls once; what matters is the memory it is charged.
const SMALL = ['-Os', '-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections', '-s'];

function run(cmd, argv, opts = {}) {
  if (verbose) console.error(`build-executor: ${cmd} ${argv.join(' ')}`);
  return execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function tryRun(cmd, argv) {
  try {
    run(cmd, argv);
    return null;
  } catch (e) {
    return String(e.stderr || e.message);
  }
}

/** The executor's own sources: every src/executor/*.c (path.c, mount.c, console.c included once they exist). */
const sources = readdirSync(src).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, f));

function buildExecutor() {
  mkdirSync(out, { recursive: true });
  const target = join(out, 'tsrun-executor');
  const tmp = `${target}.tmp`;
  const attempts = [['-static-pie', '-fPIE'], ['-static'], ['-fPIE', '-pie']];
  let lastErr = '';
  for (const link of attempts) {
    const err = tryRun(cc, [...WARN, ...HARDEN, ...SMALL, ...link, '-I', src, '-o', tmp, ...sources]);
    if (err === null) {
      renameSync(tmp, target);  // atomic: a running tsrun never sees a half-written executor
      if (link[0] !== '-static-pie') console.error(`build-executor: linked with ${link.join(' ')} (static-pie unavailable)`);
      return target;
    }
    lastErr = err;
    // A compile error (not a link problem) will not go away with other link flags.
    if (!/cannot find -lc|static|crt1|rcrt1|undefined reference|relocation/i.test(err)) break;
  }
  rmSync(tmp, { force: true });
  process.stderr.write(lastErr);
  throw new Error('build-executor: the executor does not compile');
}

function sanitizerFlags() {
  const probe = join(testOut, '.probe');
  const f = join(testOut, '.probe.c');
  writeFileSync(f, 'int main(void){return 0;}\n');
  const ok = tryRun(cc, ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', probe, f]) === null;
  rmSync(probe, { force: true });
  rmSync(f, { force: true });
  return ok ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'] : [];
}

function buildTests() {
  mkdirSync(testOut, { recursive: true });
  const san = sanitizerFlags();
  const common = [...WARN, '-O1', '-g', ...san, '-I', src];
  const decoder = ['plan.c', 'frame.c', 'error.c'].map((f) => join(src, f));
  const step = (name, files, extra = []) => {
    const err = tryRun(cc, [...common, ...extra, '-o', join(testOut, name), ...files]);
    if (err !== null) {
      process.stderr.write(err);
      throw new Error(`build-executor: ${name} does not compile`);
    }
  };
  // The decoder, framing and error code only: no step function, nothing with side effects.
  step('test-plan', [join(src, 'tests/test-plan.c'), ...decoder]);
  step('plan-dump', [join(src, 'tests/plan-dump.c'), ...decoder]);
  step('fuzz-plan', [join(src, 'fuzz/fuzz-plan.c'), ...decoder]);
  if (existsSync(join(src, 'tests/test-mount.c'))) {
    step('test-mount', ['tests/test-mount.c', 'path.c', 'mount.c', 'console.c', 'error.c'].map((f) => join(src, f)));
  }
  if (existsSync(join(src, 'tests/test-lsm.c'))) {
    step('test-lsm', ['tests/test-lsm.c', 'lsm.c', 'error.c'].map((f) => join(src, f)));
  }
  if (process.env.FUZZ) {
    step('fuzz-plan-libfuzzer', [join(src, 'fuzz/fuzz-plan.c'), ...decoder],
      ['-DFUZZING', '-fsanitize=fuzzer']);
  }
  if (!san.length) console.error('build-executor: cc has no ASan/UBSan; test binaries built without sanitizers');
}

function check() {
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' };
  const r = spawnSync(join(testOut, 'test-plan'), [join(testOut, 'corpus')], { env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`build-executor: unit tests failed (${r.status ?? r.signal})`);
  const corpus = join(testOut, 'corpus');
  if (existsSync(corpus)) {
    const files = readdirSync(corpus).map((f) => join(corpus, f));
    run(join(testOut, 'fuzz-plan'), files, { env });
    console.log(`# fuzz-plan replayed ${files.length} corpus files`);
  }
}

/** Only the libFuzzer binary of the decoder, with clang whatever CC says (gcc has no -fsanitize=fuzzer). */
function buildFuzzer() {
  mkdirSync(testOut, { recursive: true });
  const clang = process.env.FUZZ_CC || 'clang';
  const files = ['fuzz/fuzz-plan.c', 'plan.c', 'frame.c', 'error.c'].map((f) => join(src, f));
  const err = tryRun(clang, [...WARN, '-O1', '-g', '-DFUZZING', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all',
    '-fno-omit-frame-pointer', '-I', src, '-o', join(testOut, 'fuzz-plan-libfuzzer'), ...files]);
  if (err !== null) {
    process.stderr.write(err);
    throw new Error(`build-executor: fuzz-plan-libfuzzer does not build with ${clang}`);
  }
}

if (args.has('--fuzz')) {
  buildFuzzer();
} else {
  buildExecutor();
  if (args.has('--tests') || args.has('--check')) buildTests();
  if (args.has('--check')) check();
}
