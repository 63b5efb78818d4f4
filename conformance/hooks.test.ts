/**
 * config.md "POSIX-platform Hooks" and runtime.md lifecycle steps: hook argv/env, order within a kind, timeout,
 * what a failing hook of each kind does, where poststart runs, and that hook output never reaches the runtime's
 * own stdout/stderr on success (caller-contract.md §9). The order across kinds and the state on stdin are in
 * config.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conformance, sh, deviates, lines, waitFor } from './harness.js';

const sb = new Conformance();
test.after(() => sb.cleanup());

const hsh = (cmd: string, extra: object = {}) => ({ path: '/bin/sh', args: ['sh', '-c', cmd], ...extra });

/** A bundle whose program marks /run/ran (bind-mounted from the returned dir), plus hooks. */
function withHooks(hooks: (d: string) => any, args = 'echo ran > /run/ran; sleep 30') {
  const d = sb.dir(`h${Math.random().toString(36).slice(2, 8)}`);
  const b = sb.bundle((c) => {
    c.mounts.push({ destination: '/run', type: 'bind', source: d, options: ['rbind', 'rw'] });
    c.process.args = sh(args);
    c.hooks = hooks(d);
  });
  return { ...b, d };
}

test('hooks: path, args (args[0] is argv[0]) and env exactly as configured', () => {
  const h = withHooks((d) => ({
    prestart: [{ path: '/bin/sh', args: ['my-argv0', '-c', `tr '\\0' '|' < /proc/$$/cmdline > ${d}/args; env | sort > ${d}/env`, 'one', 'two words'], env: ['FOO=bar', 'PATH=/usr/bin:/bin'] }],
  }));
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  const argv = readFileSync(join(h.d, 'args'), 'utf8');
  assert.ok(argv.startsWith('my-argv0|-c|'), argv);
  assert.ok(argv.endsWith('|one|two words|'), argv);
  const env = lines(join(h.d, 'env')).filter((v) => !/^(PWD|SHLVL|_)=/.test(v));
  assert.equal(env, ['FOO=bar', 'PATH=/usr/bin:/bin']);
});

test('hooks: several hooks of one kind run in array order', () => {
  const h = withHooks((d) => ({ prestart: [1, 2, 3].map((n) => hsh(`echo ${n} >> ${d}/order`)) }));
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.equal(lines(join(h.d, 'order')), ['1', '2', '3']);
});

test('hooks: output of successful hooks does not reach the runtime\'s stdout or stderr', () => {
  const h = withHooks(() => ({
    createRuntime: [hsh('echo noise-cr; echo noise-cr-err >&2')],
    prestart: [hsh('echo noise-ps; echo noise-ps-err >&2')],
    poststart: [hsh('echo noise-post; echo noise-post-err >&2')],
  }));
  const c = sb.rt(['create', '--bundle', h.dir, h.id]);
  assert.is(c.status, 0, c.stderr);
  const s = sb.rt(['start', h.id]);
  assert.is(s.status, 0, s.stderr);
  assert.is(c.stdout + s.stdout, '', 'nothing on stdout');
  assert.is(c.stderr + s.stderr, '', 'nothing on stderr');
});

test('hooks: a hook that exceeds its timeout fails create promptly', () => {
  // exec: the process killed at the timeout is the one holding the hook's output pipe.
  const h = withHooks(() => ({ prestart: [hsh('exec sleep 20', { timeout: 1 })] }));
  const t0 = Date.now();
  const r = sb.rt(['create', '--bundle', h.dir, h.id]);
  const ms = Date.now() - t0;
  assert.is.not(r.status, 0);
  assert.ok(ms < 8000, `create took ${ms} ms`);
  assert.is(sb.status(h.id), 'gone');
});

for (const kind of ['createRuntime', 'prestart', 'createContainer']) {
  test(`hooks: a failing ${kind} hook fails create; the program never runs; nothing is left`, () => {
    const h = withHooks(() => ({ [kind]: [hsh('exit 3')] }));
    const r = sb.rt(['create', '--bundle', h.dir, h.id]);
    assert.is.not(r.status, 0);
    assert.ok(r.stderr.length > 0, 'an error message');
    assert.is(sb.status(h.id), 'gone');
    assert.not.ok(existsSync(join(h.d, 'ran')));
  });

  test(`hooks: after a failing ${kind} hook the lifecycle continues at delete: poststop hooks run`, () => {
    const h = withHooks((d) => ({ [kind]: [hsh('exit 3')], poststop: [hsh(`echo poststop >> ${d}/marks`)] }));
    assert.is.not(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
    assert.equal(lines(join(h.d, 'marks')), ['poststop']);
  });
}

test('hooks: a failing startContainer hook: the program never runs and the container ends up stopped', () => {
  const h = withHooks(() => ({ startContainer: [hsh('exit 3')] }));
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  sb.rt(['start', h.id]);
  assert.ok(sb.waitStatus(h.id, 'stopped'), `status ${sb.status(h.id)}`);
  assert.not.ok(existsSync(join(h.d, 'ran')));
  assert.is(sb.rt(['delete', h.id]).status, 0);
});

deviates(['runc'], 'runc 1.1.5 runs poststart hooks inside create, before the program is executed', 'hooks: poststart runs after the program was executed (the init already is the user program)', () => {
  const h = withHooks((d) => ({
    poststart: [hsh(`pid=$(sed 's/.*"pid": *\\([0-9]*\\).*/\\1/'); tr '\\0' ' ' < /proc/$pid/cmdline > ${d}/cmdline`)],
  }), 'exec sleep 30');
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.not.ok(existsSync(join(h.d, 'cmdline')), 'poststart did not run at create');
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.ok(waitFor(() => existsSync(join(h.d, 'cmdline'))), 'poststart ran by the time start returned');
  assert.match(readFileSync(join(h.d, 'cmdline'), 'utf8'), /^(sh -c exec )?sleep 30/);
});

deviates(['runc'], 'runc 1.1.5 fails create when a poststart hook fails', 'hooks: a failing poststart hook is a warning; start succeeds and the program keeps running', () => {
  const h = withHooks(() => ({ poststart: [hsh('exit 3')] }));
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.ok(waitFor(() => existsSync(join(h.d, 'ran'))));
  assert.is(sb.state(h.id).status, 'running');
});

deviates(['runc'], 'runc 1.1.5 fails create when a poststart hook fails', 'hooks: after a failing poststart hook the remaining poststart hooks still run', () => {
  const h = withHooks((d) => ({ poststart: [hsh('exit 3'), hsh(`echo second >> ${d}/marks`)] }));
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.equal(lines(join(h.d, 'marks')), ['second']);
});

test('hooks: a failing poststop hook does not fail delete; the container is gone', () => {
  const h = withHooks(() => ({ poststop: [hsh('exit 3')] }), 'true');
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.ok(sb.waitStatus(h.id, 'stopped'));
  const d = sb.rt(['delete', h.id]);
  assert.is(d.status, 0, d.stderr);
  assert.is(sb.status(h.id), 'gone');
});

deviates(['runc'], 'runc 1.1.5 stops at the first failing poststop hook', 'hooks: after a failing poststop hook the remaining poststop hooks still run', () => {
  const h = withHooks((d) => ({ poststop: [hsh('exit 3'), hsh(`echo second >> ${d}/marks`)] }), 'true');
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.ok(sb.waitStatus(h.id, 'stopped'));
  assert.is(sb.rt(['delete', h.id]).status, 0);
  assert.equal(lines(join(h.d, 'marks')), ['second']);
});

test('hooks: poststop runs once, at delete, with status "stopped"', () => {
  const h = withHooks((d) => ({ poststop: [hsh(`cat > ${d}/poststop.json; echo x >> ${d}/count`)] }), 'true');
  assert.is(sb.rt(['create', '--bundle', h.dir, h.id]).status, 0);
  assert.is(sb.rt(['start', h.id]).status, 0);
  assert.ok(sb.waitStatus(h.id, 'stopped'));
  assert.not.ok(existsSync(join(h.d, 'count')), 'not when the program exits');
  assert.is(sb.rt(['delete', h.id]).status, 0);
  assert.is(sb.rt(['delete', '--force', h.id]).status, 0);
  assert.equal(lines(join(h.d, 'count')), ['x'], 'exactly once');
  const st = JSON.parse(readFileSync(join(h.d, 'poststop.json'), 'utf8'));
  assert.is(st.status, 'stopped');
  assert.is(st.id, h.id);
});

test.run();
