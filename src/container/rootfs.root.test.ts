/**
 * The rootfs and its mounts, checked in real containers through /proc/self/mountinfo (issue 4): root.path and
 * root.readonly, pivot_root and --no-pivot, rootfsPropagation, every mount type and option, /dev, masked and
 * read-only paths, sysctl, and hostile rootfs images (symlinked targets, /proc, /dev/null …) that must either be
 * contained in the rootfs or refused, leaving the host unchanged. Needs root.
 *
 * Tests that create mount targets work on a copy of the test rootfs (never on test-bundle/rootfs itself).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, TEST_BUNDLE, RUNTIME, type Result } from '../testing/harness.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

const sh = (cmd: string) => ['sh', '-c', cmd];
const MARK = '@@@';

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────────────────

interface MountEntry {
  id: number;
  parent: number;
  dev: string;
  /** The path inside the filesystem that is mounted ("/" for a whole filesystem). */
  root: string;
  point: string;
  opts: string[];
  optional: string[];
  fstype: string;
  source: string;
  superOpts: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

function parseMountinfo(text: string): MountEntry[] {
  return text.trim().split('\n').filter((l) => l.includes(' - ')).map((line) => {
    const [left, right] = line.split(' - ') as [string, string];
    const f = left.split(' ');
    const r = right.split(' ');
    return {
      id: Number(f[0]), parent: Number(f[1]), dev: f[2]!, root: unescape(f[3]!), point: unescape(f[4]!),
      opts: f[5]!.split(','), optional: f.slice(6), fstype: r[0]!, source: unescape(r[1]!), superOpts: (r[2] ?? '').split(','),
    };
  });
}

/** The mount on top at `point` (the last one listed). */
function top(mi: MountEntry[], point: string): MountEntry {
  const m = mi.filter((e) => e.point === point).at(-1);
  assert.ok(m, `a mount at ${point}; have: ${mi.map((e) => e.point).join(' ')}`);
  return m!;
}

/** An empty directory under the sandbox. */
let dirSeq = 0;
function tmpDir(name = 'd'): string {
  const d = join(sb.tmp, `${name}-${dirSeq++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A private copy of the test rootfs, safe to change or to let tsrun create mount targets in. */
function rootfsCopy(): string {
  const d = join(tmpDir('rootfs'), 'rootfs');
  execFileSync('cp', ['-a', join(TEST_BUNDLE, 'rootfs'), d]);
  return d;
}

/** A bundle on a private read-only rootfs with a new user namespace mapped by `map` (no cgroup mount: the
 *  mapped root may not mount the host's hierarchies). */
function usernsBundle(rootfs: string, map: { containerID: number; hostID: number; size: number }[], edit: (c: any) => void) {
  return sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = map;
    c.linux.gidMappings = map;
    c.mounts = c.mounts.filter((m: any) => m.type !== 'cgroup');
    edit(c);
  });
}

/** run in the foreground. */
function run(b: { dir: string; id: string }, extra: string[] = []): Result {
  return sb.rt(['run', ...extra, '--bundle', b.dir, b.id]);
}

function runOk(b: { dir: string; id: string }, extra: string[] = []): string {
  const r = run(b, extra);
  assert.is(r.status, 0, `run failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Output of `cat /proc/self/mountinfo; echo MARK; rest` split back into the table and the rest. */
function withMountinfo(rest = 'true'): string[] {
  return sh(`cat /proc/self/mountinfo; echo ${MARK}; ${rest}`);
}
function splitOut(out: string): { mi: MountEntry[]; rest: string[] } {
  const [a, b] = out.split(`${MARK}\n`) as [string, string | undefined];
  return { mi: parseMountinfo(a), rest: (b ?? '').split('\n').filter((l) => l !== '') };
}

/** Everything under the given host paths (type, mode, owner, link target, size), for before/after comparison. */
function snapshot(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, depth: number) => {
    let st;
    try { st = lstatSync(p); } catch { out.push(`${p} missing`); return; }
    const link = st.isSymbolicLink() ? ` -> ${readlinkSync(p)}` : '';
    out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : ''}${link}`);
    if (st.isDirectory() && depth > 0) for (const n of readdirSync(p).sort()) walk(join(p, n), depth - 1);
  };
  for (const p of paths) walk(p, 3);
  return out;
}

const hostMountinfo = () => parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));

// ── root ──────────────────────────────────────────────────────────────────────────────────────────────────────

test('root.path relative to the bundle; root.readonly; pivot_root leaves no host mount visible', () => {
  const rootfs = rootfsCopy();
  const b = sb.bundle((c) => {
    c.root = { path: 'rootfs', readonly: true };
    c.process.args = withMountinfo('touch /newfile 2>/dev/null && echo writable || echo readonly; cat /etc/hostname-probe 2>/dev/null || echo no-probe');
  });
  execFileSync('mv', [rootfs, join(b.dir, 'rootfs')]);
  writeFileSync(join(b.dir, 'rootfs', 'etc', 'hostname-probe'), 'from-relative-rootfs\n');
  const { mi, rest } = splitOut(runOk(b));
  const root = top(mi, '/');
  assert.is(root.root, realpathSync(join(b.dir, 'rootfs')), '"/" is the rootfs, bound from the bundle-relative path');
  assert.ok(root.opts.includes('ro'), `"/" is read-only: ${root.opts}`);
  assert.equal(rest, ['readonly', 'from-relative-rootfs']);
  // The old root is detached: none of the host's own mounts outside /proc, /sys, /dev shows up inside.
  const inside = new Set(mi.map((m) => m.point));
  for (const h of hostMountinfo()) {
    if (h.point === '/' || /^\/(proc|sys|dev)(\/|$)/.test(h.point)) continue;
    assert.not.ok(inside.has(h.point), `host mount ${h.point} is not visible in the container`);
  }

  // absolute root.path, writable
  const rw = rootfsCopy();
  const b2 = sb.bundle((c) => {
    c.root = { path: rw, readonly: false };
    c.process.args = withMountinfo('touch /newfile && echo writable');
  });
  const o2 = splitOut(runOk(b2));
  assert.not.ok(top(o2.mi, '/').opts.includes('ro'));
  assert.equal(o2.rest, ['writable']);
  assert.ok(existsSync(join(rw, 'newfile')), 'the write reached the rootfs directory');
});

test('--no-pivot: the rootfs is moved onto / and chrooted into; read-only root and masks still apply', () => {
  const b = sb.bundle((c) => {
    c.process.args = withMountinfo('touch /x 2>/dev/null && echo writable || echo readonly; cat /proc/keys | wc -c; ls /proc/1/root/ | head -3');
  });
  const { mi, rest } = splitOut(runOk(b, ['--no-pivot']));
  const root = top(mi, '/');
  assert.is(root.root, realpathSync(join(TEST_BUNDLE, 'rootfs')));
  assert.ok(root.opts.includes('ro'));
  assert.is(rest[0], 'readonly');
  assert.is(rest[1], '0', 'masked /proc/keys reads empty');
  assert.is(top(mi, '/proc/keys').root, '/null');
  // runc: a private root propagation is not safe without pivot_root
  const p = sb.bundle((c) => { c.linux.rootfsPropagation = 'rprivate'; c.process.args = ['true']; });
  const r = run(p, ['--no-pivot']);
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('rootfsPropagation of [r]private is not safe without pivot_root'), r.stderr);
});



// ── propagation ───────────────────────────────────────────────────────────────────────────────────────────────

/** Run the runtime inside `unshare -m --propagation shared` (a host-like namespace whose mounts are all shared),
 * after saving that namespace's mountinfo to `outer`. Nothing here changes the real host's mounts. */
function runInSharedNs(b: { dir: string; id: string }, outer: string, extra: string[] = []): Result {
  const r = spawnSync('unshare', ['-m', '--propagation', 'shared', 'sh', '-c', 'cat /proc/self/mountinfo > "$0"; exec "$@"', outer,
    RUNTIME, '--root', sb.root, 'run', ...extra, '--bundle', b.dir, b.id], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const tag = (m: MountEntry, kind: 'shared' | 'master') => m.optional.find((o) => o.startsWith(kind + ':'))?.slice(kind.length + 1);

test('rootfsPropagation: each mode shows on "/" inside; the default is rslave; shared is a new peer group', () => {
  const outer = join(sb.tmp, 'outer-mountinfo');
  const expect: Record<string, (m: MountEntry, hostRootPeer: string) => void> = {
    '': (m, host) => assert.is(tag(m, 'master'), host, 'default rslave: "/" receives from the host\'s peer group'),
    rslave: (m, host) => assert.is(tag(m, 'master'), host),
    slave: (m, host) => assert.is(tag(m, 'master'), host),
    shared: (m, host) => { assert.ok(tag(m, 'shared')); assert.is.not(tag(m, 'shared'), host, 'not a peer of the host'); assert.is(tag(m, 'master'), undefined); },
    rshared: (m, host) => { assert.ok(tag(m, 'shared')); assert.is.not(tag(m, 'shared'), host); },
    private: (m) => assert.equal(m.optional, []),
    rprivate: (m) => assert.equal(m.optional, []),
    unbindable: (m) => assert.ok(m.optional.includes('unbindable'), String(m.optional)),
    runbindable: (m) => assert.ok(m.optional.includes('unbindable'), String(m.optional)),
  };
  for (const [mode, check] of Object.entries(expect)) {
    const b = sb.bundle((c) => {
      if (mode) c.linux.rootfsPropagation = mode;
      // runbindable: nothing below "/" can be bound any more, so no bind-based read-only or masked file paths
      // (runc fails even earlier: its rootfs bind refuses an unbindable parent)
      if (mode === 'runbindable') c.linux.readonlyPaths = c.linux.maskedPaths = [];
      c.process.args = withMountinfo();
    });
    const r = runInSharedNs(b, outer);
    assert.is(r.status, 0, `${mode}: ${r.stderr}`);
    const { mi } = splitOut(r.stdout);
    // the peer group of the outer namespace's mount that holds the rootfs ("/": the rootfs lives on it)
    const hostRoot = top(parseMountinfo(readFileSync(outer, 'utf8')), '/');
    const peer = tag(hostRoot, 'shared');
    assert.ok(peer, 'the outer namespace is shared');
    try {
      check(top(mi, '/'), peer!);
    } catch (e) {
      (e as Error).message = `rootfsPropagation ${mode || '(default)'}: ${(e as Error).message} — "/" ${top(mi, '/').optional}`;
      throw e;
    }
    if (mode.endsWith('shared') || mode.endsWith('unbindable')) {
      // r-variants reach the mounts below "/" too; the plain ones only "/"
      const proc = top(mi, '/proc');
      const want = mode.startsWith('r') ? (mode.endsWith('shared') ? !!tag(proc, 'shared') : proc.optional.includes('unbindable')) : true;
      assert.ok(want, `${mode}: /proc ${proc.optional}`);
    }
  }
  // on the real host too (its "/" is private here): shared works
  const b = sb.bundle((c) => { c.linux.rootfsPropagation = 'shared'; c.process.args = withMountinfo(); });
  assert.ok(tag(top(splitOut(runOk(b)).mi, '/'), 'shared'));
});

// ── mount types ───────────────────────────────────────────────────────────────────────────────────────────────

test('mounts: bind files and directories, rbind, proc, sysfs, tmpfs, devpts, mqueue, overlay, ramfs; targets created', () => {
  const rootfs = rootfsCopy();
  const host = tmpDir('host');
  mkdirSync(join(host, 'dir/sub'), { recursive: true });
  writeFileSync(join(host, 'dir/sub/f'), 'in-dir\n');
  writeFileSync(join(host, 'file'), 'a-file\n');
  for (const d of ['lower', 'upper', 'work']) mkdirSync(join(host, 'ovl', d), { recursive: true });
  writeFileSync(join(host, 'ovl/lower/low'), 'from-lower\n');
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      { destination: '/m/bind-dir', type: 'bind', source: join(host, 'dir'), options: ['bind', 'ro'] },
      { destination: '/m/new/deep/file', type: 'bind', source: join(host, 'file'), options: ['bind'] },
      { destination: '/m/rbind', type: 'none', source: join(host, 'dir'), options: ['rbind', 'rw'] },
      { destination: '/m/proc2', type: 'proc', source: 'proc' },
      { destination: '/m/sys2', type: 'sysfs', source: 'sysfs', options: ['ro', 'nosuid'] },
      { destination: '/m/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1750', 'nr_inodes=100', 'uid=12', 'gid=34'] },
      { destination: '/m/pts2', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0600', 'mode=0600'] },
      { destination: '/m/mq', type: 'mqueue', source: 'mqueue', options: ['nodev'] },
      { destination: '/m/ovl', type: 'overlay', source: 'overlay', options: [`lowerdir=${join(host, 'ovl/lower')}`, `upperdir=${join(host, 'ovl/upper')}`, `workdir=${join(host, 'ovl/work')}`] },
      { destination: '/m/ramfs', type: 'ramfs', source: 'ramfs', options: ['mode=0711'] },
    );
    c.process.args = withMountinfo([
      'cat /m/bind-dir/sub/f', 'touch /m/bind-dir/x 2>/dev/null && echo bind-rw || echo bind-ro',
      'cat /m/new/deep/file', 'stat -c %F /m/new/deep/file', 'stat -c "%a %u %g" /m/tmp', 'stat -c %a /m/ramfs',
      'cat /m/ovl/low', 'echo written > /m/ovl/up', 'ls /m/proc2/self/ns | grep -c mnt', 'test -d /m/sys2/kernel && echo sysfs',
    ].join('; '));
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['in-dir', 'bind-ro', 'a-file', 'regular file', '1750 12 34', '711', 'from-lower', '1', 'sysfs']);
  const bindDir = top(mi, '/m/bind-dir');
  assert.is(bindDir.root, realpathSync(join(host, 'dir')));
  assert.ok(bindDir.opts.includes('ro'), 'a read-only bind is remounted read-only');
  assert.is(top(mi, '/m/new/deep/file').root, realpathSync(join(host, 'file')));
  assert.ok(top(mi, '/m/rbind').opts.includes('rw'));
  assert.is(top(mi, '/m/proc2').fstype, 'proc');
  const sys2 = top(mi, '/m/sys2');
  assert.is(sys2.fstype, 'sysfs');
  assert.ok(sys2.opts.includes('ro') && sys2.opts.includes('nosuid'), String(sys2.opts));
  const tmp = top(mi, '/m/tmp');
  assert.is(tmp.fstype, 'tmpfs');
  for (const o of ['size=1024k', 'nr_inodes=100', 'mode=1750', 'uid=12', 'gid=34']) assert.ok(tmp.superOpts.includes(o), `tmpfs data ${o}: ${tmp.superOpts}`);
  const pts = top(mi, '/m/pts2');
  assert.is(pts.fstype, 'devpts');
  assert.ok(pts.superOpts.includes('ptmxmode=600'), String(pts.superOpts));
  assert.is.not(pts.dev, top(mi, '/dev/pts').dev, 'a new devpts instance');
  const mq = top(mi, '/m/mq');
  assert.is(mq.fstype, 'mqueue');
  assert.ok(mq.opts.includes('nodev'));
  const ovl = top(mi, '/m/ovl');
  assert.is(ovl.fstype, 'overlay');
  assert.ok(ovl.superOpts.some((o) => o.startsWith('lowerdir=')), String(ovl.superOpts));
  assert.is(readFileSync(join(host, 'ovl/upper/up'), 'utf8'), 'written\n', 'overlay writes land in upperdir');
  assert.is(top(mi, '/m/ramfs').fstype, 'ramfs');
  // missing targets were created in the rootfs after the source's type
  assert.ok(statSync(join(rootfs, 'm/bind-dir')).isDirectory());
  assert.ok(statSync(join(rootfs, 'm/new/deep/file')).isFile());
});


// ── mount options ─────────────────────────────────────────────────────────────────────────────────────────────

test('mount options: flags, atime family, sync/dirsync, mand, nosymfollow, remount, clears on binds', () => {
  const rootfs = rootfsCopy();
  mkdirSync(join(rootfs, 'srcmnt'));
  const opt = (name: string, options: string[]) => ({ destination: `/o/${name}`, type: 'tmpfs', source: 'tmpfs', options });
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      opt('ro', ['ro']), opt('rw', ['ro', 'rw']), opt('nosuid', ['nosuid']), opt('nodev', ['nodev']), opt('noexec', ['noexec']),
      opt('noatime', ['noatime']), opt('nodiratime', ['nodiratime']), opt('relatime', ['relatime']),
      opt('strictatime', ['strictatime']), opt('sync', ['sync']), opt('async', ['sync', 'async']), opt('dirsync', ['dirsync']),
      opt('mand', ['mand']), opt('nomand', ['nomand']), opt('nosymfollow', ['nosymfollow']), opt('lazytime', ['lazytime']),
      opt('silent', ['silent', 'loud', 'defaults', 'iversion', 'noiversion', 'nolazytime', 'norelatime', 'nostrictatime', 'diratime', 'atime']),
      // a remount of the tmpfs just mounted: the superblock and the mount get nosuid
      opt('remount', []), { destination: '/o/remount', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'nosuid'] },
      // a bind remount ("mount -o bind,remount,ro")
      opt('bremount', []), { destination: '/o/bremount', type: 'bind', source: 'unused', options: ['bind', 'remount', 'ro'] },
      // a source mount with every restricting flag, then binds of it that clear them again
      { destination: '/srcmnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'noatime'] },
      { destination: '/o/bind-kept', type: 'bind', source: join(rootfs, 'srcmnt'), options: ['bind'] },
      { destination: '/o/bind-cleared', type: 'bind', source: join(rootfs, 'srcmnt'), options: ['bind', 'suid', 'dev', 'exec', 'atime', 'rw'] },
    );
    c.process.args = withMountinfo('ln -s /etc/passwd /o/nosymfollow/l; cat /o/nosymfollow/l 2>/dev/null || echo no-follow; ln -s /etc/passwd /o/rw/l; cat /o/rw/l >/dev/null && echo follows');
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['no-follow', 'follows']);
  const has = (name: string, o: string, where: 'opts' | 'superOpts' = 'opts') =>
    assert.ok(top(mi, `/o/${name}`)[where].includes(o), `${name}: ${o} in ${top(mi, `/o/${name}`)[where]}`);
  const lacks = (name: string, o: string, where: 'opts' | 'superOpts' = 'opts') =>
    assert.not.ok(top(mi, `/o/${name}`)[where].includes(o), `${name}: no ${o} in ${top(mi, `/o/${name}`)[where]}`);
  has('ro', 'ro');
  has('rw', 'rw');
  for (const f of ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'relatime', 'nosymfollow']) has(f, f);
  for (const f of ['nosuid', 'nodev', 'noexec', 'noatime', 'nosymfollow']) lacks('rw', f);
  lacks('strictatime', 'relatime');
  lacks('strictatime', 'noatime');
  has('sync', 'sync', 'superOpts');
  lacks('async', 'sync', 'superOpts');
  has('dirsync', 'dirsync', 'superOpts');
  has('lazytime', 'lazytime', 'superOpts');
  lacks('nomand', 'mand', 'superOpts');
  // mandatory locking is gone from Linux (5.15): MS_MANDLOCK is accepted and ignored
  assert.ok(top(mi, '/o/mand'));
  has('remount', 'nosuid');
  has('bremount', 'ro');
  lacks('bremount', 'nosuid');
  for (const f of ['nosuid', 'nodev', 'noexec', 'noatime']) {
    has('bind-kept', f);
    lacks('bind-cleared', f);
  }
});

test('mount propagation options: shared, slave, private, unbindable and the r-variants', () => {
  const rootfs = rootfsCopy();
  for (const d of ['p/shared', 'rsrc/sub', 'psrc/sub']) mkdirSync(join(rootfs, d), { recursive: true });
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      { destination: '/p/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
      // a bind of a shared mount is its peer; "slave" turns it into a slave of that peer group
      { destination: '/p/slave', type: 'bind', source: join(rootfs, 'p/shared'), options: ['bind', 'slave'] },
      { destination: '/p/peer', type: 'bind', source: join(rootfs, 'p/shared'), options: ['bind'] },
      { destination: '/p/private', type: 'bind', source: join(rootfs, 'p/shared'), options: ['bind', 'private'] },
      { destination: '/p/unbindable', type: 'tmpfs', source: 'tmpfs', options: ['unbindable'] },
      // recursive variants on an rbind of a tree with a shared submount
      { destination: '/rsrc', type: 'tmpfs', source: 'tmpfs', options: ['rshared'] },
      { destination: '/rsrc/sub', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
      { destination: '/p/rslave', type: 'bind', source: join(rootfs, 'rsrc'), options: ['rbind', 'rslave'] },
      { destination: '/p/rprivate', type: 'bind', source: join(rootfs, 'rsrc'), options: ['rbind', 'rprivate'] },
      { destination: '/p/runbindable', type: 'bind', source: join(rootfs, 'rsrc'), options: ['rbind', 'runbindable'] },
      { destination: '/psrc', type: 'tmpfs', source: 'tmpfs', options: ['private'] },
      { destination: '/psrc/sub', type: 'tmpfs', source: 'tmpfs', options: ['private'] },
      { destination: '/p/rshared', type: 'bind', source: join(rootfs, 'psrc'), options: ['rbind', 'rshared'] },
    );
    c.process.args = withMountinfo();
  });
  const { mi } = splitOut(runOk(b));
  const sharedId = tag(top(mi, '/p/shared'), 'shared');
  assert.ok(sharedId, 'shared');
  assert.is(tag(top(mi, '/p/slave'), 'master'), sharedId, 'slave of the shared mount');
  assert.is(tag(top(mi, '/p/slave'), 'shared'), undefined);
  assert.is(tag(top(mi, '/p/peer'), 'shared'), sharedId, 'a plain bind stays a peer');
  assert.equal(top(mi, '/p/private').optional, []);
  assert.ok(top(mi, '/p/unbindable').optional.includes('unbindable'));
  const subId = tag(top(mi, '/rsrc/sub'), 'shared');
  assert.ok(subId);
  assert.is(tag(top(mi, '/p/rslave/sub'), 'master'), subId, 'rslave reaches the submount');
  assert.equal(top(mi, '/p/rprivate/sub').optional, []);
  assert.ok(top(mi, '/p/runbindable/sub').optional.includes('unbindable'));
  assert.equal(top(mi, '/psrc/sub').optional, []);
  assert.ok(tag(top(mi, '/p/rshared'), 'shared'), 'rshared: the bind is shared');
  assert.ok(tag(top(mi, '/p/rshared/sub'), 'shared'), 'rshared reaches the submount');
});

test('recursive mount attributes (mount_setattr): rro, rnosuid, rnodev, rnoexec, rnoatime, rnosymfollow and their clears', () => {
  const rootfs = rootfsCopy();
  mkdirSync(join(rootfs, 'tree/sub'), { recursive: true });
  mkdirSync(join(rootfs, 'strict/sub'), { recursive: true });
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      { destination: '/tree/sub', type: 'tmpfs', source: 'tmpfs', options: [] },
      { destination: '/r/set', type: 'bind', source: join(rootfs, 'tree'), options: ['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime', 'rnodiratime', 'rnosymfollow'] },
      { destination: '/r/strict', type: 'bind', source: join(rootfs, 'tree'), options: ['rbind', 'rstrictatime'] },
      { destination: '/strict/sub', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'nosymfollow'] },
      { destination: '/r/clear', type: 'bind', source: join(rootfs, 'strict'), options: ['rbind', 'rrw', 'rsuid', 'rdev', 'rexec', 'rrelatime', 'rdiratime', 'rsymfollow'] },
    );
    c.process.args = withMountinfo('touch /r/set/sub/x 2>/dev/null && echo rw || echo ro');
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['ro']);
  for (const p of ['/r/set', '/r/set/sub']) {
    for (const f of ['ro', 'nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'nosymfollow']) assert.ok(top(mi, p).opts.includes(f), `${p} ${f}: ${top(mi, p).opts}`);
  }
  for (const p of ['/r/strict', '/r/strict/sub']) assert.not.ok(top(mi, p).opts.some((o) => o === 'relatime' || o === 'noatime'), `${p} strictatime`);
  const cl = top(mi, '/r/clear/sub');
  assert.ok(cl.opts.includes('rw') && cl.opts.includes('relatime'), String(cl.opts));
  for (const f of ['nosuid', 'nodev', 'noexec', 'noatime', 'nodiratime', 'nosymfollow']) assert.not.ok(cl.opts.includes(f), `/r/clear/sub: no ${f}: ${cl.opts}`);
  assert.ok(top(mi, '/strict/sub').opts.includes('nosuid'), 'the source tree itself is untouched');
});


// ── cgroup ────────────────────────────────────────────────────────────────────────────────────────────────────

test('cgroup mount (v1): with a cgroup namespace, fresh read-only hierarchies rooted at the container\'s cgroup', () => {
  const b = sb.bundle((c) => {
    c.process.args = withMountinfo('cat /sys/fs/cgroup/pids/cgroup.procs | tr "\\n" " "; echo; ls /sys/fs/cgroup/pids | grep -c tsrun-test; mkdir /sys/fs/cgroup/pids/x 2>/dev/null && echo writable || echo readonly; cat /proc/self/cgroup | grep pids');
  });
  const { mi, rest } = splitOut(runOk(b));
  const hier = mi.filter((m) => m.point.startsWith('/sys/fs/cgroup/'));
  assert.ok(hier.length >= 1, 'hierarchies are mounted');
  for (const m of hier) {
    assert.is(m.fstype, 'cgroup', m.point);
    assert.is(m.root, '/', `${m.point}: the root of the container's cgroup namespace`);
    assert.ok(m.opts.includes('ro') && m.opts.includes('nosuid') && m.opts.includes('nodev') && m.opts.includes('noexec'), `${m.point} ${m.opts}`);
  }
  assert.is(top(mi, '/sys/fs/cgroup').fstype, 'tmpfs');
  assert.ok(top(mi, '/sys/fs/cgroup').opts.includes('ro'), 'the tmpfs holding them is read-only too');
  const pids = rest[0]!.trim().split(' ').map(Number);
  assert.ok(pids.includes(1) && pids.every((p) => p < 20), `only the container's processes, in its pid namespace: ${rest[0]}`);
  assert.is(rest[1], '0', 'no host cgroup tree visible');
  assert.is(rest[2], 'readonly');
  assert.match(rest[3]!, /:pids:\/$/, 'the process sits at the root of its cgroup namespace');
});

test('cgroup mount (v1) without a cgroup namespace: binds of the container\'s own cgroup directories', () => {
  const b = sb.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'cgroup');
    c.process.args = withMountinfo('cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; touch /sys/fs/cgroup/pids/x 2>/dev/null && echo writable || echo readonly');
  });
  const { mi, rest } = splitOut(runOk(b));
  const pids = top(mi, '/sys/fs/cgroup/pids');
  assert.is(pids.fstype, 'cgroup');
  assert.is(pids.root, `/tsrun-test/${b.id}`, 'the container\'s own cgroup, not the host\'s tree');
  assert.ok(pids.opts.includes('ro'));
  assert.ok(Number(rest[0]) >= 1 && Number(rest[0]) <= 3, `only the container's processes: ${rest[0]}`);
  assert.is(rest[1], 'readonly');
});

// ── /dev ──────────────────────────────────────────────────────────────────────────────────────────────────────

const statLine = 'stat -c "%n %F %a %u:%g %t:%T"';

test('/dev: default nodes, ptmx → pts/ptmx, fd and std* links, shm; linux.devices with type, numbers, mode and owner', () => {
  const b = sb.bundle((c) => {
    c.linux.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1000, gid: 1001 },
      { path: '/dev/loop-test', type: 'b', major: 7, minor: 0, fileMode: 0o640, uid: 0, gid: 6 },
      { path: '/dev/sub/fifo', type: 'p', fileMode: 0o620 },
      { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
    ];
    c.process.args = withMountinfo([
      `${statLine} /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/pts/ptmx /dev/fuse /dev/loop-test /dev/sub/fifo`,
      'for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done',
      'head -c 6 /dev/fd/5 5</etc/passwd; echo', 'head -c 6 /dev/stdin </etc/passwd; echo', 'echo shm > /dev/shm/x && cat /dev/shm/x', 'head -c 4 /dev/zero | wc -c',
    ].join('; '));
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest.slice(0, 10), [
    '/dev/null character special file 666 0:0 1:3',
    '/dev/zero character special file 666 0:0 1:5',
    '/dev/full character special file 666 0:0 1:7',
    '/dev/random character special file 666 0:0 1:8',
    '/dev/urandom character special file 666 0:0 1:9',
    '/dev/tty character special file 666 0:0 5:0',
    '/dev/pts/ptmx character special file 666 0:0 5:2',
    '/dev/fuse character special file 600 1000:1001 a:e5',
    '/dev/loop-test block special file 640 0:6 7:0',
    '/dev/sub/fifo fifo 620 0:0 0:0',
  ]);
  assert.equal(rest.slice(10, 15), ['pts/ptmx', '/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2']);
  assert.equal(rest.slice(15), ['root:x', 'root:x', 'shm', '4']);
  assert.is(top(mi, '/dev/shm').fstype, 'tmpfs');
  assert.is(top(mi, '/dev').fstype, 'tmpfs');
});

test('/dev in a user namespace: device nodes are binds of the host\'s nodes', () => {
  const b = sb.bundle((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 }];
    // sysfs and cgroup v1 cannot be mounted by a user namespace that does not own the network/cgroup namespace
    c.mounts = c.mounts.filter((m: any) => m.type !== 'cgroup');
    c.process.args = withMountinfo(`${statLine} /dev/null /dev/fuse; echo ok > /dev/null && echo null-works`);
  });
  const { mi, rest } = splitOut(runOk(b));
  const nul = top(mi, '/dev/null');
  assert.is(nul.root, '/null', 'bound from the host\'s /dev');
  assert.is(nul.fstype, 'devtmpfs');
  assert.is(top(mi, '/dev/fuse').root, '/fuse');
  assert.match(rest[0]!, /^\/dev\/null character special file 666 65534:65534 1:3$/);
  assert.match(rest[1]!, /^\/dev\/fuse character special file 600 65534:65534 a:e5$/);
  assert.is(rest[2], 'null-works');
});

// ── masked and read-only paths, sysctl ────────────────────────────────────────────────────────────────────────

test('maskedPaths: files covered by /dev/null, directories by an empty read-only tmpfs; readonlyPaths', () => {
  const rootfs = rootfsCopy();
  mkdirSync(join(rootfs, 'secret-dir'));
  writeFileSync(join(rootfs, 'secret-dir/key'), 'hidden\n');
  writeFileSync(join(rootfs, 'secret-file'), 'hidden\n');
  mkdirSync(join(rootfs, 'data'));
  writeFileSync(join(rootfs, 'data/f'), 'visible\n');
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: false };
    c.linux.maskedPaths = [...c.linux.maskedPaths, '/secret-dir', '/secret-file', '/does/not/exist'];
    c.linux.readonlyPaths = [...c.linux.readonlyPaths, '/data', '/missing-too'];
    c.process.args = withMountinfo([
      'ls -A /secret-dir | wc -l', 'cat /secret-file | wc -c', 'touch /secret-dir/x 2>/dev/null && echo dir-writable || echo dir-ro',
      'cat /data/f', 'touch /data/g 2>/dev/null && echo data-writable || echo data-ro',
      'echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo sys-writable || echo sys-ro', 'touch /other && echo root-writable',
      'cat /proc/keys | wc -c', 'ls /proc/acpi | wc -l',
    ].join('; '));
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['0', '0', 'dir-ro', 'visible', 'data-ro', 'sys-ro', 'root-writable', '0', '0']);
  const dir = top(mi, '/secret-dir');
  assert.is(dir.fstype, 'tmpfs');
  assert.ok(dir.opts.includes('ro'));
  const file = top(mi, '/secret-file');
  assert.is(file.root, '/null');
  assert.is(file.dev, top(mi, '/dev').dev, 'the container\'s own (verified) /dev/null');
  for (const p of ['/data', '/proc/sys', '/proc/bus']) assert.ok(top(mi, p).opts.includes('ro'), `${p} read-only`);
  assert.ok(top(mi, '/proc/sys').opts.includes('ro'));
  assert.is(readFileSync(join(rootfs, 'secret-dir/key'), 'utf8'), 'hidden\n', 'the image is untouched');
});

test('linux.sysctl: applied in the container\'s namespaces after /proc is mounted; keys it does not own are refused', () => {
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const b = sb.bundle((c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096', 'net/ipv4/conf/lo/forwarding': '1' };
    c.process.args = sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/net/ipv4/conf/lo/forwarding');
  });
  assert.equal(runOk(b).trim().split('\n'), ['1', '4096', '1']);
  assert.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'the host is unchanged');
  const refused: [string, (c: any) => void, string][] = [
    ['net.ipv4.ip_forward', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network'); }, 'not allowed in host network namespace'],
    ['kernel.msgmax', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'ipc'); }, 'is not allowed in the hosts ipc namespace'],
    ['kernel.panic', () => {}, 'is not in a separate kernel namespace'],
  ];
  for (const [key, edit, msg] of refused) {
    const r = run(sb.bundle((c) => { edit(c); c.linux.sysctl = { [key]: '1' }; c.process.args = ['true']; }));
    assert.is(r.status, 1, key);
    assert.ok(r.stderr.includes(msg), `${key}: ${r.stderr}`);
  }
  assert.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward);
});


// ── extensions: tmpcopyup, idmap ──────────────────────────────────────────────────────────────────────────────

test('tmpcopyup: the new tmpfs starts with a copy of what the target held (modes, owners, links, fifos)', () => {
  const rootfs = rootfsCopy();
  mkdirSync(join(rootfs, 'data/sub'), { recursive: true });
  writeFileSync(join(rootfs, 'data/f'), 'hello\n');
  writeFileSync(join(rootfs, 'data/sub/g'), 'deep\n', { mode: 0o640 });
  execFileSync('chown', ['12:34', join(rootfs, 'data/sub/g')]);
  symlinkSync('f', join(rootfs, 'data/l'));
  execFileSync('mkfifo', [join(rootfs, 'data/fifo')]);
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755', 'ro'] });
    c.process.args = withMountinfo(`cat /data/f /data/l; ${statLine} /data/sub/g /data/fifo; readlink /data/l; touch /data/x 2>/dev/null && echo rw || echo ro`);
  });
  const { mi, rest } = splitOut(runOk(b));
  const m = top(mi, '/data');
  assert.is(m.fstype, 'tmpfs');
  assert.ok(m.opts.includes('ro'), 'read-only after the copy');
  assert.equal(rest, ['hello', 'hello', '/data/sub/g regular file 640 12:34 0:0', '/data/fifo fifo 644 0:0 0:0', 'f', 'ro']);
});

test('idmap / ridmap bind mounts: ownership seen through the mount\'s mapping, with and without a user namespace', () => {
  const src = tmpDir('idmap');
  execFileSync('chmod', ['755', sb.tmp]);
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'owned-1000'), 'x');
  execFileSync('chown', ['1000:1000', join(src, 'owned-1000')]);
  writeFileSync(join(src, 'owned-0'), 'y');
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  // no user namespace: host uid N shows as 100000 + N
  const rootfs = rootfsCopy();
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push({ destination: '/idm', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: map, gidMappings: map });
    c.process.args = withMountinfo('stat -c "%n %u:%g" /idm/owned-0 /idm/owned-1000');
  });
  const o = splitOut(runOk(b));
  assert.ok(top(o.mi, '/idm').opts.includes('idmapped'), String(top(o.mi, '/idm').opts));
  assert.equal(o.rest, ['/idm/owned-0 100000:100000', '/idm/owned-1000 101000:101000']);

  // a user namespace with the same mapping, and ridmap over an rbind with a submount: host ownership shows as is,
  // and what the container's root creates belongs to host root
  const rootfs2 = rootfsCopy();
  execFileSync('chmod', ['755', join(rootfs2, '..')]);
  mkdirSync(join(rootfs2, 'idm'));
  mkdirSync(join(rootfs2, 'srcsub'));
  const u = usernsBundle(rootfs2, map, (c) => {
    c.mounts.push({ destination: '/idm', type: 'bind', source: src, options: ['rbind', 'ridmap'] });
    c.process.args = withMountinfo('stat -c "%n %u:%g" /idm/owned-0 /idm/owned-1000; touch /idm/made-inside && echo made');
  });
  const o2 = splitOut(runOk(u));
  assert.ok(top(o2.mi, '/idm').opts.includes('idmapped'));
  assert.equal(o2.rest, ['/idm/owned-0 0:0', '/idm/owned-1000 1000:1000', 'made']);
  const st = statSync(join(src, 'made-inside'));
  assert.equal([st.uid, st.gid], [0, 0], 'written through the idmapped mount as host root');
});

test('a user namespace container binds a source behind a 0700 directory (cloned as host root first), as with runc', () => {
  const hidden = tmpDir('hidden');  // under sb.tmp: 0700, root-owned
  const src = join(hidden, 'data');
  mkdirSync(src);
  writeFileSync(join(src, 'f'), 'from the host\n');
  execFileSync('chmod', ['700', hidden]);
  const rootfs = rootfsCopy();
  execFileSync('chmod', ['755', sb.tmp, join(rootfs, '..')]);
  mkdirSync(join(rootfs, 'data')); // the mapped root cannot create it in a host-owned rootfs (nor can runc's)
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const b = usernsBundle(rootfs, map, (c) => {
    c.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] });
    c.process.args = withMountinfo('cat /data/f; touch /data/g 2>/dev/null || echo read-only');
  });
  const o = splitOut(runOk(b));
  assert.equal(o.rest, ['from the host', 'read-only']);
  assert.ok(top(o.mi, '/data').opts.includes('ro'), String(top(o.mi, '/data').opts));
});

test('process.cwd is created when missing (docker run -w), owned by the container\'s root, even with a read-only root', () => {
  const rootfs = rootfsCopy();
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.process.cwd = '/newdir/sub';
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.args = sh('pwd; stat -c "%a %u:%g" /newdir /newdir/sub');
  });
  assert.equal(runOk(b).trim().split('\n'), ['/newdir/sub', '755 0:0', '755 0:0']);
  assert.ok(statSync(join(rootfs, 'newdir/sub')).isDirectory());
  // a cwd that exists as a file is an error
  writeFileSync(join(rootfs, 'afile'), '');
  const f = sb.bundle((c) => { c.root = { path: rootfs, readonly: true }; c.process.cwd = '/afile/x'; c.process.args = ['true']; });
  const r = run(f);
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('/afile/x') && r.stderr.includes('not a directory'), r.stderr);
});

// ── hostile rootfs images: contained or refused; the host never changes ──────────────────────────────────────

/** Host paths a hostile image points at, and the host's mount table there, before and after. */
function hostState(paths: string[]): string {
  const mounts = hostMountinfo().filter((m) => paths.some((p) => m.point === p || m.point.startsWith(p + '/')) || m.point.startsWith(sb.tmp))
    .map((m) => `${m.point} ${m.fstype}`).sort();
  return [...snapshot(paths), ...mounts].join('\n');
}

test('hostile: mount targets through symlinks to host paths land inside the rootfs', () => {
  const rootfs = rootfsCopy();
  const probe = tmpDir('host-probe');
  const src = tmpDir('src');
  writeFileSync(join(src, 'f'), 'bound\n');
  symlinkSync(probe, join(rootfs, 'mnt'));            // absolute, dangling inside the rootfs
  symlinkSync('/', join(rootfs, 'lnk'));              // the root itself
  symlinkSync('../../../../root', join(rootfs, 'a'));  // climbing out with ..
  symlinkSync('/etc', join(rootfs, 'etclink'));       // an existing directory
  const before = hostState([probe, '/root', '/etc', '/mnt']);
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      { destination: '/mnt/x', type: 'bind', source: src, options: ['bind'] },
      { destination: '/lnk/via-root', type: 'bind', source: src, options: ['bind'] },
      { destination: '/a/b/c', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/etclink/hosty', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/../../../../escape', type: 'tmpfs', source: 'tmpfs' },
    );
    c.process.args = withMountinfo(`cat ${probe}/x/f /via-root/f`);
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['bound', 'bound']);
  for (const p of [`${probe}/x`, '/via-root', '/root/b/c', '/etc/hosty', '/escape']) assert.ok(top(mi, p), p);
  assert.ok(existsSync(join(rootfs, probe, 'x')), 'created in the rootfs');
  assert.ok(existsSync(join(rootfs, 'root/b/c')));
  assert.is(hostState([probe, '/root', '/etc', '/mnt']), before, 'nothing changed on the host');
  assert.equal(readdirSync(probe), []);
});

test('hostile: /proc or /sys a symlink, /proc a file, /dev a symlink to /: refused, host unchanged', () => {
  const cases: [string, (r: string) => void, string][] = [
    ['/proc -> /fakeproc', (r) => { execFileSync('rmdir', [join(r, 'proc')]); mkdirSync(join(r, 'fakeproc')); symlinkSync('/fakeproc', join(r, 'proc')); }, 'rootfs: not a real directory /proc'],
    ['/proc -> /host/proc', (r) => { execFileSync('rmdir', [join(r, 'proc')]); symlinkSync('/proc', join(r, 'proc')); }, 'rootfs: not a real directory /proc'],
    ['/sys -> /', (r) => { execFileSync('rmdir', [join(r, 'sys')]); symlinkSync('/', join(r, 'sys')); }, 'rootfs: not a real directory /sys'],
    ['/proc a file', (r) => { execFileSync('rmdir', [join(r, 'proc')]); writeFileSync(join(r, 'proc'), ''); }, 'not a directory'],
    ['/dev -> /', (r) => { execFileSync('rmdir', [join(r, 'dev')]); symlinkSync('/', join(r, 'dev')); }, 'mount over the root /dev'],
  ];
  for (const [name, prepare, msg] of cases) {
    const rootfs = rootfsCopy();
    prepare(rootfs);
    // the host's own mounts there (/proc, /sys and /dev themselves are too lively to list)
    const mounts = () => hostMountinfo().filter((m) => ['/', '/proc', '/sys', '/dev', '/fakeproc'].includes(m.point) || m.point.startsWith(sb.tmp))
      .map((m) => `${m.id} ${m.point} ${m.fstype} ${m.opts}`).join('\n');
    const before = mounts();
    const r = run(sb.bundle((c) => { c.root = { path: rootfs, readonly: true }; c.process.args = ['true']; }));
    assert.is(r.status, 1, `${name}: refused`);
    assert.ok(r.stderr.includes(msg), `${name}: ${r.stderr}`);
    assert.is(mounts(), before, name);
    assert.not.ok(existsSync('/fakeproc'), name);
  }
});

test('hostile: /dev/null replaced by a symlink or a regular file before masking', () => {
  const core = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  // (1) in the image's /dev, under the default tmpfs /dev: hidden by the fresh /dev, masks use a real 1:3
  for (const kind of ['symlink', 'file']) {
    const rootfs = rootfsCopy();
    if (kind === 'symlink') symlinkSync('/proc/sys/kernel/core_pattern', join(rootfs, 'dev/null'));
    else writeFileSync(join(rootfs, 'dev/null'), 'not a device');
    const b = sb.bundle((c) => { c.root = { path: rootfs, readonly: true }; c.process.args = withMountinfo(`${statLine} /dev/null; echo x > /proc/keys; cat /proc/keys | wc -c`); });
    const { mi, rest } = splitOut(runOk(b));
    assert.is(rest[0], '/dev/null character special file 666 0:0 1:3', kind);
    assert.is(rest[1], '0', `${kind}: the mask swallows writes`);
    assert.is(top(mi, '/proc/keys').root, '/null');
    assert.is(top(mi, '/proc/keys').dev, top(mi, '/dev').dev, `${kind}: the fresh /dev's null`);
  }
  // (2) the image's /dev used as is (no /dev mount): the node cannot be made, create fails
  for (const kind of ['symlink', 'file']) {
    const rootfs = rootfsCopy();
    if (kind === 'symlink') symlinkSync('/proc/sys/kernel/core_pattern', join(rootfs, 'dev/null'));
    else writeFileSync(join(rootfs, 'dev/null'), 'not a device');
    const r = run(sb.bundle((c) => {
      c.root = { path: rootfs, readonly: true };
      c.mounts = c.mounts.filter((m: any) => m.destination !== '/dev');
      c.process.args = ['true'];
    }));
    assert.is(r.status, 1, kind);
    assert.ok(r.stderr.includes('mknodat /dev/null: file exists'), `${kind}: ${r.stderr}`);
  }
  // (3) /dev bind-mounted from a directory whose null is hostile: no nodes are made, the mask refuses it
  for (const kind of ['symlink', 'file']) {
    const dev = tmpDir('fakedev');
    if (kind === 'symlink') symlinkSync('/proc/sys/kernel/core_pattern', join(dev, 'null'));
    else writeFileSync(join(dev, 'null'), 'x');
    const r = run(sb.bundle((c) => {
      c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
      c.mounts.push({ destination: '/dev', type: 'bind', source: dev, options: ['rbind'] });
      c.process.args = ['true'];
    }));
    assert.is(r.status, 1, kind);
    assert.ok(r.stderr.includes('verify /dev/null'), `${kind}: ${r.stderr}`);
    if (kind === 'file') assert.is(readFileSync(join(dev, 'null'), 'utf8'), 'x', 'the fake node is untouched');
  }
  assert.is(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), core, 'core_pattern untouched');
});

test('hostile: /dev/shm -> /etc and /dev/mqueue -> /root in the image\'s /dev stay inside the rootfs', () => {
  const rootfs = rootfsCopy();
  symlinkSync('/etc', join(rootfs, 'dev/shm'));
  symlinkSync('/root', join(rootfs, 'dev/mqueue'));
  const before = hostState(['/etc', '/root']);
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts = c.mounts.filter((m: any) => m.destination !== '/dev');
    c.process.args = withMountinfo();
  });
  const { mi } = splitOut(runOk(b));
  assert.is(top(mi, '/etc').fstype, 'tmpfs', 'the shm tmpfs followed the link inside the rootfs');
  assert.is(top(mi, '/root').fstype, 'mqueue');
  assert.is(hostState(['/etc', '/root']), before);
});

test('bind sources with "..": cleaned like a path (runc filepath.Clean); relative ones from the bundle', () => {
  const host = tmpDir('dots');
  mkdirSync(join(host, 'a/b'), { recursive: true });
  writeFileSync(join(host, 'a/target'), 'reached\n');
  const rootfs = rootfsCopy();
  const b = sb.bundle((c) => {
    c.root = { path: rootfs, readonly: true };
    c.mounts.push(
      { destination: '/tmp/abs', type: 'bind', source: `${host}/a/b/../target`, options: ['bind', 'ro'] },
      { destination: '/tmp/rel', type: 'bind', source: `../../${host.split('/').pop()}/a/b/../target`, options: ['bind', 'ro'] },
    );
    c.process.args = withMountinfo('cat /tmp/abs /tmp/rel');
  });
  const { mi, rest } = splitOut(runOk(b));
  assert.equal(rest, ['reached', 'reached']);
  assert.is(top(mi, '/tmp/abs').root, join(host, 'a/target'));
});

// ── features ──────────────────────────────────────────────────────────────────────────────────────────────────

test('features lists every mount option and extension exercised here', () => {
  const r = sb.rt(['features']);
  assert.is(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  for (const o of ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'noatime', 'atime', 'nodiratime', 'relatime',
    'strictatime', 'sync', 'async', 'dirsync', 'mand', 'remount', 'bind', 'rbind', 'shared', 'rshared', 'slave', 'rslave',
    'private', 'rprivate', 'unbindable', 'runbindable', 'rro', 'rrw', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime', 'rstrictatime',
    'rnosymfollow', 'nosymfollow', 'lazytime', 'tmpcopyup', 'idmap', 'ridmap']) {
    assert.ok(f.mountOptions.includes(o), o);
  }
  assert.equal(f.linux.mountExtensions, { idmap: { enabled: true } });
});

test.run();
