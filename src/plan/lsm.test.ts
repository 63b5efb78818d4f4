import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TsrunError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { describeFailure } from '../container/create.js';
import { compile } from './compile.js';
import type { CompileContext, LsmContext } from './context.js';
import { encodePlan } from './encode.js';
import { compileExec } from './exec.js';
import defaultConfig from './fixtures/default.config.json' with { type: 'json' };
import type { Step } from './steps.js';

const spec = (edit: (s: Spec) => void = () => {}): Spec => {
  const s = structuredClone(defaultConfig) as Spec;
  edit(s);
  return s;
};
const NONE: LsmContext = { apparmor: false, apparmorExecAttr: 'exec', selinux: false };
const APPARMOR: LsmContext = { apparmor: true, apparmorExecAttr: 'apparmor/exec', selinux: false };
const SELINUX: LsmContext = { apparmor: false, apparmorExecAttr: 'apparmor/exec', selinux: true };
const context = (lsm: LsmContext): CompileContext => ({
  id: 'demo', bundle: '/b', rootfs: '/b/rootfs', mode: 'create', foreground: false, subreaper: true,
  stateDir: '/run/tsrun/demo', noPivot: false, preserveFds: 0, listenFds: 0,
  cgroupProcs: ['/sys/fs/cgroup/tsrun/demo/cgroup.procs'], cgroupMounts: { v1: [], links: [], v2: { hostPath: '/sys/fs/cgroup' } },
  log: false, logJson: false, lastCap: 40, sourceKind: () => 'dir', lsm,
});
const labels = (steps: Step[]) => steps.filter((s): s is Extract<Step, { kind: 'lsmLabel' }> => s.kind === 'lsmLabel').map((s) => [s.attr, s.value]);
const at = (steps: Step[], kind: Step['kind']) => steps.findIndex((s) => s.kind === kind);
const SE = 'system_u:system_r:container_t:s0:c1,c2';

test('no label in the config: no lsmLabel step, whatever the host', () => {
  for (const lsm of [NONE, APPARMOR, SELINUX]) assert.equal(labels(compile(spec(), context(lsm)).plan.steps), []);
});

test('apparmorProfile: "exec <profile>" to the attr detection chose, after the hostname, before sysctl', () => {
  const s = compile(spec((c) => { c.process!.apparmorProfile = 'docker-default'; c.linux!.sysctl = { 'kernel.shmmax': '1' }; }), context(APPARMOR)).plan.steps;
  assert.equal(labels(s), [['apparmor/exec', 'exec docker-default']]);
  assert.ok(at(s, 'hostname') < at(s, 'lsmLabel') && at(s, 'lsmLabel') < at(s, 'sysctl'));
  assert.ok(at(s, 'lsmLabel') < at(s, 'caps'), 'while privileged');
  // runc writes the attribute even without AppArmor (no IsEnabled check on Linux): the kernel's error fails create
  assert.equal(labels(compile(spec((c) => { c.process!.apparmorProfile = 'p'; }), context(NONE)).plan.steps), [['exec', 'exec p']]);
});

test('selinuxLabel: refused with runc\'s validator text when SELinux is off; an exec-label step when on', () => {
  try {
    compile(spec((c) => { c.process!.selinuxLabel = SE; }), context(NONE));
    assert.unreachable('refused');
  } catch (e) {
    assert.instance(e, TsrunError);
    assert.match((e as Error).message, /selinux label is specified in config, but selinux is disabled or not supported/);
  }
  const s = compile(spec((c) => { c.process!.selinuxLabel = SE; c.process!.noNewPrivileges = false; }), context(SELINUX)).plan.steps;
  // runc SetKeyLabel: the session keyring is made with the process label, which is reset right after
  assert.equal(labels(s), [['keycreate', SE], ['keycreate', ''], ['exec', SE]]);
  const key = at(s, 'sessionKeyring');
  assert.ok(s[key - 1]?.kind === 'lsmLabel' && s[key + 1]?.kind === 'lsmLabel', 'the keyring between the two keycreate writes');
  assert.ok(at(s, 'lsmLabel') < at(s, 'capsBounding') && at(s, 'lsmLabel') < at(s, 'user'), 'before finalizeNamespace (runc)');
  // the contract: encodes (STEP_CODE 43, "ss")
  const bytes = encodePlan(compile(spec((c) => { c.process!.selinuxLabel = SE; }), context(SELINUX)).plan);
  assert.ok(Buffer.from(bytes).includes(Buffer.from(SE)));
});

test('mountLabel: context="…" on tmpfs and devpts (not proc, sysfs, mqueue, cgroup) with SELinux; a warning without', () => {
  const ml = 'system_u:object_r:container_file_t:s0';
  const on = compile(spec((c) => { c.linux!.mountLabel = ml; }), context(SELINUX)).plan.steps;
  const data = Object.fromEntries(on.filter((s): s is Extract<Step, { kind: 'mount' }> => s.kind === 'mount').map((m) => [m.target, m.data]));
  assert.is(data['/dev'], `mode=755,size=65536k,context="${ml}"`);
  assert.ok(data['/dev/pts']!.endsWith(`,context="${ml}"`));
  assert.ok(data['/dev/shm']!.endsWith(`,context="${ml}"`));
  for (const t of ['/proc', '/sys', '/dev/mqueue']) assert.not.ok(data[t]!.includes('context='), t);
  const off = compile(spec((c) => { c.linux!.mountLabel = ml; }), context(NONE));
  assert.not.ok(off.plan.steps.some((s) => s.kind === 'mount' && s.data.includes('context=')));
  assert.ok(off.warnings.some((w) => /mountLabel: SELinux is disabled or not supported/.test(w)));
});

test('exec: flags/process labels, else the container\'s; SELinux before seccomp and caps, AppArmor after caps', () => {
  const target = { namespaces: [{ type: 'mount' as const, path: '/proc/1/ns/mnt' }], cgroupProcs: [] };
  const ctx = { detach: true, preserveFds: 0, log: false, logJson: false, lastCap: 40, lsm: APPARMOR };
  const p = { cwd: '/', args: ['sh'], capabilities: { bounding: ['CAP_KILL'] } };
  const s = compileExec({ ...p, apparmorProfile: 'a', selinuxLabel: SE }, target, ctx).plan.steps;
  assert.equal(labels(s), [['exec', SE], ['apparmor/exec', 'exec a']]);
  const kinds = s.map((x) => x.kind);
  assert.ok(kinds.indexOf('lsmLabel') < kinds.indexOf('capsBounding') && kinds.lastIndexOf('lsmLabel') > kinds.indexOf('caps'));
  const inherited = compileExec(p, { ...target, containerProcess: { ...p, apparmorProfile: 'c' } }, ctx).plan.steps;
  assert.equal(labels(inherited), [['apparmor/exec', 'exec c']]);
  assert.equal(labels(compileExec(p, target, ctx).plan.steps), []);
});

test('a failed AppArmor write reads as runc\'s error, with the /proc/…/attr path podman looks for', () => {
  const plan = compile(spec((c) => { c.process!.apparmorProfile = 'p'; }), context(NONE)).plan;
  const step = plan.steps.findIndex((s) => s.kind === 'lsmLabel');
  const msg = describeFailure(plan, { step, errno: 22, op: 'write', path: '/proc/thread-self/attr/exec' });
  assert.is(msg, 'unable to start container process: error during container init: unable to apply apparmor profile: apparmor failed to apply profile: write /proc/thread-self/attr/exec: invalid argument');
  const refused = describeFailure(plan, { step, errno: 18, op: 'verify procfs', path: '/proc' });
  assert.match(refused, /apparmor profile p at exec\): verify procfs \/proc: invalid cross-device link$/);
});

test.run();
