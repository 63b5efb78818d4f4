// Root: the helper executor that makes an idmapped mount's user namespace (the mount itself, seen from inside a
// container, is tested in src/container/rootfs.root.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeIdmapUserns } from './idmap-userns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const exe = join(root, 'dist/libexec/tsrun-executor');

/** Our live children (spawned from the main thread). */
const children = () => readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
/** The user namespaces we hold fds of. */
const usernsFds = () => readdirSync('/proc/self/fd').flatMap((n) => {
  try { return [readlinkSync(`/proc/self/fd/${n}`)].filter((l) => l.startsWith('user:')); } catch { return []; }
});

test('an fd of a new user namespace with exactly the maps asked for; the helper has exited', async () => {
  const fd = await makeIdmapUserns(exe, '0 100000 65536\n', '0 200000 10\n1000 300000 1\n');
  try {
    const ns = readlinkSync(`/proc/self/fd/${fd}`);
    assert.match(ns, /^user:\[\d+\]$/);
    assert.is.not(ns, readlinkSync('/proc/self/ns/user'), 'not ours');
    assert.equal(children(), [], 'the helper executor is gone (exited and reaped)');
    // what the namespace maps, as a process inside it reads it
    const r = spawnSync('nsenter', [`--user=/proc/${process.pid}/fd/${fd}`, 'cat', '/proc/self/uid_map', '/proc/self/gid_map'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['0 100000 65536', '0 200000 10', '1000 300000 1']);
  } finally {
    closeSync(fd);
  }
});

test('maps the kernel refuses: the error names the file; no fd, no process left', async () => {
  const before = usernsFds();
  try {
    await makeIdmapUserns(exe, '0 100000 0\n', '0 100000 1\n');
    assert.unreachable('a zero-sized mapping must fail');
  } catch (e) {
    assert.match((e as Error).message, /^write \/proc\/\d+\/uid_map: /);
  }
  assert.equal(usernsFds(), before);
  assert.equal(children(), []);
});

test.run();
