import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeFailure } from './create.js';
import type { Plan, Step } from '../plan/steps.js';

const plan = (...steps: Step[]): Plan => ({ steps, fds: [], slots: 0 }) as unknown as Plan;
const chdir = { kind: 'chdir', label: 'chdir /missing', path: '/missing' } as Step;
const resolve = (name: string) => ({ kind: 'resolve', label: `resolve ${name}`, name, path: ['/bin'] }) as unknown as Step;
const P = 'unable to start container process: ';

test('chdir: runc\'s words, which docker exec -w shows as they are', () => {
  assert.is(describeFailure(plan(chdir), { step: 0, errno: 2, op: 'chdir', path: '/missing' }),
    `${P}chdir to cwd ("/missing") set in config.json failed: no such file or directory`);
  assert.is(describeFailure(plan(chdir), { step: 0, errno: 20, op: 'chdir', path: '/missing' }),
    `${P}chdir to cwd ("/missing") set in config.json failed: not a directory`);
});

test('a cwd outside the root (CVE-2024-21626): runc\'s breakout message', () => {
  assert.is(describeFailure(plan(chdir), { step: 0, errno: 2, op: 'getcwd', path: '/missing' }),
    `${P}current working directory is outside of container mount namespace root -- possible container breakout detected`);
});

test('resolve: the wordings Docker and podman map to 127 and 126', () => {
  assert.is(describeFailure(plan(resolve('foo')), { step: 0, errno: 2, op: 'stat', path: 'foo' }),
    `${P}exec: "foo": executable file not found in $PATH`);
  assert.is(describeFailure(plan(resolve('/x/foo')), { step: 0, errno: 2, op: 'stat', path: '/x/foo' }),
    `${P}exec: "/x/foo": stat /x/foo: no such file or directory`);
  assert.is(describeFailure(plan(resolve('/x/foo')), { step: 0, errno: 13, op: 'stat', path: '/x/foo' }),
    `${P}exec: "/x/foo": permission denied`);
});

test('any other step: numbered, labelled, with op, path and Go\'s errno text', () => {
  const hostname = { kind: 'hostname', label: 'hostname box', name: 'box' } as unknown as Step;
  assert.is(describeFailure(plan(chdir, hostname), { step: 1, errno: 1, op: 'sethostname', path: '' }),
    `${P}error during container init: step 2/2 (hostname box): sethostname: operation not permitted`);
});

test.run();
