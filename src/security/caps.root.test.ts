/**
 * process.capabilities and noNewPrivileges in real containers: /proc/self/status inside must show exactly the
 * configured sets (security.md D9), for root and for a non-root user (the uid switch keeps the permitted set only
 * because capsBounding sets PR_SET_KEEPCAPS first), inheritable empty unless configured (CVE-2022-29162).
 * Needs root. OCI_RUNTIME=runc runs the same expectations against runc.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Sandbox } from '../testing/harness.js';
import { compile } from '../plan/compile.js';
import type { CompileContext } from '../plan/context.js';
import defaultConfig from '../plan/fixtures/default.config.json' with { type: 'json' };
import type { Spec } from '../spec/types.js';
import { CAPABILITIES } from '../plan/caps.js';

const sb = new Sandbox();
test.after(() => sb.cleanup());

const mask = (...names: string[]) => names.reduce((m, n) => m | (1n << BigInt(CAPABILITIES[n]!)), 0n);
const hex = (m: bigint) => m.toString(16).padStart(16, '0');
const STATUS = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status';

function status(edit: (c: any) => void): Record<string, string> {
  const b = sb.bundle((c) => {
    c.process.args = ['sh', '-c', STATUS];
    edit(c);
  });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
}

const hostBounding = () => BigInt('0x' + /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!);

test('root: exactly the configured sets; inheritable and ambient empty by default; no_new_privs', () => {
  const three = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const s = status((c) => { c.process.capabilities = { bounding: three, effective: three, permitted: three }; });
  const m = hex(mask(...three));
  assert.equal(s, { CapInh: hex(0n), CapPrm: m, CapEff: m, CapBnd: m, CapAmb: hex(0n), NoNewPrivs: '1' });
});

test('root: execve raises permitted and effective to the bounding set (the kernel\'s root rule); no_new_privs off', () => {
  const s = status((c) => {
    c.process.noNewPrivileges = false;
    c.process.capabilities = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'],
      permitted: ['CAP_CHOWN', 'CAP_KILL'],
      effective: ['CAP_KILL'],
    };
  });
  // capabilities(7): uid 0 execs as if the file had every capability, so P' = bounding (runc shows the same)
  const bnd = hex(mask('CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'));
  assert.equal(s, { CapInh: hex(0n), CapPrm: bnd, CapEff: bnd, CapBnd: bnd, CapAmb: hex(0n), NoNewPrivs: '0' });
});

test('non-root: ambient (needs inheritable + permitted) survives execve; keep-caps order works', () => {
  const nbs = ['CAP_NET_BIND_SERVICE'];
  const s = status((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = { bounding: ['CAP_KILL', ...nbs], effective: nbs, permitted: nbs, inheritable: nbs, ambient: nbs };
  });
  const m = hex(mask(...nbs));
  assert.equal(s, { CapInh: m, CapPrm: m, CapEff: m, CapBnd: hex(mask('CAP_KILL', ...nbs)), CapAmb: m, NoNewPrivs: '1' });
});

test('non-root without ambient: execve clears permitted and effective (as runc); bounding stays', () => {
  const two = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const s = status((c) => {
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [5] };
    c.process.capabilities = { bounding: two, effective: two, permitted: two };
  });
  assert.equal(s, { CapInh: hex(0n), CapPrm: hex(0n), CapEff: hex(0n), CapBnd: hex(mask(...two)), CapAmb: hex(0n), NoNewPrivs: '1' });
});

test('no process.capabilities: every set empty (runc), never the runtime\'s own', () => {
  assert.ok(hostBounding() !== 0n, 'the runtime itself has capabilities to leak');
  const s = status((c) => { delete c.process.capabilities; });
  assert.equal(s, { CapInh: hex(0n), CapPrm: hex(0n), CapEff: hex(0n), CapBnd: hex(0n), CapAmb: hex(0n), NoNewPrivs: '1' });
});

test('a capability newer than the kernel: skipped with a warning, the others applied (plan level)', () => {
  // This kernel has all 41; the plan is compiled for one whose cap_last_cap is 37 (CAP_AUDIT_READ, Linux 3.16).
  const spec = structuredClone(defaultConfig) as Spec;
  spec.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_BPF', 'CAP_PERFMON'], permitted: ['CAP_KILL', 'CAP_BPF'], effective: ['CAP_KILL'] };
  const ctx: CompileContext = {
    id: 'x', bundle: '/b', rootfs: '/b/rootfs', mode: 'create', foreground: false, subreaper: true, stateDir: '/run/x',
    noPivot: false, preserveFds: 0, listenFds: 0, cgroupProcs: [], cgroupMounts: { v1: [], links: [], v2: { hostPath: '/sys/fs/cgroup' } },
    log: false, logJson: false, lastCap: 37, sourceKind: () => 'dir',
  };
  const { plan, warnings } = compile(spec, ctx);
  assert.ok(warnings.includes("ignoring unknown or unavailable capabilities: [CAP_BPF CAP_PERFMON] (this kernel's cap_last_cap is 37)"), warnings.join('\n'));
  const bnd = plan.steps.find((x) => x.kind === 'capsBounding');
  const caps = plan.steps.find((x) => x.kind === 'caps');
  assert.is(bnd?.kind === 'capsBounding' && bnd.keep, mask('CAP_KILL'));
  assert.equal(caps?.kind === 'caps' && [caps.permitted, caps.effective, caps.inheritable, caps.ambient], [mask('CAP_KILL'), mask('CAP_KILL'), 0n, 0n]);
});

test('a capability the host cannot grant (outside our own bounding set) fails create cleanly', () => {
  const missing = Object.entries(CAPABILITIES).find(([, bit]) => !((hostBounding() >> BigInt(bit)) & 1n));
  if (!missing) return; // a host with every capability: nothing to show
  const b = sb.bundle((c) => { c.process.capabilities = { bounding: [missing[0]], permitted: [missing[0]], effective: [missing[0]] }; });
  const r = sb.rt(['run', '--bundle', b.dir, b.id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /operation not permitted/i);
});

test.run();
