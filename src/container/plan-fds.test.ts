import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import type { FdSource, Plan } from '../plan/steps.js';
import { closeOwned, openPlanFds } from './plan-fds.js';

const planOf = (fds: FdSource[]): Plan => ({ fds, slots: 0, steps: [] } as unknown as Plan);
const openFds = () => readdirSync('/proc/self/fd').length;
const dir = mkdtempSync(join(tmpdir(), 'tsrun-plan-fds-'));
const file = join(dir, 'f');
writeFileSync(file, 'x');

test('opens the table in order and passes borrowed fds through untouched', () => {
  const plan = planOf([
    { kind: 'path', path: file, flags: 'read', what: 'a file' },
    { kind: 'log', what: 'the log' },
    { kind: 'consoleSocket', path: '/s', what: 'console' },
    { kind: 'path', path: dir, flags: 'dir', what: 'a dir' },
    { kind: 'seccompListener', path: '/l', what: 'agent' },
  ]);
  const fds = openPlanFds(plan, { console: { fd: 1001 }, listener: { fd: 1002 }, logFd: () => 1000 });
  assert.equal(fds.length, 5);
  assert.equal(fds.slice(1, 3), [1000, 1001]);
  assert.equal(fds[4], 1002);
  assert.ok(fstatSync(fds[0]!).isFile());
  assert.ok(fstatSync(fds[3]!).isDirectory());
  closeOwned(plan, fds);
  assert.throws(() => fstatSync(fds[0]!));
});

test('a failed open names the path and what it was for, and closes what was opened', () => {
  const before = openFds();
  const plan = planOf([
    { kind: 'path', path: file, flags: 'read', what: 'a file' },
    { kind: 'path', path: join(dir, 'missing'), flags: 'write', what: 'cgroup.procs of the container' },
  ]);
  try {
    openPlanFds(plan, { logFd: () => 2 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, TsrunError);
    assert.equal((e as TsrunError).code, 'ERR_TSRUN_OPEN');
    assert.is((e as Error).message, `open ${join(dir, 'missing')} (cgroup.procs of the container): no such file or directory`);
  }
  assert.is(openFds(), before);
});

test("'dir' sources must be directories (O_DIRECTORY)", () => {
  assert.throws(() => openPlanFds(planOf([{ kind: 'path', path: file, flags: 'dir', what: 'rootfs' }]), { logFd: () => 2 }), /not a directory/);
});

test('onOpenError maps a failure to the caller\'s error', () => {
  const plan = planOf([{ kind: 'path', path: join(dir, 'gone'), flags: 'read', what: 'ns' }]);
  const mapped = new TsrunError('ERR_TSRUN_STATE', 'cannot exec in a stopped container');
  try {
    openPlanFds(plan, { logFd: () => 2, onOpenError: (_p, e) => (e.code === 'ENOENT' ? mapped : undefined) });
    assert.unreachable();
  } catch (e) {
    assert.is(e, mapped);
  }
});

test('a console or listener the plan needs but nobody connected is an error, nothing left open', () => {
  const before = openFds();
  const needsConsole = planOf([{ kind: 'path', path: file, flags: 'read', what: 'f' }, { kind: 'consoleSocket', path: '/s', what: 'c' }]);
  assert.throws(() => openPlanFds(needsConsole, { logFd: () => 2 }), /needs a console socket/);
  assert.throws(() => openPlanFds(planOf([{ kind: 'seccompListener', path: '/l', what: 'l' }]), { logFd: () => 2 }), /seccomp listener/);
  assert.is(openFds(), before);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
