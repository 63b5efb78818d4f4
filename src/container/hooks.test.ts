import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runHook, runHooks } from './hooks.js';

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

test('a hook that cannot be started: Go\'s fork/exec wording (what runc prints)', async () => {
  assert.is(await failure(runHook('prestart', 0, { path: '/nonexistent/hook' }, '{}')),
    'error running prestart hook #0: fork/exec /nonexistent/hook: no such file or directory');
});

test('exit status and output of a failing hook; the state JSON arrives on stdin', async () => {
  const msg = await failure(runHook('createRuntime', 2, { path: '/bin/sh', args: ['sh', '-c', 'cat; echo; echo oops >&2; exit 3'] }, '{"id":"x"}'));
  assert.is(msg, 'error running createRuntime hook #2: /bin/sh: exit status 3, output: {"id":"x"}\noops');
});

test('timeout kills the hook', async () => {
  const msg = await failure(runHook('prestart', 0, { path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }, '{}'));
  assert.is(msg, 'error running prestart hook #0: /bin/sleep: timed out after 1s');
});

test('env is exactly the hook\'s own; poststop runs every hook and reports every failure', async () => {
  await runHook('poststart', 0, { path: '/bin/sh', args: ['sh', '-c', 'test "$A" = 1 && test -z "$HOME"'], env: ['A=1'] }, '{}');
  const msg = await failure(runHooks('poststop', [{ path: '/bin/false' }, { path: '/bin/true' }, { path: '/nonexistent/h' }], '{}'));
  assert.is(msg, 'error running poststop hook #0: /bin/false: exit status 1; error running poststop hook #2: fork/exec /nonexistent/h: no such file or directory');
});

test.run();
