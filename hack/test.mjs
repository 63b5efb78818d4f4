#!/usr/bin/env node
// The whole test suite: `npm test` (and .ci/run) run this. It builds, makes the busybox test bundle, then runs
//   unit tests (uvu, no root)        dist/src/**/*.test.js except *.root.test.js
//   C unit tests (TAP)               dist/libexec/tests/test-*
//   root integration tests (uvu)     dist/src/**/*.root.test.js           (only as root)
//   conformance (uvu)                dist/conformance/**/*.test.js        (only as root; OCI_RUNTIME picks the binary)
// and ends with one plain line "N passed, N failed" that CI reads.
// Flags: --unit | --root | --conformance (only that part), --no-build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const only = ['--unit', '--root', '--conformance'].filter((a) => args.has(a));
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

function uvu(label, dir, pattern, env = {}) {
  if (!existsSync(join(root, dir))) return;
  const r = sh(process.execPath, [join(root, 'node_modules/uvu/bin.js'), dir, pattern], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
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

function tap(label, bin) {
  const r = sh(bin, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const ok = (r.stdout.match(/^ok /gm) ?? []).length;
  const bad = (r.stdout.match(/^not ok /gm) ?? []).length + (r.status !== 0 && !/^not ok /m.test(r.stdout) ? 1 : 0);
  passed += ok; failed += bad;
  if (bad) failures.push(label);
  console.log(`# ${label}: ${ok} passed, ${bad} failed`);
}

if (want('--unit')) {
  uvu('unit', 'dist/src', '(?<!\\.root)\\.test\\.js$');
  const tdir = join(root, 'dist/libexec/tests');
  if (existsSync(tdir)) {
    for (const f of readdirSync(tdir).sort()) {
      const p = join(tdir, f);
      if (!f.startsWith('test-') || !(statSync(p).mode & 0o111)) continue;
      if (f.includes('root') && !isRoot) { skipped++; continue; }
      tap(`c:${f}`, p);
    }
  }
}
if ((want('--root') || want('--conformance')) && isRoot && !existsSync(join(root, 'test-bundle/config.json'))) {
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

console.log(failures.length ? `# failed parts: ${failures.join(', ')}` : '# all parts green');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
