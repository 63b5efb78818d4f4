/**
 * runtime.md: the operations (create, start, state, kill, delete), the lifecycle and its states, and the errors
 * the spec requires — plus the runc behaviour real callers depend on (caller-contract.md §6, §7, §10.1, §11.5).
 * The state JSON is validated against the state schema in every phase.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { Conformance, sh, deadOrZombie, waitFor, RUNTIME } from './harness.js';
import { validateState } from '../src/spec/validate.js';

const sb = new Conformance();
test.after(() => sb.cleanup());

test('create → created: state has the required fields, the pidfile holds the pid', () => {
  const pidFile = join(sb.dir('pid'), 'c.pid');
  const b = sb.created((c) => { c.process.args = ['sleep', '30']; c.annotations = { 'org.example.key': 'v' }; }, ['--pid-file', pidFile]);
  const s = sb.state(b.id);
  assert.is(s.status, 'created');
  assert.is(s.id, b.id);
  assert.is(s.bundle, b.dir, 'bundle is the absolute bundle path');
  assert.type(s.ociVersion, 'string');
  assert.ok(Number.isInteger(s.pid) && s.pid > 0, `pid ${s.pid}`);
  assert.ok(existsSync(`/proc/${s.pid}`), 'the pid is a live host process');
  assert.equal(s.annotations, { 'org.example.key': 'v' }, 'annotations from the config');
  const text = readFileSync(pidFile, 'utf8');
  assert.match(text, /^[0-9]+$/, `pidfile is a decimal pid without newline: ${JSON.stringify(text)}`);
  assert.is(Number(text), s.pid);
});

test('the user program does not run before start, and runs after it', () => {
  const mark = sb.dir('mark');
  const b = sb.created((c) => {
    c.mounts.push({ destination: '/run', type: 'bind', source: mark, options: ['rbind', 'rw'] });
    c.process.args = sh('touch /run/ran; sleep 30');
  });
  assert.not.ok(existsSync(join(mark, 'ran')), 'nothing ran after create');
  assert.is(sb.state(b.id).status, 'created');
  const st = sb.rt(['start', b.id]);
  assert.is(st.status, 0, st.stderr);
  assert.ok(waitFor(() => existsSync(join(mark, 'ran'))), 'the program ran after start');
  const s = sb.state(b.id);
  assert.is(s.status, 'running');
  assert.ok(s.pid > 0);
});

test('full lifecycle: created → running → stopped (kill) → deleted, state valid in every phase', () => {
  const b = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  assert.is(sb.rt(['start', b.id]).status, 0);
  const running = sb.state(b.id);
  assert.is(running.status, 'running');
  assert.is(running.pid, pid, 'the pid does not change at start');
  const k = sb.rt(['kill', b.id, 'KILL']);
  assert.is(k.status, 0, k.stderr);
  assert.ok(sb.waitStatus(b.id, 'stopped'), 'stopped after SIGKILL');
  const stopped = sb.state(b.id);
  assert.is(stopped.status, 'stopped');
  assert.ok(!stopped.pid, `no pid when stopped (runc prints 0): ${stopped.pid}`);
  const d = sb.rt(['delete', b.id]);
  assert.is(d.status, 0, d.stderr);
  const gone = sb.rt(['state', b.id]);
  assert.is.not(gone.status, 0, 'state of a deleted container fails');
  assert.match(gone.stderr, /container does not exist/);
});

test('a program that exits by itself leaves the container stopped', () => {
  const b = sb.started((c) => { c.process.args = sh('exit 0'); });
  assert.ok(sb.waitStatus(b.id, 'stopped'), 'stopped');
  sb.state(b.id);
  assert.is(sb.rt(['delete', b.id]).status, 0);
});

test('status is derived afresh: init killed from the host while created → stopped', () => {
  const b = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  process.kill(pid, 'SIGKILL');
  assert.ok(waitFor(() => deadOrZombie(pid)));
  assert.ok(sb.waitStatus(b.id, 'stopped'), `status after the init died: ${sb.status(b.id)}`);
  assert.is(sb.state(b.id).status, 'stopped');
  assert.is(sb.rt(['delete', b.id]).status, 0);
});

// ---- errors the spec requires ----

test('unknown id: state, start, kill, delete fail with "container does not exist"', () => {
  for (const args of [['state'], ['start'], ['kill'], ['kill', '--all'], ['delete']]) {
    const r = sb.rt([...args, 'no-such-container']);
    assert.is.not(r.status, 0, `${args.join(' ')} of an unknown id must fail`);
    assert.match(r.stderr, /container does not exist/, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('delete --force of an unknown id succeeds (runc; podman and the shim rely on it)', () => {
  const r = sb.rt(['delete', '--force', 'no-such-container']);
  assert.is(r.status, 0, r.stderr);
});

test('missing id: start, state, kill and delete fail', () => {
  for (const v of ['start', 'state', 'kill', 'delete']) assert.is.not(sb.rt([v]).status, 0, `${v} without an id`);
});

test('create with an id that exists fails and leaves the first container alone', () => {
  const b = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  const again = sb.rt(['create', '--bundle', b.dir, b.id]);
  assert.is.not(again.status, 0);
  assert.match(again.stderr, /container with given ID already exists/);
  const s = sb.state(b.id);
  assert.is(s.status, 'created');
  assert.is(s.pid, pid);
});

test('invalid container ids are refused', () => {
  const b = sb.bundle((c) => { c.process.args = ['true']; });
  for (const id of ['..', 'a/b', 'a b', 'x:y']) {
    const r = sb.rt(['create', '--bundle', b.dir, id]);
    assert.is.not(r.status, 0, `id ${JSON.stringify(id)} accepted`);
    assert.match(r.stderr, /invalid container ID format/, r.stderr);
  }
});

test('start twice: "cannot start an already running container"', () => {
  const b = sb.started((c) => { c.process.args = ['sleep', '30']; });
  const r = sb.rt(['start', b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /cannot start an already running container/);
  assert.is(sb.state(b.id).status, 'running', 'unaffected');
});

test('start of a stopped container: "cannot start a container that has stopped"', () => {
  const b = sb.started((c) => { c.process.args = ['true']; });
  assert.ok(sb.waitStatus(b.id, 'stopped'));
  const r = sb.rt(['start', b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /cannot start a container that has stopped/);
  assert.is(sb.state(b.id).status, 'stopped');
});

test('delete of a running container fails and has no effect', () => {
  const b = sb.started((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  const r = sb.rt(['delete', b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, new RegExp(`cannot delete container ${b.id} that is not stopped: running`));
  const s = sb.state(b.id);
  assert.is(s.status, 'running');
  assert.is(s.pid, pid);
  assert.not.ok(deadOrZombie(pid));
});

test('delete --force of a running container kills it and removes it', () => {
  const b = sb.started((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  const r = sb.rt(['delete', '--force', b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(waitFor(() => deadOrZombie(pid)), 'the process is gone');
  assert.is(sb.status(b.id), 'gone');
});

test('delete of a created container succeeds and the program never runs (runc; the shim relies on it)', () => {
  const mark = sb.dir('mark-created');
  const b = sb.created((c) => {
    c.mounts.push({ destination: '/run', type: 'bind', source: mark, options: ['rbind', 'rw'] });
    c.process.args = sh('touch /run/ran');
  });
  const pid = sb.state(b.id).pid;
  const r = sb.rt(['delete', b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(waitFor(() => deadOrZombie(pid)));
  assert.is(sb.status(b.id), 'gone');
  assert.not.ok(existsSync(join(mark, 'ran')));
});

test('kill of a stopped container: "container not running"; with --all it succeeds', () => {
  const b = sb.started((c) => { c.process.args = ['true']; });
  assert.ok(sb.waitStatus(b.id, 'stopped'));
  const r = sb.rt(['kill', b.id, 'KILL']);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /container not running/);
  const all = sb.rt(['kill', '--all', b.id, 'KILL']);
  assert.is(all.status, 0, all.stderr);
});

test('kill: signal by number, by name with and without SIG; default TERM; unknown signal fails', () => {
  const mark = sb.dir('sig');
  // The init traps signals and records them; pid 1 only receives signals it has handlers for.
  const b = sb.started((c) => {
    c.mounts.push({ destination: '/run', type: 'bind', source: mark, options: ['rbind', 'rw'] });
    c.process.args = sh("trap 'echo USR1 >> /run/got' USR1; trap 'echo HUP >> /run/got' HUP; trap 'echo TERM >> /run/got; exit 0' TERM; touch /run/ready; while :; do sleep 0.05; done");
  });
  assert.ok(waitFor(() => existsSync(join(mark, 'ready'))));
  const got = () => (existsSync(join(mark, 'got')) ? readFileSync(join(mark, 'got'), 'utf8').split('\n').filter(Boolean) : []);
  assert.is(sb.rt(['kill', b.id, '10']).status, 0, 'decimal');
  assert.ok(waitFor(() => got().length === 1), 'USR1 by number');
  assert.is(sb.rt(['kill', b.id, 'SIGHUP']).status, 0);
  assert.ok(waitFor(() => got().length === 2), 'SIGHUP');
  assert.is(sb.rt(['kill', b.id, 'usr1']).status, 0, 'lower case, no SIG');
  assert.ok(waitFor(() => got().length === 3));
  const bad = sb.rt(['kill', b.id, 'NOPE']);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /unknown signal/);
  assert.is(sb.rt(['kill', b.id]).status, 0, 'default signal');
  assert.ok(waitFor(() => got().length === 4));
  assert.equal(got(), ['USR1', 'HUP', 'USR1', 'TERM']);
  assert.ok(sb.waitStatus(b.id, 'stopped'), 'the program exited on TERM');
});

test('kill of a created container is delivered to the init (it then stops)', () => {
  const b = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const pid = sb.state(b.id).pid;
  assert.is(sb.rt(['kill', b.id, 'KILL']).status, 0);
  assert.ok(waitFor(() => deadOrZombie(pid)));
  assert.ok(sb.waitStatus(b.id, 'stopped'));
  assert.is(sb.rt(['delete', b.id]).status, 0);
});

test('pidfile: a relative --pid-file is resolved against the caller\'s cwd, not the bundle', () => {
  const cwd = sb.dir('cwd');
  const b = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  const r = sb.rt(['create', '--bundle', b.dir, '--pid-file', 'rel.pid', b.id], { cwd });
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(cwd, 'rel.pid')), 'pidfile in the cwd');
  assert.not.ok(existsSync(join(b.dir, 'rel.pid')), 'not in the bundle');
  assert.is(Number(readFileSync(join(cwd, 'rel.pid'), 'utf8')), sb.state(b.id).pid);
});

test('--bundle defaults to the current directory', () => {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  const r = sb.rt(['create', b.id], { cwd: b.dir });
  assert.is(r.status, 0, r.stderr);
  assert.is(sb.state(b.id).bundle, b.dir);
});

test('run: foreground exit status, stdout and stderr; the container is gone afterwards', () => {
  const r = sb.run((c) => { c.process.args = sh('echo out; echo err >&2; exit 7'); });
  assert.is(r.status, 7);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'err\n');
  assert.is(sb.status(r.id), 'gone');
});

test('run --detach leaves a running container', () => {
  const b = sb.bundle((c) => { c.process.args = ['sleep', '30']; });
  const r = sb.rt(['run', '--detach', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  const s = sb.state(b.id);
  assert.is(s.status, 'running');
  assert.ok(s.pid > 0);
});

test('list shows created and running containers (runc extension)', () => {
  const a = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const r = sb.rt(['list', '--format', 'json']);
  assert.is(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  const mine = list.find((x: any) => x.id === a.id);
  assert.ok(mine, 'listed');
  assert.is(mine.status, 'created');
  assert.is(mine.pid, sb.state(a.id).pid);
  assert.ok(sb.rt(['list', '-q']).stdout.split('\n').includes(a.id), 'list -q prints ids');
});

test('list skips entries it cannot load (Docker puts runc and tsrun containers in one root)', () => {
  // A live runc-format container directory next to our own container: runc's state.json shape, a live init pid
  // with its real start time, and an exec fifo (a created runc container).
  const own = sb.created((c) => { c.process.args = ['sleep', '30']; });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const start = Number(readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
    const dir = join(sb.root, 'foreign-runc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({
      id: 'foreign-runc', init_process_pid: sleeper.pid, init_process_start: start, created: new Date().toISOString(),
      config: { rootfs: '/nonexistent', labels: ['bundle=/nonexistent'] }, rootless: false,
      cgroup_paths: {}, namespace_paths: {}, external_descriptors: [], intel_rdt_path: '',
    }));
    spawnSync('mkfifo', [join(dir, 'exec.fifo')]);
    const r = sb.rt(['list', '--format', 'json']);
    assert.is(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as any[];
    assert.ok(list.some((x) => x.id === own.id), 'our own container is listed');
    for (const x of list) {
      const { owner: _owner, ...st } = x;
      assert.equal(validateState(st), [], `a listed entry is a valid state (runc skips what it cannot load): ${JSON.stringify(x)}`);
    }
    const q = sb.rt(['list', '-q']);
    assert.is(q.status, 0, q.stderr);
    assert.ok(q.stdout.split('\n').includes(own.id));
    const table = sb.rt(['list']);
    assert.is(table.status, 0, `list (table format): ${table.stderr}`);
    assert.match(table.stdout, new RegExp(`^${own.id}\\s+\\d+\\s+created\\s`, 'm'));
  } finally {
    sleeper.kill('SIGKILL');
    rmSync(join(sb.root, 'foreign-runc'), { recursive: true, force: true });
  }
});

test('the state directory root is created with restrictive permissions', () => {
  const root = join(sb.tmp, 'fresh-root');
  const b = sb.bundle((c) => { c.process.args = ['true']; });
  const r = spawnSync(RUNTIME, ['--root', root, 'run', '--bundle', b.dir, b.id], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(statSync(root).mode & 0o077, 0, `root mode ${(statSync(root).mode & 0o777).toString(8)}`);
});

test.run();
