/**
 * The session keyring in real containers (runc's behaviour): the init joins a keyring of its own, "_ses.<id>",
 * searchable by its user (by others in a user namespace); exec'd processes join the same one; --no-new-keyring
 * keeps the caller's. A small static probe (built here with cc) prints the session keyring's id and description.
 * Needs root. OCI_RUNTIME=runc runs the same tests against runc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../testing/harness.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

// its own world-searchable directory: the mapped root of the user-namespace case must reach it
const probeDir = mkdtempSync(join(tmpdir(), 'tsrun-keys-'));
chmodSync(probeDir, 0o755);
test.after(() => rmSync(probeDir, { recursive: true, force: true }));
writeFileSync(join(probeDir, 'keys.c'), `
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>
int main(void) {
  char d[512] = "";
  long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, d, sizeof d);
  printf("%ld %s\\n", id, n > 0 ? d : "?");
  return id < 0;
}
`);
const cc = spawnSync('cc', ['-static', '-O1', '-o', join(probeDir, 'keys'), join(probeDir, 'keys.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`cannot build the keyring probe: ${cc.stderr}`);

/** The probe's line: the session keyring's id, its permissions and its name. */
function parse(line: string): { id: string; perm: number; name: string } {
  const [id, desc] = line.trim().split(' ');
  const f = (desc ?? '').split(';');
  return { id: id!, perm: parseInt(f[3] ?? '0', 16), name: f.slice(4).join(';') };
}
const host = parse(spawnSync(join(probeDir, 'keys'), { encoding: 'utf8' }).stdout);

function bundle(edit: (c: any) => void = () => {}) {
  return sb.bundle((c) => {
    c.mounts.push({ destination: '/home', type: 'bind', source: probeDir, options: ['rbind', 'ro'] }); // /home: exists in the shared rootfs
    c.process.args = ['/home/keys'];
    edit(c);
  });
}

test('the init has a session keyring of its own, "_ses.<id>", searchable by its user', () => {
  const b = bundle();
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  const k = parse(r.stdout);
  assert.is(k.name, `_ses.${b.id}`);
  assert.is.not(k.id, host.id, 'not the caller\'s session keyring');
  assert.ok(k.perm & 0x80000, `KEY_USR_SEARCH in ${k.perm.toString(16)}`);
});

test('--no-new-keyring: the caller\'s session keyring', () => {
  const b = bundle();
  const r = sb.rt(['run', '--no-new-keyring', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(parse(r.stdout), host);
});

test('exec joins the init\'s keyring; after --no-new-keyring it keeps the caller\'s', () => {
  for (const flags of [[], ['--no-new-keyring']]) {
    const b = bundle((c) => { c.process.args = ['sleep', '100']; });
    let r = sb.rt(['run', '-d', ...flags, '--bundle', b.dir, b.id]);
    assert.is(r.status, 0, r.stderr);
    r = sb.rt(['exec', b.id, '/home/keys']);
    assert.is(r.status, 0, r.stderr);
    const k = parse(r.stdout);
    if (flags.length) assert.equal(k, host);
    else assert.is(k.name, `_ses.${b.id}`);
    const again = parse(sb.rt(['exec', b.id, '/home/keys']).stdout);
    assert.is(again.id, k.id, 'every exec joins the same keyring');
    sb.rt(['delete', '--force', b.id]);
  }
});

test('in a user namespace the keyring is searchable by others (the container\'s ids are not the host\'s)', () => {
  const b = bundle((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  const k = parse(r.stdout);
  assert.is(k.name, `_ses.${b.id}`);
  assert.ok(k.perm & 0x8, `KEY_OTH_SEARCH in ${k.perm.toString(16)}`);
});

test.run();
