/**
 * config-linux.md: namespaces (new, absent, joined), user namespace id mappings, devices (configured and the
 * default ones), sysctl, maskedPaths, readonlyPaths, rootfsPropagation. Checked from inside the container.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Conformance, sh, deviates, RUNTIME } from './harness.js';

const sb = new Conformance();
test.after(() => sb.cleanup());

const NS_FILE: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };
const hostNs = (t: string) => readlinkSync(`/proc/self/ns/${NS_FILE[t]}`);
const readNs = (types: string[]) => types.map((t) => `readlink /proc/self/ns/${NS_FILE[t]}`).join('; ');

// ---- namespaces ----

test('namespaces: every listed type is new, every unlisted one is the host\'s', () => {
  const listed = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
  const out = sb.out(() => {}, readNs([...listed, 'user']));
  const inside = out.trim().split('\n');
  listed.forEach((t, i) => assert.is.not(inside[i], hostNs(t), `${t} is a new namespace`));
  assert.is(inside[listed.length], hostNs('user'), 'user (not listed) is shared with the host');
  const partial = sb.out((c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network' && n.type !== 'ipc'); }, readNs(['network', 'ipc', 'uts']));
  const [net, ipc, uts] = partial.trim().split('\n');
  assert.is(net, hostNs('network'), 'network not listed → host network namespace');
  assert.is(ipc, hostNs('ipc'));
  assert.is.not(uts, hostNs('uts'));
});

test('namespaces: a new network namespace has lo up with 127.0.0.1 (runc\'s loopback network); a joined one is left as it is', () => {
  const out = sb.out(() => {}, 'ip -o link show lo; ip -o -4 addr show lo');
  assert.match(out, /<LOOPBACK,UP,LOWER_UP>/, out);
  assert.match(out, /inet 127\.0\.0\.1\/8/, out);
  // a namespace given by path is the caller's: put lo down in one, then a container joining it finds it down
  const a = sb.started((c) => { c.process.args = ['sleep', '30']; });
  const net = (c: any) => { c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: `/proc/${sb.state(a.id).pid}/ns/net` } : n)); };
  sb.out((c) => { net(c); for (const k of ['bounding', 'effective', 'permitted']) c.process.capabilities[k].push('CAP_NET_ADMIN'); }, 'ip link set lo down');
  const joined = sb.out(net, 'ip -o link show lo');
  assert.not.match(joined, /[<,]UP[,>]/, joined);
});

test('namespaces: no namespaces at all (everything inherited, runtime-tools linux_ns_itype) runs, as with runc', () => {
  // Without a mount namespace the runtime mounts in its caller's: run it inside a private one (unshare -m).
  const b = sb.bundle((c) => {
    c.linux.namespaces = [];
    delete c.hostname;
    delete c.linux.maskedPaths;
    delete c.linux.readonlyPaths;
    c.process.args = sh(`${readNs(['mount', 'pid', 'network'])}; test -x /bin/busybox && echo in-rootfs`);
  });
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'readlink /proc/self/ns/mnt; exec "$0" --root "$1" run --bundle "$2" "$3"', RUNTIME, sb.root, b.dir, b.id], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const [callerMnt, mnt, pid, net, marker] = r.stdout.trim().split('\n');
  assert.is(mnt, callerMnt, 'the caller\'s mount namespace');
  assert.is(pid, hostNs('pid'));
  assert.is(net, hostNs('network'));
  assert.is(marker, 'in-rootfs', 'the root is still the bundle rootfs');
});

test('namespaces: maskedPaths without a mount namespace are refused (runc wording)', () => {
  const b = sb.bundle((c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount'); });
  const r = sb.rt(['create', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /unable to restrict sys entries without a private MNT namespace/);
});

test('namespaces: in a new pid namespace the program is pid 1', () => {
  assert.is(sb.out(() => {}, 'echo $$'), '1\n');
});

test('namespaces: a path joins an existing namespace (network, ipc, uts, pid)', () => {
  const a = sb.started((c) => { c.process.args = ['sleep', '30']; });
  const apid = sb.state(a.id).pid;
  const join = ['network', 'ipc', 'uts', 'pid'];
  const out = sb.out((c) => {
    delete c.hostname;
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (join.includes(n.type) ? { type: n.type, path: `/proc/${apid}/ns/${NS_FILE[n.type]}` } : n));
  }, `${readNs(join)}; echo $$`);
  const got = out.trim().split('\n');
  join.forEach((t, i) => assert.is(got[i], readlinkSync(`/proc/${apid}/ns/${NS_FILE[t]}`), `${t} joined`));
  assert.is.not(got[join.length], '1', 'in a joined pid namespace the program is not pid 1');
});

test('namespaces: a path that does not exist, or is a namespace of another type, fails create', () => {
  const missing = sb.bundle((c) => { c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/proc/999999999/ns/net' } : n)); });
  assert.is.not(sb.rt(['create', '--bundle', missing.dir, missing.id]).status, 0, 'missing path');
  assert.is(sb.status(missing.id), 'gone');
  const wrong = sb.bundle((c) => { c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/ipc' } : n)); });
  assert.is.not(sb.rt(['create', '--bundle', wrong.dir, wrong.id]).status, 0, 'an ipc namespace given as network');
  assert.is(sb.status(wrong.id), 'gone');
});

test('namespaces: the same type listed twice is refused', () => {
  const b = sb.bundle((c) => { c.linux.namespaces.push({ type: 'uts' }); });
  assert.is.not(sb.rt(['create', '--bundle', b.dir, b.id]).status, 0);
});

deviates(['runc'], 'time namespaces are runtime-spec 1.2; runc 1.1.5 does not support them', 'namespaces: a new time namespace with timeOffsets', () => {
  const out = sb.out((c) => {
    c.linux.namespaces.push({ type: 'time' });
    c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
  }, `${readNs(['time'])}; cat /proc/uptime`);
  const [ns, uptime] = out.trim().split('\n');
  assert.is.not(ns, hostNs('time'));
  const hostUp = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  assert.ok(Number(uptime!.split(' ')[0]) >= hostUp + 86400 * 364, `uptime inside ${uptime} vs host ${hostUp}`);
});

// ---- user namespace and id mappings ----

const userns = (c: any) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
};

test('user namespace: uid/gid mappings are written; root inside is the mapped host id outside', () => {
  const out = sb.out(userns, `cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; ${readNs(['user'])}`);
  const ls = out.trim().split('\n');
  assert.equal(ls[0]!.trim().split(/\s+/), ['0', '100000', '65536']);
  assert.equal(ls[1]!.trim().split(/\s+/), ['0', '200000', '1000']);
  assert.is(ls[2], '0');
  assert.is(ls[3], '0');
  assert.is.not(ls[4], hostNs('user'));
  // Seen from the host, the waiting init of a created container runs as the mapped ids.
  const b = sb.created((c) => { userns(c); c.process.args = ['sleep', '30']; });
  const status = readFileSync(`/proc/${sb.state(b.id).pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
  assert.match(status, /^Gid:\s+200000\s+200000\s+200000\s+200000$/m);
});

test('user namespace: a non-root process.user inside it maps through', () => {
  const b = sb.created((c) => { userns(c); c.process.user = { uid: 1000, gid: 100 }; c.process.args = ['sleep', '30']; });
  assert.is(sb.rt(['start', b.id]).status, 0);
  const pid = sb.state(b.id).pid;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+101000\s/m);
  assert.match(status, /^Gid:\s+200100\s/m);
});

// ---- devices ----

test('devices: linux.devices nodes are created with type, major:minor, mode, owner', () => {
  const out = sb.out((c) => {
    c.linux.devices = [
      { path: '/dev/testnull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 1001 },
      { path: '/dev/sub/testzero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/testfifo', type: 'p', fileMode: 0o600 },
    ];
    // allow them in the device cgroup (the test bundle denies everything by default)
    c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' });
  }, "stat -c '%n %F %t:%T %a %u %g' /dev/testnull /dev/sub/testzero /dev/testfifo; echo x > /dev/sub/testzero && echo wrote; head -c 3 /dev/sub/testzero | od -An -tx1");
  const ls = out.trim().split('\n');
  assert.is(ls[0], '/dev/testnull character special file 1:3 620 1000 1001');
  assert.is(ls[1], '/dev/sub/testzero character special file 1:5 666 0 0');
  assert.match(ls[2]!, /^\/dev\/testfifo fifo 0:0 600 0 0$/);
  assert.is(ls[3], 'wrote');
  assert.is(ls[4]!.trim(), '00 00 00');
});

test('devices: the default devices and /dev symlinks exist', () => {
  const out = sb.out(() => {}, "stat -c '%n %F %t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo x > /dev/null && echo ok");
  const ls = out.trim().split('\n');
  assert.equal(ls.slice(0, 6), [
    '/dev/null character special file 1:3', '/dev/zero character special file 1:5', '/dev/full character special file 1:7',
    '/dev/random character special file 1:8', '/dev/urandom character special file 1:9', '/dev/tty character special file 5:0',
  ]);
  assert.equal(ls.slice(6, 11), ['/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2', 'pts/ptmx']);
  assert.is(ls[11], 'ok');
});

// ---- sysctl ----

test('sysctl: namespaced keys are set inside, the host is unchanged', () => {
  const hostFwd = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const hostShm = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const out = sb.out((c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': hostFwd.trim() === '1' ? '0' : '1', 'kernel.shmmax': '123456789', 'net.core.somaxconn': '1234' }; },
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/net/core/somaxconn');
  assert.equal(out.trim().split('\n'), [hostFwd.trim() === '1' ? '0' : '1', '123456789', '1234']);
  assert.is(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostFwd);
  assert.is(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShm);
});

test('sysctl: a key that is not namespaced, or a net.* key without a new network namespace, is refused', () => {
  const vm = sb.bundle((c) => { c.linux.sysctl = { 'vm.swappiness': '10' }; });
  assert.is.not(sb.rt(['create', '--bundle', vm.dir, vm.id]).status, 0, 'vm.swappiness');
  const net = sb.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  });
  assert.is.not(sb.rt(['create', '--bundle', net.dir, net.id]).status, 0, 'net.* in the host network namespace');
});

// ---- masked and read-only paths ----

test('maskedPaths: files read empty, directories are empty and read-only, missing paths are ignored', () => {
  // a readable /proc file this kernel has (not every kernel has /proc/kcore)
  const file = ['/proc/kcore', '/proc/timer_list', '/proc/sched_debug', '/proc/keys'].find((f) => existsSync(f))!;
  const out = sb.out((c) => { c.linux.maskedPaths = [file, '/sys/firmware', '/proc/no-such-entry']; },
    `wc -c < ${file}; ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>/dev/null; echo touch=$?`);
  const [kcore, n, t] = out.trim().split('\n');
  assert.is(kcore!.trim(), '0', `${file} reads nothing`);
  assert.is(n!.trim(), '0', '/sys/firmware is empty');
  assert.is.not(t, 'touch=0');
});

test('readonlyPaths: mounted read-only; missing paths are ignored', () => {
  const out = sb.out((c) => { c.linux.readonlyPaths = ['/proc/sys', '/proc/no-such-entry']; },
    'grep " /proc/sys " /proc/self/mounts; echo 1 > /proc/sys/kernel/domainname 2>/dev/null; echo write=$?');
  const ls = out.trim().split('\n');
  assert.match(ls[0]!, / \/proc\/sys proc ro[, ]/);
  assert.is(ls[1], 'write=1');
});

// ---- rootfsPropagation ----

/** The propagation tags of the container's "/" when the runtime runs in a private mount namespace whose root is rshared. */
function rootTags(prop: string): string {
  const b = sb.bundle((c) => {
    c.linux.rootfsPropagation = prop;
    c.process.args = sh('awk \'$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i; print "" }\' /proc/self/mountinfo');
  });
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --make-rshared / && exec "$0" --root "$1" run --bundle "$2" "$3"', RUNTIME, sb.root, b.dir, b.id], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('rootfsPropagation: slave and rslave make "/" a slave of the host', () => {
  for (const p of ['slave', 'rslave']) {
    const tags = rootTags(p);
    assert.match(tags, /master:\d+/, `${p}: ${tags}`);
    assert.not.match(tags, /shared:/);
  }
});

test('rootfsPropagation: private and rprivate', () => {
  for (const p of ['private', 'rprivate']) assert.is(rootTags(p), '', p);
});

deviates(['runc'], 'runc 1.1.5 leaves "/" private with rootfsPropagation shared (runtime-tools linux_rootfs_propagation fails on runc too)', 'rootfsPropagation: shared', () => {
  assert.match(rootTags('shared'), /shared:\d+/);
});

test.run();
