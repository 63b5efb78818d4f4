import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Spec } from '../spec/types.js';
import { compile } from './compile.js';
import type { CompileContext } from './context.js';
import { canonical, explain } from './explain.js';
import defaultConfig from './fixtures/default.config.json' with { type: 'json' };
import usernsConfig from './fixtures/userns.config.json' with { type: 'json' };

const ctx: CompileContext = {
  id: 'demo', bundle: '/b', rootfs: '/b/rootfs', mode: 'create', foreground: false, subreaper: true,
  stateDir: '/run/tsrun/demo', noPivot: false, preserveFds: 0, listenFds: 0,
  cgroupProcs: ['/sys/fs/cgroup/tsrun/demo/cgroup.procs'], cgroupMounts: { v1: [], links: [], v2: { hostPath: '/sys/fs/cgroup' } },
  log: false, logJson: false, lastCap: 40, sourceKind: () => 'dir',
};
const spec = (b: unknown = defaultConfig) => structuredClone(b) as Spec;

test('explain: header, host actions, numbered steps, folded runs', () => {
  const s = spec();
  s.process!.env!.push('SECRET=hunter2');
  const lines = explain(compile(s, ctx), { spec: s, ctx });
  const text = lines.join('\n');
  assert.match(lines[0]!, /^plan v1 · bundle \/b · container "demo" · 57 executor steps · create$/);
  assert.match(text, /host, before the executor starts/);
  assert.match(text, /fd 0 +\/run\/tsrun\/demo \(O_PATH directory\)/);
  assert.match(text, /\n +1  mkfifo +mkfifo \/run\/tsrun\/demo\/exec\.fifo\n/);
  assert.match(text, /CLONE_NEWNS\|CLONE_NEWCGROUP\|CLONE_NEWUTS\|CLONE_NEWIPC\|CLONE_NEWNET/);
  assert.match(text, /sessionKeyring +join session keyring _ses\.demo, searchable by its user\n/);
  assert.match(text, /\n +17–22  mknod +\/dev\/null c 1:3 0666 · \/dev\/random c 1:8 0666/);
  assert.match(text, /mask +\/proc\/acpi · \/proc\/asound .* +\[skip if missing\]/);
  assert.match(text, /caps bounding = KILL NET_BIND_SERVICE AUDIT_WRITE/);
  assert.match(text, /host  write the pidfile and state\.json \(created\)/);
  assert.match(text, /env PATH TERM SECRET HOME \(values hidden; --show-env\)/);
  assert.not.match(text, /hunter2/);
  assert.match(explain(compile(s, ctx), { spec: s, ctx, showEnv: true }).join('\n'), /SECRET=hunter2/);
  const unfolded = explain(compile(s, ctx), { spec: s, ctx, fold: false }).join('\n');
  assert.match(unfolded, /\n +17  mknod +mknod \/dev\/null c 1:3 0666\n/);
});

test('explain: idmap sync shows the mappings; warnings are listed', () => {
  const s = spec(usernsConfig);
  s.process!.capabilities!.bounding!.push('CAP_CHECKPOINT_RESTORE');
  const text = explain(compile(s, { ...ctx, lastCap: 39 }), { spec: s, ctx }).join('\n');
  assert.match(text, /sync +sync idmap: the host writes uid_map, gid_map\n +host  write uid_map 0 100000 65536; gid_map 0 200000 65536; then RESUME/);
  assert.match(text, /\nwarnings\n  ignoring unknown or unavailable capabilities: \[CAP_CHECKPOINT_RESTORE\]/);
  assert.match(text, /bind of the host node/);
});

test('canonical: one line per fd and step, every field in wire order', () => {
  const lines = canonical(compile(spec(), ctx).plan);
  assert.is(lines[0], 'plan v1 fds=2 slots=1 steps=57');
  assert.is(lines[1], 'fd 0 path "/run/tsrun/demo" dir');
  assert.is(lines[3], '1 mkfifo flags=0 label="mkfifo /run/tsrun/demo/exec.fifo" dir=0 name="exec.fifo" mode=402 uid=0 gid=0 slot=2');
  assert.ok(lines.includes('37 mask flags=1 label="mask /proc/acpi" path="/proc/acpi"'));
  assert.ok(lines.includes('7 sessionKeyring flags=0 label="join session keyring _ses.demo, searchable by its user" name="_ses.demo" permSet=524288'));
  assert.match(lines.at(-1)!, /^57 exec flags=0 label="exec sh -c \\"echo hello\\"" path="" argv=\["sh","-c","echo hello"\] envp=\[.*\] keepFds=3$/);
  assert.is(lines.length, 1 + 2 + 57);
  assert.equal(canonical(compile(spec(), ctx).plan), lines);
});

test.run();
