/**
 * Bad input gets a clear error: random mutations of a valid config.json (fields deleted, values of the wrong type or
 * range, hostile strings, unknown properties) go through everything `create` does before it touches the host —
 * load, schema validation, the compiler, explain — and whatever fails must fail as a TsrunError with a message,
 * never as a TypeError or RangeError from deep inside. Seeded, so a failure reproduces; TSRUN_FUZZ_CONFIGS sets
 * the count (default 400).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { Logger } from '../log.js';
import { defaultSpec } from '../spec/defaults.js';
import { explainBundle } from './explain.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-cfgfuzz-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'rootfs'));
const env = { root: join(dir, 'state'), log: new Logger({ format: 'text', debug: false }), pkgRoot: join(dir, 'pkg'), debug: false, systemdCgroup: false };

const base = defaultSpec();
base.process!.terminal = false;
base.hooks = { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] };
base.linux!.resources = { pids: { limit: 100 }, memory: { limit: 1 << 26 }, devices: [{ allow: false, access: 'rwm' }] };
base.linux!.namespaces!.push({ type: 'user' });
base.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
base.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
base.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };

const VALUES: unknown[] = [null, 0, -1, 1, 2 ** 32, 2 ** 53, -(2 ** 31) - 1, 1.5, '', 'x', '../../etc', '/', '/proc/self',
  'a'.repeat(5000), true, false, [], {}, [1], ['a'], { a: 1 }, '\u0000', '-1', 'CAP_SYS_ADMIN', 'rbind', 'SIGKILL'];
const KEYS = ['type', 'path', 'source', 'destination', 'options', 'args', 'uid', 'limit', 'hostID', 'size', 'names',
  'action', 'timeout', 'major', 'access', 'sysctl', 'namespaces', 'uidMappings', 'timeOffsets', 'personality',
  'scheduler', 'ioPriority', 'execCPUAffinity', 'rootfsPropagation', 'maskedPaths', 'devices', 'resources',
  'consoleSize', 'oomScoreAdj', 'umask', 'additionalGids', 'hostname', 'domainname', 'cgroupsPath', 'rlimits'];

let seed = 20261125;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

type Json = Record<string, unknown> | unknown[];
function paths(o: unknown, pre: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (pre.length) out.push(pre);
  if (o && typeof o === 'object') for (const k of Object.keys(o)) paths((o as Record<string, unknown>)[k], [...pre, Array.isArray(o) ? Number(k) : k], out);
  return out;
}

function mutate(c: Json): string {
  const p = pick(paths(c));
  let parent = c as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const k = p[p.length - 1]!;
  const r = rnd();
  if (r < 0.25) {
    if (Array.isArray(parent)) parent.splice(k as number, 1); else delete parent[k];
    return `delete ${p.join('.')}`;
  }
  const target = parent[k];
  if (r < 0.75 || !target || typeof target !== 'object') {
    parent[k] = structuredClone(pick(VALUES));
    return `${p.join('.')} = ${JSON.stringify(parent[k])?.slice(0, 40)}`;
  }
  const nk = Array.isArray(target) ? target.length : pick(KEYS);
  (target as Record<string | number, unknown>)[nk] = structuredClone(pick(VALUES));
  return `${p.join('.')}.${nk} = ${JSON.stringify((target as Record<string | number, unknown>)[nk])?.slice(0, 40)}`;
}

test('the unmutated config compiles (or every case below would be a refusal)', () => {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(base));
  assert.match(explainBundle(env, { bundle: dir, id: 'fuzz', showEnv: false, json: false }), /unshare/);
});

test('mutated configs fail only with TsrunErrors that say something', () => {
  const n = Number(process.env.TSRUN_FUZZ_CONFIGS ?? 400);
  let compiled = 0, refused = 0;
  for (let i = 0; i < n; i++) {
    const c = structuredClone(base) as unknown as Json;
    const muts = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => mutate(c));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    try {
      explainBundle(env, { bundle: dir, id: 'fuzz', showEnv: false, json: i % 2 === 0 });
      compiled++;
    } catch (e) {
      if (!(e instanceof TsrunError) || !e.message.trim()) {
        assert.unreachable(`case ${i} (${muts.join('; ')}): ${(e as Error)?.stack ?? e}`);
      }
      refused++;
    }
  }
  // the generator must exercise both outcomes, or it tests nothing
  assert.ok(compiled > n / 20 && refused > n / 20, `compiled ${compiled}, refused ${refused}`);
});

test.run();
