#!/usr/bin/env node
// Runs the OCI runtime-tools validation suite against a runtime binary and prints per-program TAP results and a
// total. runtime-tools is NOT part of this repository and this script does not build it: point RUNTIME_TOOLS_DIR at
// a tree built outside the repo (`make runtimetest validation-executables` in a checkout of
// github.com/opencontainers/runtime-tools). Without one it says so and exits 0.
//
//   RUNTIME_TOOLS_DIR=/tmp/rt node hack/runtime-tools.mjs                   # against bin/tsrun
//   RUNTIME_TOOLS_DIR=/tmp/rt OCI_RUNTIME=$(command -v runc) node hack/runtime-tools.mjs
//   ... node hack/runtime-tools.mjs [--runtime PATH] [--timeout SECONDS] [--verbose] [NAME…]   (NAME: linux_sysctl, …)
//
// Each program (validation/<name>/<name>.t or validation/<name>.t) runs with cwd = the tree (it needs
// rootfs-<arch>.tar.gz and runtimetest there), RUNTIME=<runtime>, in its own process group, killed after the timeout.
// Isolation, because the suite has side effects on the host:
//   - every program runs in a private mount namespace (unshare -m): linux_ns_itype runs a container with NO mount
//     namespace, and a runtime that accepts that (runc) mounts /proc, /dev, … of the bundle in the caller's one;
//   - every program runs in the cgroup /tsrun-test/runtime-tools (each v1 hierarchy): the linux_cgroups_relative_*
//     tests put containers under the CALLER's cgroup (testdir/cgrouptest/container), and must not create cgroups
//     under whatever cgroup this script was started in. Empty cgroups the suite leaves there (and /cgrouptest,
//     /testdir at a hierarchy root, if they did not exist before) are removed at the end.
// runtime-tools passes no global flags, so containers go to the runtime's default root; after each program the
// containers it left behind there (bundle under the temp dir's ocitest*) are force-deleted, and so are its
// temp bundles (ocitest*, oci-pid*).
//
// conformance/runtime-tools-skip.json is the explicit skip list (caller-contract.md §13), one reason per entry:
//   { "program": "delete", "reason": "…" }                          the whole program is not run
//   { "program": "delete", "assertions": [3], "reason": "…" }        those TAP assertion numbers are expected to fail
//   "when": "<fact>"                                                  the entry applies only on such hosts; facts:
//     cgroup-v2-only, no-apparmor, no-selinux, no-hugetlb-cgroup, no-net-cls-cgroup, restricted-host-capabilities,
//     kernel>=5.0 (see `facts` below)
// An expected failure that passes is reported (XPASS) but does not fail the run.
// Exit status: 0 when no program failed unexpectedly.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arch, release, tmpdir } from 'node:os';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const verbose = argv.includes('--verbose') ? (argv.splice(argv.indexOf('--verbose'), 1), true) : false;
const runtime = resolve(opt('--runtime', process.env.OCI_RUNTIME ?? join(repo, 'bin/tsrun')));
const timeoutS = Number(opt('--timeout', process.env.RUNTIME_TOOLS_TIMEOUT ?? '120'));
const only = new Set(argv);
const dir = process.env.RUNTIME_TOOLS_DIR;

if (!dir) {
  console.log('# runtime-tools: skipped: RUNTIME_TOOLS_DIR is not set (build github.com/opencontainers/runtime-tools outside');
  console.log('#   this repo with `make runtimetest validation-executables` and point RUNTIME_TOOLS_DIR at that tree)');
  process.exit(0);
}
const goArch = { x64: 'amd64', arm64: 'arm64', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }[arch()] ?? arch();
for (const need of ['runtimetest', `rootfs-${goArch}.tar.gz`, 'validation']) {
  if (!existsSync(join(dir, need))) {
    console.log(`# runtime-tools: skipped: ${join(dir, need)} is missing (run \`make runtimetest validation-executables\` there)`);
    process.exit(0);
  }
}
if (!existsSync(runtime)) {
  console.log(`# runtime-tools: runtime ${runtime} does not exist`);
  process.exit(1);
}
if (process.geteuid?.() !== 0) {
  console.log('# runtime-tools: skipped: the validation suite needs root');
  process.exit(0);
}

// ---- host facts the skip list can depend on ----
const kernel = release().split('.').map(Number);
const cgroupMounted = (name) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .some((l) => / - cgroup /.test(l) && l.split(' - ')[1].split(' ')[2]?.split(',').includes(name));
const capLast = Number(existsSync('/proc/sys/kernel/cap_last_cap') ? readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8') : 40);
const capBnd = BigInt('0x' + (/^CapBnd:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
const facts = {
  'cgroup-v2-only': !existsSync('/sys/fs/cgroup/memory') && existsSync('/sys/fs/cgroup/cgroup.controllers'),
  'no-apparmor': !(existsSync('/sys/module/apparmor/parameters/enabled')
    && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y'),
  'no-selinux': !existsSync('/sys/fs/selinux/enforce'),
  'no-hugetlb-cgroup': !cgroupMounted('hugetlb'),
  'no-net-cls-cgroup': !cgroupMounted('net_cls') || !cgroupMounted('net_prio'),
  'restricted-host-capabilities': capBnd !== (1n << BigInt(capLast + 1)) - 1n,
  'kernel>=5.0': kernel[0] >= 5,
};
const skipFile = join(repo, 'conformance/runtime-tools-skip.json');
const skipList = (existsSync(skipFile) ? JSON.parse(readFileSync(skipFile, 'utf8')).skip : []).filter((e) => {
  if (!e.program || !e.reason) throw new Error(`${skipFile}: every entry needs "program" and "reason": ${JSON.stringify(e)}`);
  if (e.when && !(e.when in facts)) throw new Error(`${skipFile}: unknown "when" ${e.when}`);
  return !e.when || facts[e.when];
});

// ---- the programs ----
const programs = [];
const vdir = join(dir, 'validation');
for (const ent of readdirSync(vdir).sort()) {
  const p = join(vdir, ent);
  if (ent.endsWith('.t') && statSync(p).isFile()) programs.push({ name: ent.slice(0, -2), path: p });
  else if (statSync(p).isDirectory() && existsSync(join(p, `${ent}.t`))) programs.push({ name: ent, path: join(p, `${ent}.t`) });
}
if (programs.length === 0) {
  console.log(`# runtime-tools: skipped: no validation/*.t programs under ${dir} (run \`make validation-executables\`)`);
  process.exit(0);
}

/** Containers in the runtime's default root whose bundle is a runtime-tools temp bundle. */
function strayContainers() {
  const r = spawnSync(runtime, ['list', '--format', 'json'], { encoding: 'utf8', timeout: 20_000 });
  try {
    const list = JSON.parse(r.stdout || 'null') ?? [];
    const tmp = tmpdir();
    return list.filter((c) => typeof c.bundle === 'string' && c.bundle.startsWith(join(tmp, 'ocitest'))).map((c) => c.id);
  } catch { return []; }
}

// ---- the cgroup every program runs in ----
const CG = '/sys/fs/cgroup';
const CG_REL = 'tsrun-test/runtime-tools';
const hierarchies = existsSync(CG) ? readdirSync(CG).filter((h) => existsSync(join(CG, h, 'cgroup.procs'))) : [];
// names runtime-tools uses (AbsCgroupPath /cgrouptest; RelCgroupPath testdir/… lands at the root of a hierarchy
// where the runtime does not place itself under its caller's cgroup, e.g. runc in the hybrid unified one)
const TEST_CGROUPS = ['cgrouptest', 'testdir'];
const existedBefore = new Set(hierarchies.flatMap((h) => TEST_CGROUPS.filter((n) => existsSync(join(CG, h, n))).map((n) => `${h}/${n}`)));
const procsFiles = [];
for (const h of hierarchies) {
  let dir = CG + '/' + h;
  for (const part of CG_REL.split('/')) {
    dir = join(dir, part);
    if (!existsSync(dir)) mkdirSync(dir);
    // a new v1 cpuset cgroup starts with no cpus/mems: nothing could join it
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const pf = join(dirname(dir), f);
      if (existsSync(join(dir, f)) && readFileSync(join(dir, f), 'utf8').trim() === '') writeFileSync(join(dir, f), readFileSync(pf, 'utf8').trim());
    }
  }
  procsFiles.push(join(dir, 'cgroup.procs'));
}
/** Remove the empty cgroups the suite left under CG_REL (and CG_REL itself), children first. */
function removeCgroups() {
  const rmTree = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(join(d, e.name));
    try { rmdirSync(d); } catch { /* busy: a process is still in it */ }
  };
  for (const h of hierarchies) {
    rmTree(join(CG, h, CG_REL));
    for (const n of TEST_CGROUPS) if (!existedBefore.has(`${h}/${n}`)) rmTree(join(CG, h, n));
  }
}
const tmpBefore = new Set(readdirSync(tmpdir()));

// The program starts as `sh`, which joins the cgroup and execs the test program, inside a new mount namespace.
const WRAP = 'prog=$1; shift; for f in "$@"; do echo $$ > "$f" || exit 97; done; exec "$prog"';

function runProgram(prog) {
  return new Promise((res) => {
    const t0 = Date.now();
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', WRAP, 'rt-wrap', prog.path, ...procsFiles], {
      cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUNTIME: runtime },
    });
    let out = '', err = '', timedOut = false;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, out, err, timedOut, ms: Date.now() - t0 });
    });
  });
}

/**
 * TAP 13 as written by mndrix/tap-go: "1..N", "ok N - d", "not ok N - d", "# SKIP", YAML blocks. Some programs
 * (hooks, poststart, prestart_fail, …) report a failure only as a YAML block with an "error" key that follows no
 * assertion ("1..0" plus a diagnostic): those are returned as `orphans` and count as failures.
 */
function parseTap(text) {
  const lines = text.split('\n');
  const asserts = [], orphans = [];
  let plan = null, last = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    let m;
    if ((m = /^1\.\.(\d+)/.exec(l))) { plan = Number(m[1]); last = null; }
    else if ((m = /^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*)$/.exec(l))) {
      last = { ok: m[1] === 'ok', n: Number(m[2]), desc: m[3], skip: /#\s*skip/i.test(m[3]), todo: /#\s*todo/i.test(m[3]), yaml: '' };
      asserts.push(last);
    } else if (/^\s+---\s*$/.test(l)) {
      const y = [];
      for (i++; i < lines.length && !/^\s+\.\.\.\s*$/.test(lines[i]); i++) y.push(lines[i]);
      if (last && !last.yaml) last.yaml = y.join('\n');
      else if (/"error"|^\s*error:/m.test(y.join('\n'))) orphans.push(y.join('\n'));
      last = null;
    }
    // other lines (e.g. "Refer to: …" continuing a multi-line description) keep `last`
  }
  return { plan, asserts, orphans };
}

let progPass = 0, progFail = 0, progSkip = 0, aPass = 0, aFail = 0, aSkip = 0, aXfail = 0;
const failedPrograms = [];
console.log(`# runtime-tools ${dir} against ${runtime} (timeout ${timeoutS}s per program)`);
for (const prog of programs) {
  if (only.size && !only.has(prog.name)) continue;
  const whole = skipList.find((e) => e.program === prog.name && !e.assertions);
  if (whole) {
    progSkip++;
    console.log(`ok - ${prog.name} # SKIP ${whole.reason}`);
    continue;
  }
  const xfail = new Map();
  for (const e of skipList) if (e.program === prog.name && e.assertions) for (const n of e.assertions) xfail.set(n, e.reason);
  const before = new Set(strayContainers());
  const r = await runProgram(prog);
  const strays = strayContainers().filter((id) => !before.has(id));
  for (const id of strays) spawnSync(runtime, ['delete', '--force', id], { timeout: 30_000 });
  const { plan, asserts, orphans } = parseTap(r.out);
  let pass = 0, fail = 0, skip = 0, xf = 0;
  const notes = [], xfNums = [];
  for (const a of asserts) {
    if (a.skip || a.todo) { skip++; continue; }
    if (a.ok) {
      pass++;
      if (xfail.has(a.n)) notes.push(`  # XPASS ${a.n} - ${a.desc} (listed as expected to fail: ${xfail.get(a.n)})`);
    } else if (xfail.has(a.n)) {
      xf++;
      xfNums.push(a.n);
    } else {
      fail++;
      notes.push(`  not ok ${a.n} - ${a.desc}`);
      if (a.yaml) notes.push(a.yaml.slice(0, 1500).split('\n').slice(0, 25).map((l) => `    ${l}`).join('\n'));
    }
  }
  if (xfNums.length) notes.unshift(`  # expected failures ${xfNums.join(', ')}: ${xfail.get(xfNums[0])}`);
  for (const y of orphans) {
    fail++;
    notes.push('  not ok - diagnostic without an assertion (the program reports its failure this way)');
    notes.push(y.slice(0, 1500).split('\n').slice(0, 25).map((l) => `    ${l}`).join('\n'));
  }
  const why = [];
  if (r.timedOut) why.push(`timed out after ${timeoutS}s`);
  else if (r.code !== 0) why.push(`exit status ${r.code ?? r.signal}`);
  if (plan === null && asserts.length === 0 && r.code !== 0) why.push('no TAP output');
  else if (plan !== null && asserts.length < plan) why.push(`${asserts.length} of ${plan} planned assertions ran`);
  if (strays.length) notes.push(`  # force-deleted ${strays.length} container(s) left behind: ${strays.join(' ')}`);
  // A program whose only failures are listed ones exits 1 too (tap-go counts them): that is not a failure here.
  // A program that exits 0 with no TAP output passed (the *_fail programs print nothing unless they fail).
  const bad = fail > 0 || r.timedOut || why.some((w) => !w.startsWith('exit status')) || (r.code !== 0 && fail + xf === 0);
  aPass += pass; aFail += fail; aSkip += skip; aXfail += xf;
  if (bad) { progFail++; failedPrograms.push(prog.name); } else progPass++;
  const counts = `${pass} passed, ${fail} failed${xf ? `, ${xf} expected failures` : ''}${skip ? `, ${skip} skipped` : ''}`;
  console.log(`${bad ? 'not ok' : 'ok'} - ${prog.name} (${counts}${why.length ? '; ' + why.join('; ') : ''}) ${(r.ms / 1000).toFixed(1)}s`);
  for (const n of notes) console.log(n);
  if ((bad || verbose) && r.err.trim()) console.log(r.err.trim().split('\n').slice(-15).map((l) => `  # stderr: ${l}`).join('\n'));
  if (verbose) console.log(r.out.split('\n').map((l) => `  # ${l}`).join('\n'));
}
removeCgroups();
for (const e of readdirSync(tmpdir())) {
  if (!tmpBefore.has(e) && /^(ocitest|oci-pid)/.test(e)) rmSync(join(tmpdir(), e), { recursive: true, force: true });
}
console.log(`# runtime-tools programs: ${progPass} passed, ${progFail} failed, ${progSkip} skipped`);
console.log(`# runtime-tools assertions: ${aPass} passed, ${aFail} failed, ${aXfail} expected failures, ${aSkip} skipped`);
if (failedPrograms.length) console.log(`# failed programs: ${failedPrograms.join(' ')}`);
process.exit(progFail ? 1 : 0);
