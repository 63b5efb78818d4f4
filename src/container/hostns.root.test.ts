/**
 * A container with no mount namespace (runtime-spec: an unlisted namespace type is inherited; runtime-tools
 * linux_ns_itype): its mounts are made in the caller's mount namespace, so each case runs the whole lifecycle in a
 * private one of its own (`unshare -m`) and reads that namespace's mountinfo between the calls. Needs root.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, RUNTIME, TEST_BUNDLE } from '../testing/harness.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());
const ROOTFS = realpathSync(join(TEST_BUNDLE, 'rootfs'));

function noMountNs(args: string[]) {
  return sb.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
    delete c.linux.maskedPaths; // runc (and tsrun) refuse masked/read-only paths without a private mount namespace
    delete c.linux.readonlyPaths;
    c.process.terminal = false;
    c.process.args = args;
  });
}

/** Runs `script` in a private mount namespace with $RT (the runtime with --root), $B (bundle), $ID, $ROOTFS. */
function inPrivateMountNs(script: string, b: { dir: string; id: string }) {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `count() { grep -c " ${ROOTFS}[/ ]" /proc/self/mountinfo || true; }\n${script}`], {
    encoding: 'utf8', env: { PATH: process.env.PATH, RT: RUNTIME, R: sb.root, B: b.dir, ID: b.id, ROOTFS },
  });
  return { ...r, lines: r.stdout.trim().split('\n') };
}

test('create/start/exec/delete: mounts under the rootfs in the caller\'s namespace, exec in the container root, delete detaches them', () => {
  const b = noMountNs(['sleep', '60']);
  const r = inPrivateMountNs(`
    echo before $(count)
    "$RT" --root "$R" create --bundle "$B" "$ID" || exit 1
    echo created $(count)
    "$RT" --root "$R" start "$ID" || exit 1
    "$RT" --root "$R" exec "$ID" sh -c 'test -x /bin/busybox && echo exec-root-ok; readlink /proc/self/ns/mnt'
    readlink /proc/self/ns/mnt
    "$RT" --root "$R" kill "$ID" KILL
    "$RT" --root "$R" delete --force "$ID" || exit 1
    echo deleted $(count)`, b);
  assert.is(r.status, 0, r.stderr);
  const [before, created, execRoot, execMnt, callerMnt, deleted] = r.lines;
  assert.is(before, 'before 0');
  assert.ok(Number(created!.split(' ')[1]) >= 5, `proc, dev, … mounted under the rootfs: ${created}`);
  assert.is(execRoot, 'exec-root-ok', 'exec runs in the container\'s root, not the host\'s');
  assert.is(execMnt, callerMnt, 'and in the caller\'s mount namespace');
  assert.is(deleted, 'deleted 0', 'delete detached every mount the container made');
  assert.match(r.stderr, /no mount namespace: the container's mounts are made in the caller's mount namespace/);
});

test('a failed create leaves no mount behind', () => {
  const b = noMountNs(['/nonexistent']);
  const r = inPrivateMountNs(`"$RT" --root "$R" create --bundle "$B" "$ID"; echo status $?; echo left $(count); ls "$R"`, b);
  assert.equal(r.lines.slice(0, 2), ['status 1', 'left 0'], r.stderr);
  assert.equal(r.lines.slice(2), [], 'no state dir');
  assert.match(r.stderr, /no such file or directory/);
});

test('a mount stacked on the rootfs by someone else is never detached by delete', () => {
  const b = noMountNs(['sleep', '60']);
  const r = inPrivateMountNs(`
    "$RT" --root "$R" run -d --bundle "$B" "$ID" </dev/null >/dev/null 2>&1 || exit 1
    mount -t tmpfs other "$ROOTFS" || exit 1
    "$RT" --root "$R" delete --force "$ID" 2>/dev/null || exit 1
    grep " $ROOTFS " /proc/self/mountinfo | grep -c " - tmpfs other "`, b);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.lines[0], '1', 'the tmpfs someone stacked on top stays');
});

test.run();
