#!/usr/bin/env node
// Benchmarks: tsrun side by side with runc (and crun when it can run here), in one run, with a clean environment
// (`env -i`), the same busybox bundle and the same kind of state root (tmpfs). Reported as medians and ratios,
// never asserted: timings are not tests. Rewrites the generated block of docs/performance.md (between the
// `bench:begin` / `bench:end` markers; the analysis around it is written by hand).
//
//   sudo node hack/bench.mjs [--runs N] [--quick] [--no-docker] [--no-profile] [--print] [--only a,b]
//   sections for --only: startup (also exec), run, seccomp, csd, memory, concurrent, docker, profile
//
// Needs root, hyperfine (apt-get install hyperfine), runc; crun and a private dockerd are used when present.
// Run it on a quiet machine: the load average is recorded at the start and at the end.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, mkdtempSync, readdirSync, openSync, closeSync, symlinkSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runs = Number(argv[argv.indexOf('--runs') + 1]) || (quick ? 10 : 40);
const warmup = quick ? 2 : 5;
const CONCURRENT = 50;
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : undefined;
const want = (s) => !only || only.includes(s);
if (process.geteuid?.() !== 0) { console.error('bench: run as root (containers need it)'); process.exit(1); }

const which = (b) => spawnSync('sh', ['-c', `command -v ${b}`], { encoding: 'utf8' }).stdout.trim();
const tsrun = join(root, 'bin/tsrun');
const node = process.execPath;
if (!which('hyperfine')) { console.error('bench: hyperfine is needed (apt-get install hyperfine)'); process.exit(1); }
if (!existsSync(tsrun)) { console.error('bench: build first: node hack/build.mjs'); process.exit(1); }
if (!existsSync(join(root, 'test-bundle/config.json'))) execFileSync('sh', [join(root, 'hack/mkbundle.sh')], { stdio: 'inherit' });

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const clean = `env -i PATH=${PATH}`;
const log = (...a) => console.error('bench:', ...a);
const loadStart = loadavg();

// ---------- bundles and roots ----------
const work = mkdtempSync('/tmp/tsrun-bench-');
const shm = mkdtempSync('/dev/shm/tsrun-bench-');   // state roots on tmpfs, as /run/runc is on a normal host
const rootFor = (rt) => join(shm, `root-${rt}`);
const base = JSON.parse(readFileSync(join(root, 'test-bundle/config.json'), 'utf8'));
function mkBundle(name, args, cgroupsPath, edit = (c) => c) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const cfg = edit({
    ...base,
    root: { path: join(root, 'test-bundle/rootfs'), readonly: true },
    process: { ...base.process, terminal: false, args },
    linux: { ...base.linux, cgroupsPath },
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  return dir;
}
const trueBundle = mkBundle('true', ['/bin/true'], '/tsrun-bench/true');
const sleepBundle = (rt) => mkBundle(`sleep-${rt}`, ['sleep', '1000'], `/tsrun-bench/${rt}-sleep`);

// ---------- runtimes ----------
const runtimes = [['tsrun', tsrun], ['runc', which('runc')]].filter(([, p]) => p);
const notes = [];
const crun = which('crun');
if (crun) {
  // crun 1.8 knows runtime-spec 1.0.x only: try it on a 1.0.2 copy of the bundle.
  const b = mkBundle('crun-probe', ['/bin/true'], '/tsrun-bench/crun-probe', (c) => ({ ...c, ociVersion: '1.0.2' }));
  const r = spawnSync(crun, ['--root', rootFor('crun'), 'run', '--bundle', b, 'probe'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status === 0) runtimes.push(['crun', crun]);
  else notes.push(`crun (${firstLine(spawnSync(crun, ['--version'], { encoding: 'utf8' }).stdout)}) is installed but refuses this host: \`${(r.stderr || r.stdout).trim().split('\n').pop()}\`; it is left out.`);
  spawnSync(crun, ['--root', rootFor('crun'), 'delete', '-f', 'probe'], { stdio: 'ignore' });
} else {
  notes.push('crun is not installed (`apt-get install -y crun`); it is left out.');
}
const rt = (name, p, rest) => `${clean} ${p} --root ${rootFor(name)} ${rest}`;
const isTsrun = (n) => n === 'tsrun';
const runcLike = runtimes.filter(([n]) => !isTsrun(n));
function firstLine(s) { return String(s ?? '').split('\n')[0].trim(); }

// ---------- hyperfine ----------
/**
 * commands: [label, command, prepare?]; returns one result per command (median, mean, σ, min in ms).
 * The runs are split into ROUNDS series that alternate between the commands, so a burst of load on the machine
 * (other people's test runs) spreads over all rows instead of skewing the one that happened to be running.
 */
const ROUNDS = 4;
function hyperfine(name, commands, { runs: r = runs } = {}) {
  const per = Math.max(2, Math.ceil(r / ROUNDS));
  const acc = commands.map(() => ({ times: [], user: [], system: [] }));
  const failed = [];
  for (let round = 0; round < ROUNDS; round++) {
    commands.forEach(([label, cmd, prepare], i) => {
      if (failed[i]) return;
      const out = join(work, `${name}-${i}-${round}.json`);
      const args = ['-N', '-w', String(round === 0 ? warmup : 1), '-r', String(per), '--export-json', out, '--style', 'none', '-n', label];
      if (prepare) args.push('--prepare', prepare);
      args.push(cmd);
      const p = spawnSync('hyperfine', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (p.status !== 0) {
        log(`${label}: FAILED\n${p.stderr}`);
        failed[i] = firstLine(p.stderr.split('\n').find((l) => /Error|error/.test(l)) ?? p.stderr);
        return;
      }
      const x = JSON.parse(readFileSync(out, 'utf8')).results[0];
      acc[i].times.push(...x.times.map((t) => t * 1000));
      acc[i].user.push(x.user * 1000);
      acc[i].system.push(x.system * 1000);
    });
  }
  return commands.map(([label], i) => {
    if (failed[i]) return { name: label, failed: failed[i] };
    const t = acc[i].times, mean = t.reduce((a, b) => a + b, 0) / t.length;
    const res = {
      name: label, median: median(t), mean, stddev: Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, t.length - 1)),
      min: Math.min(...t), user: acc[i].user.reduce((a, b) => a + b, 0) / ROUNDS, system: acc[i].system.reduce((a, b) => a + b, 0) / ROUNDS, n: t.length,
    };
    log(`${label}: median ${res.median.toFixed(1)} ms (mean ${res.mean.toFixed(1)} ± ${res.stddev.toFixed(1)}, min ${res.min.toFixed(1)}, n ${t.length})`);
    return res;
  });
}
const get = (rows, label) => rows.find((r) => r.name === label && !r.failed);

const sections = [];   // { title, rows, base: label | undefined, text? }
const summary = [];    // [benchmark, tsrun, reference, ratio, target, met]

// the comparison build: the bundle without V8 code caches (made in the startup section)
const plain = join(work, 'nocache');

// ---------- 1. startup: --version and state ----------
if (want('startup')) {
  log('startup');
  // the comparison builds: tsc's output without a bundle, and the bundle without V8 code caches
  spawnSync(node, [join(root, 'hack/bundle.mjs'), '--outdir', join(plain, 'dist'), '--no-v8cache'], { stdio: 'inherit' });
  mkdirSync(join(plain, 'dist/libexec'), { recursive: true });
  symlinkSync(join(root, 'dist/libexec/tsrun-executor'), join(plain, 'dist/libexec/tsrun-executor'));
  writeFileSync(join(plain, 'dist/build-info.json'), readFileSync(join(root, 'dist/build-info.json')));
  const sleepers = {};
  for (const [n, p] of runtimes) {
    sleepers[n] = sleepBundle(n);
    spawnSync(p, ['--root', rootFor(n), 'run', '-d', '--bundle', sleepers[n], 'st'], { stdio: 'ignore' });
  }
  const rows = hyperfine('startup', [
    ['node -e 0', `${clean} ${node} -e 0`],
    ['tsrun --version', `${clean} ${tsrun} --version`],
    ['tsrun state', rt('tsrun', tsrun, 'state st')],
    ['tsrun --version (tsc output, not bundled)', `${clean} ${node} ${join(root, 'dist/src/cli/main.js')} --version`],
    ['tsrun state (tsc output, not bundled)', `${clean} ${node} ${join(root, 'dist/src/cli/main.js')} --root ${rootFor('tsrun')} state st`],
    ['tsrun state (bundle without V8 code cache)', `${clean} ${node} ${join(plain, 'dist/tsrun.cjs')} --root ${rootFor('tsrun')} state st`],
    ...runcLike.flatMap(([n, p]) => [[`${n} --version`, `${clean} ${p} --version`], [`${n} state`, rt(n, p, 'state st')]]),
  ]);
  sections.push({ title: 'Startup: `--version` and `state` (a running container)', rows, base: 'node -e 0', delta: true });
  const n0 = get(rows, 'node -e 0');
  for (const [label, what] of [['tsrun state', 'state'], ['tsrun --version', '--version']]) {
    const r = get(rows, label);
    if (r && n0) summary.push([`\`${what}\``, r.median, `node -e 0: ${n0.median.toFixed(1)} ms`, `${r.median >= n0.median ? '+' : '−'}${Math.abs(r.median - n0.median).toFixed(1)} ms`, '≤ node -e 0 + 15 ms', r.median <= n0.median + 15]);
    const rr = get(rows, `runc ${what}`);
    if (r && rr) summary.push([`\`${what}\` vs runc`, r.median, `runc: ${rr.median.toFixed(1)} ms`, `${(r.median / rr.median).toFixed(2)}×`, '—', undefined]);
  }

  // ---------- 2. exec into a running container ----------
  const execOk = spawnSync(tsrun, ['exec', '--help'], { stdio: 'ignore' }).status === 0;
  if (execOk) {
    log('exec');
    const rowsX = hyperfine('exec', runtimes.map(([n, p]) => [`${n} exec true`, rt(n, p, 'exec st true')]));
    sections.push({ title: '`exec true` into a running container', rows: rowsX, base: 'runc exec true' });
    ratioRow(rowsX, '`exec true`', 'tsrun exec true', 'runc exec true', '—');
  } else {
    notes.push('`tsrun exec` is not available yet (`bin/tsrun exec --help` failed): no exec benchmark.');
  }
  for (const [n, p] of runtimes) spawnSync(p, ['--root', rootFor(n), 'delete', '-f', 'st'], { stdio: 'ignore' });
}

function ratioRow(rows, what, a, b, target, limit) {
  const x = get(rows, a), y = get(rows, b);
  if (!x || !y) return;
  const ratio = x.median / y.median;
  summary.push([what, x.median, `runc: ${y.median.toFixed(1)} ms`, `${ratio.toFixed(2)}×`, target, limit ? ratio <= limit : undefined]);
}

// ---------- 3. run /bin/true ----------
if (want('run')) {
  log('run');
  const rows = hyperfine('run', runtimes.map(([n, p]) => [`${n} run`, rt(n, p, `run --bundle ${bundleFor(n)} b`)]));
  sections.push({ title: '`run /bin/true` (foreground, container removed at exit)', rows, base: 'runc run' });
  ratioRow(rows, '`run /bin/true`', 'tsrun run', 'runc run', '≤ 1.2× runc', 1.2);
}
function bundleFor(n) {
  if (n !== 'crun') return trueBundle;
  return mkBundle('true-crun', ['/bin/true'], '/tsrun-bench/true-crun', (c) => ({ ...c, ociVersion: '1.0.2' }));
}

// ---------- 3b. run and exec with Docker's default seccomp profile (what Docker and podman always pass) ----------
if (want('seccomp')) {
  log('seccomp');
  const profile = JSON.parse(readFileSync(join(root, 'src/spec/fixtures/seccomp/docker-default.json'), 'utf8'));
  const withProfile = (c) => ({ ...c, linux: { ...c.linux, seccomp: profile } });
  const scTrue = mkBundle('seccomp-true', ['/bin/true'], '/tsrun-bench/seccomp-true', withProfile);
  const tsrunRunc = runtimes.filter(([n]) => n === 'tsrun' || n === 'runc');
  // cold: the cache of compiled filters emptied before every run (koffi + libseccomp, as before the cache)
  const cold = `rm -rf ${join(rootFor('tsrun'), '@cache')}`;
  const rows = hyperfine('seccomp-run', tsrunRunc.flatMap(([n, p]) => isTsrun(n)
    ? [['tsrun run, Docker profile (cache warm)', rt(n, p, `run --bundle ${scTrue} sc`)],
      ['tsrun run, Docker profile (cache cold)', rt(n, p, `run --bundle ${scTrue} sc`), cold]]
    : [[`${n} run, Docker profile`, rt(n, p, `run --bundle ${scTrue} sc`)]]).concat(
    tsrunRunc.map(([n, p]) => [`${n} run, no seccomp (reference)`, rt(n, p, `run --bundle ${bundleFor(n)} sc`)])));
  const scSleep = (n) => mkBundle(`seccomp-sleep-${n}`, ['sleep', '1000'], `/tsrun-bench/${n}-seccomp-sleep`, withProfile);
  for (const [n, p] of tsrunRunc) {
    spawnSync(p, ['--root', rootFor(n), 'run', '-d', '--bundle', scSleep(n), 'scx'], { stdio: 'ignore' });
    spawnSync(p, ['--root', rootFor(n), 'run', '-d', '--bundle', sleepBundle(n), 'scy'], { stdio: 'ignore' });
  }
  const rowsX = hyperfine('seccomp-exec', tsrunRunc.flatMap(([n, p]) => isTsrun(n)
    ? [['tsrun exec true, Docker profile (cache warm)', rt(n, p, 'exec scx true')],
      ['tsrun exec true, Docker profile (cache cold)', rt(n, p, 'exec scx true'), cold]]
    : [[`${n} exec true, Docker profile`, rt(n, p, 'exec scx true')]]).concat(
    tsrunRunc.map(([n, p]) => [`${n} exec true, no seccomp (reference)`, rt(n, p, 'exec scy true')])));
  for (const [n, p] of tsrunRunc) spawnSync(p, ['--root', rootFor(n), 'delete', '-f', 'scx'], { stdio: 'ignore' });
  for (const [n, p] of tsrunRunc) spawnSync(p, ['--root', rootFor(n), 'delete', '-f', 'scy'], { stdio: 'ignore' });
  sections.push({ title: "`run /bin/true` with Docker's default seccomp profile (tsrun caches compiled filters in `<root>/@cache/seccomp`; cold: emptied before each run)", rows, base: 'runc run, Docker profile' });
  sections.push({ title: "`exec true` into a container with Docker's default seccomp profile", rows: rowsX, base: 'runc exec true, Docker profile' });
  ratioRow(rows, "`run /bin/true`, Docker's seccomp profile", 'tsrun run, Docker profile (cache warm)', 'runc run, Docker profile', '—');
  ratioRow(rowsX, "`exec true`, Docker's seccomp profile", 'tsrun exec true, Docker profile (cache warm)', 'runc exec true, Docker profile', '—');
}

// ---------- 4. create + start + delete, and each step ----------
if (want('csd')) {
  log('create+start+delete');
  // delete --force: a plain delete may come before /bin/true has exited (runc's is ≈ 3 ms after its start) and be
  // refused; containerd waits for the exit event instead, which a shell cannot do without extra runtime calls.
  const csd = (n, p) => `sh -c "${rt(n, p, `create --bundle ${bundleFor(n)} c`)} && ${rt(n, p, 'start c')} && ${rt(n, p, 'delete --force c')}"`;
  // delete of a container whose /bin/true has exited: wait for the exit in the (untimed) prepare step
  const waitStopped = (n, p) => `while ${p} --root ${rootFor(n)} state c 2>/dev/null | grep -q running; do sleep 0.001; done`;
  const rows = hyperfine('csd', [
    ...runtimes.map(([n, p]) => [`${n} create+start+delete`, csd(n, p)]),
    ['sh -c true (the wrapper alone)', `sh -c true`],
  ]);
  sections.push({ title: '`create` + `start` + `delete --force` of `/bin/true` (one `sh -c`, three runtime calls)', rows, base: 'runc create+start+delete' });
  ratioRow(rows, 'create + start + delete', 'tsrun create+start+delete', 'runc create+start+delete', '≤ 1.5× runc', 1.5);
  const steps = hyperfine('steps', runtimes.flatMap(([n, p]) => [
    [`${n} create`, rt(n, p, `create --bundle ${bundleFor(n)} c`), `sh -c "${p} --root ${rootFor(n)} delete -f c"`],
    ...(isTsrun(n) && existsSync(join(plain, 'dist/tsrun.cjs'))
      ? [['tsrun create (bundle without V8 code cache)', `${clean} ${node} ${join(plain, 'dist/tsrun.cjs')} --root ${rootFor(n)} create --bundle ${bundleFor(n)} c`, `sh -c "${p} --root ${rootFor(n)} delete -f c"`]] : []),
    [`${n} start`, rt(n, p, 'start c'), `sh -c "${p} --root ${rootFor(n)} delete -f c; ${p} --root ${rootFor(n)} create --bundle ${bundleFor(n)} c </dev/null >/dev/null 2>&1"`],
    [`${n} delete (stopped)`, rt(n, p, 'delete c'), `sh -c "${p} --root ${rootFor(n)} delete -f c; ${p} --root ${rootFor(n)} create --bundle ${bundleFor(n)} c </dev/null >/dev/null 2>&1; ${p} --root ${rootFor(n)} start c; ${waitStopped(n, p)}"`],
    [`${n} delete (created: kills the waiting init)`, rt(n, p, 'delete c'), `sh -c "${p} --root ${rootFor(n)} delete -f c; ${p} --root ${rootFor(n)} create --bundle ${bundleFor(n)} c </dev/null >/dev/null 2>&1"`],
  ]));
  for (const [n, p] of runtimes) spawnSync(p, ['--root', rootFor(n), 'delete', '-f', 'c'], { stdio: 'ignore' });
  sections.push({ title: 'Each step on its own (hyperfine `--prepare` sets the container up, untimed)', rows: steps, pairs: true });
  for (const s of ['create', 'start', 'delete (stopped)', 'delete (created: kills the waiting init)']) ratioRow(steps, `\`${s}\``, `tsrun ${s}`, `runc ${s}`, '—');
}

// ---------- 5. memory ----------
/** Sum of VmRSS and Pss (kB) over a foreground `run` and all its descendants, once its container is running. */
async function wholeTree(n, p) {
  const id = 'tree';
  spawnSync(p, ['--root', rootFor(n), 'delete', '-f', id], { stdio: 'ignore' });
  const child = spawn(p, ['--root', rootFor(n), 'run', '--bundle', sleepBundle(n), id], { stdio: 'ignore', env: { PATH } });
  const kids = () => {
    const byParent = new Map();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try { const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]); (byParent.get(ppid) ?? byParent.set(ppid, []).get(ppid)).push(Number(d)); } catch { /* gone */ }
    }
    const out = [];
    for (let todo = [child.pid]; todo.length;) { const q = todo.pop(); out.push(q); todo.push(...(byParent.get(q) ?? [])); }
    return out;
  };
  let pids = [];
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const st = spawnSync(p, ['--root', rootFor(n), 'state', id], { encoding: 'utf8' }).stdout ?? '';
    if (/"status": "running"/.test(st)) { await new Promise((r) => setTimeout(r, 200)); pids = kids(); break; }
  }
  let rss = 0, pss = 0;
  const names = [];
  for (const q of pids) {
    try {
      rss += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${q}/status`, 'utf8'))?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${q}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      names.push(firstLine(readFileSync(`/proc/${q}/comm`, 'utf8')));
    } catch { /* gone */ }
  }
  spawnSync(p, ['--root', rootFor(n), 'kill', id, 'KILL'], { stdio: 'ignore' });
  await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', r));
  spawnSync(p, ['--root', rootFor(n), 'delete', '-f', id], { stdio: 'ignore' });
  return pids.length ? { rss, pss, names: names.join(' → ') } : undefined;
}

if (want('memory')) {
  log('memory');
  const rows = [];
  for (const [n, p] of runtimes) {
    spawnSync(p, ['--root', rootFor(n), 'create', '--bundle', bundleFor(n), 'm'], { stdio: 'ignore' });
    const st = JSON.parse(spawnSync(p, ['--root', rootFor(n), 'state', 'm'], { encoding: 'utf8' }).stdout || '{}');
    const status = readFileSync(`/proc/${st.pid}/status`, 'utf8');
    const kb = (k) => Number(status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
    rows.push({ name: `${n}: waiting init (pid ${st.pid}, ${firstLine(readFileSync(`/proc/${st.pid}/comm`, 'utf8'))})`, rss: kb('VmRSS'), anon: kb('RssAnon'), shmem: kb('RssShmem'), file: kb('RssFile') });
    spawnSync(p, ['--root', rootFor(n), 'delete', '-f', 'm'], { stdio: 'ignore' });
    const t = spawnSync('/usr/bin/time', ['-f', '%M', 'env', '-i', `PATH=${PATH}`, p, '--root', rootFor(n), 'run', '--bundle', bundleFor(n), 'm'], { encoding: 'utf8' });
    rows.push({ name: `${n}: \`run /bin/true\`, largest process (time -f %M)`, rss: Number(t.stderr.trim().split('\n').pop()) });
  }
  // The whole tree while a foreground `run` waits for its container: the runtime, whatever it keeps running (tsrun:
  // the executor's first process, which relays the exit status) and the container's own program (busybox sleep).
  // VmRSS counts shared pages (libc, node's text) in every process; Pss divides them among their users.
  for (const [n, p] of runtimes) {
    const tree = await wholeTree(n, p);
    if (tree) rows.push({ name: `${n}: whole tree of a foreground \`run\` (${tree.names}), sum of VmRSS / of Pss`, rss: `${tree.rss} / ${tree.pss}` });
  }
  const t = spawnSync('/usr/bin/time', ['-f', '%M', node, '-e', '0'], { encoding: 'utf8' });
  rows.push({ name: 'node -e 0 (time -f %M)', rss: Number(t.stderr.trim().split('\n').pop()) });
  sections.push({ title: 'Memory', memory: rows });
  const tt = rows.find((r) => r.name.startsWith('tsrun: whole tree')), tr = rows.find((r) => r.name.startsWith('runc: whole tree'));
  const pssOf = (r) => Number(String(r.rss).split(' / ')[1]);
  if (tt) summary.push(['foreground `run`, whole process tree (Pss)', pssOf(tt) / 1024, tr ? `runc: ${(pssOf(tr) / 1024).toFixed(2)} MB` : '', tr ? `${(pssOf(tt) / pssOf(tr)).toFixed(2)}×` : '', '—', undefined, 'MB']);
  const w = rows.find((r) => r.name.startsWith('tsrun: waiting init')), wr = rows.find((r) => r.name.startsWith('runc: waiting init'));
  if (w) summary.push(['waiting-init RSS', w.rss / 1024, wr ? `runc: ${(wr.rss / 1024).toFixed(2)} MB` : '', wr ? `${(w.rss / wr.rss).toFixed(2)}×` : '', '≤ 1 MB', w.rss <= 1024, 'MB']);
  const pk = rows.find((r) => r.name.startsWith('tsrun: `run')), pr = rows.find((r) => r.name.startsWith('runc: `run'));
  if (pk) summary.push(['`run` peak RSS, largest process', pk.rss / 1024, pr ? `runc: ${(pr.rss / 1024).toFixed(1)} MB` : '', pr ? `${(pk.rss / pr.rss).toFixed(2)}×` : '', '—', undefined, 'MB']);
}

// ---------- 6. 50 concurrent creates ----------
if (want('concurrent')) {
  log(`${CONCURRENT} concurrent creates`);
  const rows = [];
  for (const [n, p] of runtimes) rows.push(await concurrent(n, p));
  sections.push({ title: `${CONCURRENT} containers created concurrently, then deleted concurrently`, concurrent: rows });
  const t = rows.find((r) => r.runtime === 'tsrun'), r = rows.find((x) => x.runtime === 'runc');
  if (t) summary.push([`${CONCURRENT} concurrent creates`, t.createMs, r ? `runc: ${r.createMs.toFixed(0)} ms wall` : '', r ? `${(t.createMs / r.createMs).toFixed(2)}×` : '', 'all succeed, nothing left', t.ok === CONCURRENT && t.leftovers === 'none']);
}

async function concurrent(n, p) {
  const ids = Array.from({ length: CONCURRENT }, (_, i) => `conc${i}`);
  const bundles = ids.map((id) => n === 'crun'
    ? mkBundle(`conc-${n}-${id}`, ['/bin/true'], `/tsrun-bench/conc-${n}/${id}`, (c) => ({ ...c, ociVersion: '1.0.2' }))
    : mkBundle(`conc-${n}-${id}`, ['/bin/true'], `/tsrun-bench/conc-${n}/${id}`));
  const env = { PATH };
  const go = (args) => new Promise((resolve) => {
    const c = spawn(p, ['--root', rootFor(n), ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (b) => { err += b; });
    // 'exit', not 'close': a created container's init keeps our stderr pipe open until it is deleted
    c.on('exit', (code) => setImmediate(() => { c.stderr.destroy(); resolve({ code, err: err.trim() }); }));
  });
  let t0 = performance.now();
  const created = await Promise.all(ids.map((id, i) => go(['create', '--bundle', bundles[i], id])));
  const createMs = performance.now() - t0;
  const ok = created.filter((r) => r.code === 0).length;
  const states = ids.map((id) => JSON.parse(spawnSync(p, ['--root', rootFor(n), 'state', id], { encoding: 'utf8' }).stdout || '{}'));
  const createdCount = states.filter((s) => s.status === 'created').length;
  const pids = states.map((s) => s.pid).filter((x) => x > 0);
  t0 = performance.now();
  const deleted = await Promise.all(ids.map((id) => go(['delete', '--force', id])));
  const deleteMs = performance.now() - t0;
  // leftovers: state dirs, cgroups, processes
  const left = [];
  const stateDirs = existsSync(rootFor(n)) ? readdirSync(rootFor(n)).filter((d) => ids.includes(d)) : [];
  if (stateDirs.length) left.push(`${stateDirs.length} state dirs`);
  const cg = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, 'tsrun-bench', `conc-${n}`);
    if (existsSync(d)) for (const c of readdirSync(d, { withFileTypes: true })) if (c.isDirectory()) cg.push(join(d, c.name));
  }
  if (cg.length) left.push(`${cg.length} cgroups (e.g. ${cg[0]})`);
  const alive = pids.filter((pid) => { try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } });
  if (alive.length) left.push(`${alive.length} init processes alive`);
  for (const h of readdirSync('/sys/fs/cgroup')) try { rmSync(join('/sys/fs/cgroup', h, 'tsrun-bench', `conc-${n}`), { recursive: false }); } catch { /* not ours to force */ }
  const firstErr = [...created, ...deleted].find((r) => r.code !== 0)?.err;
  return { runtime: n, ok, createMs, createdCount, deleteOk: deleted.filter((r) => r.code === 0).length, deleteMs, leftovers: left.join(', ') || 'none', firstErr };
}

// ---------- 7. docker run --rm busybox true ----------
if (!want('docker')) { /* not asked for */ } else if (!argv.includes('--no-docker') && which('dockerd') && which('docker') && which('containerd')) {
  log('docker');
  const r = await dockerBench();
  if (r.rows) {
    sections.push({ title: '`docker run --rm busybox true` (private dockerd, `--runtime tsrun` vs `runc`)', rows: r.rows, base: 'docker run --runtime runc' });
    ratioRow(r.rows, '`docker run --rm … true`', 'docker run --runtime tsrun', 'docker run --runtime runc', '—');
  } else notes.push(`docker: skipped (${r.skip})`);
} else notes.push('docker: skipped (no dockerd/containerd, or --no-docker)');

async function dockerBench() {
  const tmp = mkdtempSync('/tmp/tsrun-bench-docker-');
  const sock = join(tmp, 'docker.sock'), pidfile = join(tmp, 'dockerd.pid');
  const driver = readFileSync('/proc/filesystems', 'utf8').includes('overlay') ? 'overlay2' : 'vfs';
  const logFd = openSync(join(tmp, 'dockerd.log'), 'w');
  const d = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'dockerd', '--data-root', join(tmp, 'data'), '--exec-root', join(tmp, 'exec'),
    '-H', `unix://${sock}`, '--pidfile', pidfile, '--iptables=false', '--ip-masq=false', '--ip-forward=false', '--bridge=none',
    '--storage-driver', driver, '--cgroup-parent', '/tsrun-bench/docker', '--add-runtime', `tsrun=${tsrun}`], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const D = (...a) => spawnSync('docker', ['-H', `unix://${sock}`, ...a], { encoding: 'utf8' });
  try {
    let up = false;
    for (let i = 0; i < 300 && d.exitCode === null; i++) {
      if (D('version').status === 0) { up = true; break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) return { skip: `dockerd did not come up: ${readFileSync(join(tmp, 'dockerd.log'), 'utf8').trim().split('\n').pop()}` };
    const imp = spawnSync('sh', ['-c', `tar -C ${join(root, 'test-bundle/rootfs')} -c . | docker -H unix://${sock} import - busybox:tsrun`], { encoding: 'utf8' });
    if (imp.status !== 0) return { skip: `image import failed: ${imp.stderr.trim()}` };
    const cmd = (r) => `docker -H unix://${sock} run --rm --runtime ${r} --network none busybox:tsrun true`;
    for (const r of ['tsrun', 'runc']) {
      const t = spawnSync('sh', ['-c', cmd(r)], { encoding: 'utf8' });
      if (t.status !== 0) return { skip: `docker run --runtime ${r} failed: ${t.stderr.trim().split('\n').pop()}` };
    }
    const rows = hyperfine('docker', ['tsrun', 'runc'].map((r) => [`docker run --runtime ${r}`, cmd(r)]), { runs: Math.min(runs, 15) });
    rows.unshift({ name: `dockerd ${firstLine(D('version', '-f', '{{.Server.Version}}').stdout)}, storage ${driver}`, info: true });
    return { rows };
  } finally {
    for (const c of (D('ps', '-aq').stdout ?? '').split('\n').filter(Boolean)) D('rm', '-f', c);
    let pid = d.pid;
    try { pid = Number(readFileSync(pidfile, 'utf8')) || d.pid; } catch { /* never wrote it */ }
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 100; i++) { try { process.kill(pid, 0); } catch { break; } await new Promise((r) => setTimeout(r, 100)); }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    // containerd and shims started for this daemon carry the temp dir in their argv: stop those, by pid
    for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        if (!readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(tmp)) continue;
        if (/^(containerd|dockerd)/.test(readFileSync(`/proc/${p}/comm`, 'utf8'))) process.kill(Number(p), 'SIGKILL');
      } catch { /* raced */ }
    }
    try { d.kill('SIGKILL'); } catch { /* gone */ }
    spawnSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrun-bench/docker; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; true']);
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------- 8. where the time goes: --debug phases and CPU profiles ----------
const phases = [];
const profiles = [];
if (!argv.includes('--no-profile') && want('profile')) {
  log('profiles');
  const n = quick ? 5 : 15;
  const R = rootFor('tsrun');
  const debugRun = (args) => {
    // stderr to a file, not a pipe: a created container's init keeps its stderr open until start
    const errFile = join(work, 'debug.err');
    const fd = openSync(errFile, 'w');
    const t0 = performance.now();
    spawnSync(tsrun, ['--debug', '--root', R, ...args], { env: { PATH }, stdio: ['ignore', 'ignore', fd] });
    const wall = performance.now() - t0;
    closeSync(fd);
    const marks = [...readFileSync(errFile, 'utf8').matchAll(/phase (.+?): ([\d.]+) ms \(at ([\d.]+) ms\)/g)].map((m) => [m[1].replace(/\(\d+ steps\)/, '(N steps)'), Number(m[2]), Number(m[3])]);
    return { wall, marks };
  };
  const cmds = [
    ['create', () => { spawnSync(tsrun, ['--root', R, 'delete', '-f', 'p'], { stdio: 'ignore' }); return debugRun(['create', '--bundle', trueBundle, 'p']); }],
    ['start', () => debugRun(['start', 'p'])],
    ['delete', () => { for (let i = 0; i < 200 && /running/.test(spawnSync(tsrun, ['--root', R, 'state', 'p'], { encoding: 'utf8' }).stdout); i++); return debugRun(['delete', 'p']); }],
    ['run', () => debugRun(['run', '--bundle', trueBundle, 'p'])],
    ['state', () => { spawnSync(tsrun, ['--root', R, 'run', '-d', '--bundle', sleepBundle('tsrun'), 'q'], { stdio: 'ignore' }); const r = debugRun(['state', 'q']); spawnSync(tsrun, ['--root', R, 'delete', '-f', 'q'], { stdio: 'ignore' }); return r; }],
  ];
  const acc = Object.fromEntries(cmds.map(([c]) => [c, { walls: [], marks: new Map() }]));
  for (let i = 0; i < n; i++) {
    for (const [c, f] of cmds) {
      const { wall, marks } = f();
      acc[c].walls.push(wall);
      for (const [name, d, at] of marks) { const m = acc[c].marks.get(name) ?? { d: [], at: [] }; m.d.push(d); m.at.push(at); acc[c].marks.set(name, m); }
    }
  }
  for (const [c] of cmds) phases.push({ cmd: c, wall: median(acc[c].walls), marks: [...acc[c].marks].map(([name, m]) => [name, median(m.d), median(m.at)]) });

  // CPU profiles of the launcher-less call (`node --cpu-prof dist/tsrun.cjs …`), self time by category
  const profDir = join(work, 'prof');
  const entry = join(root, 'dist/tsrun.cjs');
  const prof = (label, args, setup, teardown) => {
    const dir = join(profDir, label.replace(/\W+/g, '_'));
    for (let i = 0; i < n; i++) {
      setup?.();
      spawnSync(node, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, entry, '--root', R, ...args], { env: { PATH }, stdio: 'ignore' });
      teardown?.();
    }
    profiles.push({ label, cats: categorize(dir) });
  };
  {
    const dir = join(profDir, 'node');
    for (let i = 0; i < n; i++) spawnSync(node, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, '-e', '0'], { env: { PATH }, stdio: 'ignore' });
    profiles.push({ label: 'node -e 0', cats: categorize(dir) });
  }
  prof('tsrun --version', ['--version']);
  spawnSync(tsrun, ['--root', R, 'run', '-d', '--bundle', sleepBundle('tsrun'), 'q'], { stdio: 'ignore' });
  prof('tsrun state', ['state', 'q']);
  spawnSync(tsrun, ['--root', R, 'delete', '-f', 'q'], { stdio: 'ignore' });
  prof('tsrun create', ['create', '--bundle', trueBundle, 'p'], () => spawnSync(tsrun, ['--root', R, 'delete', '-f', 'p'], { stdio: 'ignore' }));
  prof('tsrun start', ['start', 'p'], () => { spawnSync(tsrun, ['--root', R, 'delete', '-f', 'p'], { stdio: 'ignore' }); spawnSync(tsrun, ['--root', R, 'create', '--bundle', trueBundle, 'p'], { stdio: 'ignore' }); });
  prof('tsrun run', ['run', '--bundle', trueBundle, 'p']);
  spawnSync(tsrun, ['--root', R, 'delete', '-f', 'p'], { stdio: 'ignore' });
}

function median(a) { const s = [...a].sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; }

/** Self time of every sample, by category, as the median over the profiles in dir. */
function categorize(dir) {
  const cats = ['wall (profile span)', 'idle: waiting (executor, kernel, children)', 'tsrun code', 'module loading and compiling', 'node bootstrap', 'Node built-ins used by tsrun', 'syscalls (fs)', 'GC', 'other'];
  const per = cats.map(() => []);
  let files = [];
  try { files = readdirSync(dir); } catch { return []; }
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    const sums = cats.map(() => 0);
    sums[0] = (p.endTime - p.startTime) / 1000;
    for (let i = 0; i < p.samples.length; i++) {
      const cf = byId.get(p.samples[i]).callFrame, us = (p.timeDeltas[i] ?? 0) / 1000;
      const u = cf.url, fn = cf.functionName;
      let c;
      if (fn === '(idle)') c = 1;
      else if (fn === '(garbage collector)') c = 7;
      else if (u.includes('/dist/')) c = 2;
      else if (/modules\/(cjs|esm)|modules\/helpers|modules\/package_json|node:vm|bootstrap\/realm/.test(u) || fn === 'compileFunction') c = 3;
      else if (/bootstrap|pre_execution|run_main|main\//.test(u) || fn === '(program)') c = 4;
      else if (u.startsWith('node:')) c = 5;
      else if (!u && fn) c = 6;
      else c = 8;
      sums[c] += us;
    }
    sums.forEach((v, i) => per[i].push(v));
  }
  return cats.map((name, i) => [name, median(per[i])]);
}

// ---------- cleanup ----------
for (const [n, p] of runtimes) for (const id of ['b', 'c', 'm', 'p', 'q', 'st']) spawnSync(p, ['--root', rootFor(n), 'delete', '-f', id], { stdio: 'ignore' });
spawnSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrun-bench; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; true']);
rmSync(work, { recursive: true, force: true });
rmSync(shm, { recursive: true, force: true });

// ---------- report ----------
const loadEnd = loadavg();
const version = (p) => firstLine(spawnSync(p, ['--version'], { encoding: 'utf8' }).stdout);
const cgMode = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)' : 'v1';
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const L = [];
L.push(`Generated by \`sudo node hack/bench.mjs${argv.length ? ' ' + argv.join(' ') : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`, '');
L.push(`- Machine: ${cpus().length} × ${cpus()[0]?.model?.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, cgroups ${cgMode}.`);
L.push(`- Load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at the end.`);
L.push(`- Versions: node ${process.version}; ${runtimes.map(([n, p]) => (n === 'tsrun' ? version(p) : version(p))).join('; ')}; ${firstLine(spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout)}.`);
L.push(`- Method: \`hyperfine -N\`, ${runs} runs per command in ${ROUNDS} series alternating between the commands of a table (${warmup} warm-up runs before the first), every command under \`env -i PATH=…\`, the same bundle (busybox, read-only rootfs, runc's default namespaces and mounts, \`cgroupsPath\` under \`/tsrun-bench\`), state roots on tmpfs. Medians; the ratio column divides by the row named in the table.`);
for (const n of notes) L.push(`- ${n}`);
L.push('', '### Summary', '', '| benchmark | tsrun | reference | ratio / difference | target | met |', '|---|---|---|---|---|---|');
for (const [what, v, ref, ratio, target, met, unit] of summary) L.push(`| ${what} | ${unit === 'MB' ? v.toFixed(2) + ' MB' : f1(v) + ' ms'} | ${ref} | ${ratio} | ${target} | ${met === undefined ? '' : met ? 'yes' : '**no**'} |`);
for (const s of sections) {
  L.push('', `### ${s.title}`, '');
  if (s.memory) {
    L.push('| process | VmRSS / maxrss KB | RssAnon KB | RssShmem KB | RssFile KB |', '|---|---|---|---|---|');
    for (const r of s.memory) L.push(`| ${r.name} | ${r.rss} | ${r.anon ?? ''} | ${r.shmem ?? ''} | ${r.file ?? ''} |`);
    continue;
  }
  if (s.concurrent) {
    L.push('| runtime | creates ok | wall, all creates | status `created` | deletes ok | wall, all deletes | leftovers (state dirs, cgroups, processes) |', '|---|---|---|---|---|---|---|');
    for (const r of s.concurrent) L.push(`| ${r.runtime} | ${r.ok}/${CONCURRENT} | ${r.createMs.toFixed(0)} ms | ${r.createdCount}/${CONCURRENT} | ${r.deleteOk}/${CONCURRENT} | ${r.deleteMs.toFixed(0)} ms | ${r.leftovers}${r.firstErr ? ` (first error: ${r.firstErr.slice(0, 120)})` : ''} |`);
    continue;
  }
  const baseRow = s.base && get(s.rows, s.base);
  L.push(`| command | median ms | mean ± σ ms | min ms | user+sys ms | ${baseRow ? (s.delta ? `vs ${s.base}` : `ratio to ${s.base}`) : ''} |`, '|---|---|---|---|---|---|');
  for (const r of s.rows) {
    if (r.info) { L.push(`| ${r.name} | | | | | |`); continue; }
    if (r.failed) { L.push(`| ${r.name} | failed: ${r.failed} | | | | |`); continue; }
    let rel = '';
    if (baseRow) rel = s.delta ? `${r.median >= baseRow.median ? '+' : '−'}${Math.abs(r.median - baseRow.median).toFixed(1)} ms` : `${(r.median / baseRow.median).toFixed(2)}×`;
    if (s.pairs) { const other = get(s.rows, r.name.replace(/^tsrun /, 'runc ')); if (r.name.startsWith('tsrun ') && other) rel = `${(r.median / other.median).toFixed(2)}× runc`; }
    L.push(`| ${r.name} | ${f1(r.median)} | ${f1(r.mean)} ± ${f1(r.stddev)} | ${f1(r.min)} | ${f1(r.user + r.system)} | ${rel} |`);
  }
}
if (phases.length) {
  L.push('', '### Where the time goes: `--debug` phases (medians of the per-phase times)', '');
  L.push('Each line is `phase <name>: <ms since the previous mark> (at <ms since Node started>)`; "node start and cli load" is the first mark, so its "at" is Node\'s own start plus loading the CLI. Wall is measured around the whole process.', '');
  for (const p of phases) {
    L.push(`| \`${p.cmd}\` phase | ms | at ms |`, '|---|---|---|');
    for (const [name, d, at] of p.marks) L.push(`| ${name} | ${f1(d)} | ${f1(at)} |`);
    L.push(`| *wall, launcher to exit* | | ${f1(p.wall)} |`, '');
  }
}
if (profiles.length) {
  L.push('', '### Where the time goes: CPU profiles (`node --cpu-prof`, self time by category, medians)', '');
  L.push('The profiler itself adds a few ms; compare rows with each other, not with the hyperfine tables.', '');
  const cats = profiles[0].cats.map(([c]) => c);
  L.push(`| category | ${profiles.map((p) => p.label).join(' | ')} |`, `|---|${profiles.map(() => '---').join('|')}|`);
  cats.forEach((c, i) => L.push(`| ${c} | ${profiles.map((p) => f1(p.cats[i]?.[1])).join(' | ')} |`));
}
const block = L.join('\n');
const doc = join(root, 'docs/performance.md');
const BEGIN = '<!-- bench:begin (generated by hack/bench.mjs; do not edit by hand) -->', END = '<!-- bench:end -->';
mkdirSync(dirname(doc), { recursive: true });
let text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Performance\n\n## Results\n\n${BEGIN}\n${END}\n`;
if (!text.includes(BEGIN)) text += `\n## Results\n\n${BEGIN}\n${END}\n`;
text = text.slice(0, text.indexOf(BEGIN) + BEGIN.length) + '\n' + block + '\n' + text.slice(text.indexOf(END));
if (!argv.includes('--print')) writeFileSync(doc, text);
console.log(block);
