import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checks, runChecks, runProcessChecks, warningChecks } from './index.js';
import { sysctlDotted, sysctlRefusal } from './sysctl.js';
import { countList } from './resources.js';
import { validNetDeviceName } from './namespaces.js';
import { unknownCapabilities } from './process.js';
import { badCases, warnCases } from '../corpus.js';
import { CAPABILITIES, RLIMITS } from '../known.js';
import type { NamespaceType, Spec } from '../types.js';

const spec = (ns: NamespaceType[], extra: Partial<Spec> = {}): Spec => ({
  ociVersion: '1.2.1', root: { path: 'rootfs' },
  process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } },
  linux: { namespaces: ns.map((type) => ({ type })) },
  ...extra,
});

test('every error check has at least one bad fixture that it alone catches', () => {
  // A fixture counts for a check when that check reports an issue at the fixture's expectPointer.
  checks.forEach((check, n) => {
    const hit = badCases().some((c) => {
      try {
        return check(c.config as Spec).some((i) => i.pointer === c.expectPointer);
      } catch {
        return false; // schema-invalid fixtures may have shapes a check does not expect
      }
    });
    assert.ok(hit, `check #${n} (${check.name || 'anonymous'}) has no bad fixture`);
  });
});

test('every warning check has a warn fixture', () => {
  warningChecks.forEach((check, n) => {
    assert.ok(warnCases().some((c) => check(c.config as Spec).some((i) => i.pointer === c.expectPointer)), `warning check #${n}`);
  });
});

test('a clean spec passes every check', () => {
  assert.equal(runChecks(spec(['pid', 'mount', 'ipc', 'uts', 'network'])), []);
});

// ---- namespaces ----

test('hostname with a joined uts namespace is fine (runc: Contains, not IsPrivate)', () => {
  const s = spec(['mount'], { hostname: 'h' });
  s.linux!.namespaces!.push({ type: 'uts', path: '/proc/1/ns/uts' });
  assert.equal(runChecks(s), []);
});

test('user namespace joined by path needs no mappings', () => {
  const s = spec(['mount']);
  s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' });
  assert.equal(runChecks(s), []);
});

test('net device names follow dev_valid_name()', () => {
  for (const ok of ['eth0', 'net%d', 'a', '123456789012345']) assert.ok(validNetDeviceName(ok), ok);
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', '1234567890123456']) assert.not.ok(validNetDeviceName(bad), bad);
});

// ---- sysctl ----

test('sysctl keys: "/" separator is converted like sysctl(8)', () => {
  assert.is(sysctlDotted('net/ipv4/ip_forward'), 'net.ipv4.ip_forward');
  assert.is(sysctlDotted('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  assert.is(sysctlDotted('net.ipv4.conf.eno2/100.rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  assert.is(sysctlDotted('kernel'), 'kernel');
});

test('sysctl rules follow runc', () => {
  const all = spec(['ipc', 'network', 'uts', 'user']);
  for (const k of ['kernel.msgmax', 'kernel.sem', 'kernel.shm_rmid_forced', 'fs.mqueue.queues_max', 'net.core.somaxconn', 'kernel.domainname', 'user.max_ipc_namespaces']) {
    assert.is(sysctlRefusal(all, k), undefined, k);
  }
  assert.match(sysctlRefusal(all, 'kernel.hostname') ?? '', /conflicts/);
  assert.match(sysctlRefusal(all, 'kernel.pid_max') ?? '', /not in a separate kernel namespace/);
  assert.match(sysctlRefusal(spec([]), 'kernel.domainname') ?? '', /not in a separate kernel namespace/);
  assert.match(sysctlRefusal(spec([]), 'kernel.msgmni') ?? '', /ipc namespace/);
});

// ---- process ----

test('process rules at a base pointer (exec --process)', () => {
  assert.equal(runProcessChecks({ cwd: '/', args: ['x'], env: ['A=1', 'B='] }), []);
  assert.equal(runProcessChecks({ cwd: '', args: ['x'] }, '/process').map((i) => i.message), ['Cwd property must not be empty']);
});

test('rlimits: every known name is accepted, soft == hard is fine', () => {
  const rlimits = RLIMITS.map((type) => ({ type, soft: 5, hard: 5 }));
  assert.equal(runProcessChecks({ cwd: '/', args: ['x'], rlimits }), []);
});

test('unknown capability warning lists the range and suggests a fix', () => {
  assert.is(CAPABILITIES.length, 41);
  const [w] = unknownCapabilities({ cwd: '/', capabilities: { ambient: ['sys_admin'] } }, '/process');
  assert.is(w?.pointer, '/process/capabilities/ambient/0');
  assert.match(w?.message ?? '', /CAP_CHOWN … CAP_CHECKPOINT_RESTORE/);
  assert.is(w?.hint, 'did you mean CAP_SYS_ADMIN?');
  assert.equal(unknownCapabilities({ cwd: '/', capabilities: { bounding: [...CAPABILITIES] } }, ''), []);
});

// ---- resources ----

test('countList parses cpu/node lists', () => {
  assert.is(countList(''), 0);
  assert.is(countList('0'), 1);
  assert.is(countList('0-3,7'), 5);
  assert.is(countList('0-3, 8-9'), 6);
  for (const bad of ['3-1', '1-', ',', 'a', '0,,1']) assert.is(countList(bad), undefined, bad);
});

test('MPOL_PREFERRED accepts zero or more nodes; MPOL_LOCAL none', () => {
  assert.equal(runChecks(spec(['mount'], { linux: { namespaces: [{ type: 'mount' }], memoryPolicy: { mode: 'MPOL_PREFERRED' } } })), []);
  assert.equal(runChecks(spec(['mount'], { linux: { namespaces: [{ type: 'mount' }], memoryPolicy: { mode: 'MPOL_PREFERRED', nodes: '1' } } })), []);
  assert.equal(runChecks(spec(['mount'], { linux: { namespaces: [{ type: 'mount' }], memoryPolicy: { mode: 'MPOL_LOCAL', nodes: '' } } })), []);
});

test('quota -1 (unlimited) with any burst is fine; swap -1 with a limit is fine', () => {
  const s = spec(['mount']);
  s.linux!.resources = { cpu: { quota: -1, burst: 1000 }, memory: { limit: 1000, swap: -1 } };
  assert.equal(runChecks(s), []);
});

test('intelRdt closID "/" is the root group', () => {
  const s = spec(['mount']);
  s.linux!.intelRdt = { closID: '/' };
  assert.equal(runChecks(s), []);
});

test.run();
