import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Issue } from '../errors.js';
import { formatIssue } from '../errors.js';
import {
  PATTERN_TEXT, configWarnings, schemaIssues, validateConfig, validateFeatures, validateProcess, validateState,
} from './validate.js';
import { badCases, fixturesDir, goodConfigs, warnCases } from './corpus.js';
import type { Spec } from './types.js';

const show = (issues: Issue[]) => issues.map(formatIssue).join('\n  ');
const minimal = () => ({
  ociVersion: '1.2.1', root: { path: 'rootfs' },
  process: { cwd: '/', args: ['sh'], user: { uid: 0, gid: 0 } },
  linux: { namespaces: [{ type: 'mount' }] },
});

// ---- the corpus ----

test('corpus: at least 5 good and 45 bad configs', () => {
  assert.ok(goodConfigs().length >= 5, `good: ${goodConfigs().length}`);
  assert.ok(badCases().length >= 45, `bad: ${badCases().length}`);
});

test('corpus: every good config validates, without warnings', () => {
  for (const { name, config } of goodConfigs()) {
    const issues = validateConfig(config);
    assert.equal(issues, [], `${name}:\n  ${show(issues)}`);
    assert.equal(configWarnings(config as Spec), [], `${name} warnings:\n  ${show(configWarnings(config as Spec))}`);
  }
});

test('corpus: every bad config yields an issue at exactly its expectPointer', () => {
  for (const c of badCases()) {
    const issues = validateConfig(c.config);
    const hit = issues.find((i) => i.pointer === c.expectPointer);
    assert.ok(hit, `${c.name}: expected an issue at ${c.expectPointer}, got:\n  ${show(issues) || '(none)'}`);
    if (c.expectMessage) assert.ok(hit.message.includes(c.expectMessage), `${c.name}: message ${JSON.stringify(hit.message)} lacks ${JSON.stringify(c.expectMessage)}`);
    for (const i of issues) {
      assert.ok(i.message.length > 0 && !/^must NOT|undefined/.test(i.message), `${c.name}: poor message ${JSON.stringify(i.message)}`);
    }
  }
});

test('corpus: every warn config is valid and yields its warning', () => {
  for (const c of warnCases()) {
    assert.equal(validateConfig(c.config), [], `${c.name} must be valid`);
    const warnings = configWarnings(c.config as Spec);
    const hit = warnings.find((i) => i.pointer === c.expectPointer);
    assert.ok(hit, `${c.name}: expected a warning at ${c.expectPointer}, got:\n  ${show(warnings) || '(none)'}`);
    if (c.expectMessage) assert.ok(hit.message.includes(c.expectMessage), `${c.name}: ${hit.message}`);
  }
});

test('corpus: bad fixture names are unique and each has a description', () => {
  for (const c of badCases()) assert.ok(c.description && c.expectPointer.startsWith('/'), c.name);
});

// ---- messages: pointer, what was expected, what was seen ----

test('issue names the pointer, the expectation and the value seen', () => {
  const cfg = minimal() as Record<string, unknown>;
  (cfg.process as Record<string, unknown>).terminal = 'yes';
  assert.equal(validateConfig(cfg), [{ pointer: '/process/terminal', message: 'must be a boolean (true or false)', seen: 'yes' }]);
});

test('required property: pointer includes the missing name, no seen', () => {
  const cfg = minimal() as Record<string, unknown>;
  delete cfg.ociVersion;
  assert.equal(validateConfig(cfg), [{ pointer: '/ociVersion', message: 'is required' }]);
});

test('enum message lists the allowed values', () => {
  const cfg = minimal();
  (cfg.linux.namespaces[0] as { type: string }).type = 'net';
  const [i] = validateConfig(cfg);
  assert.equal(i?.pointer, '/linux/namespaces/0/type');
  assert.equal(i?.message, 'must be one of: pid, network, mount, ipc, uts, user, cgroup, time');
  assert.equal(i?.seen, 'net');
});

test('absolute-path message', () => {
  const cfg = { ...minimal(), hooks: { poststop: [{ path: 'cleanup.sh' }] } };
  assert.equal(validateConfig(cfg), [{ pointer: '/hooks/poststop/0/path', message: 'must be an absolute path', seen: 'cleanup.sh' }]);
});

test('uint64 bounds print exactly, not rounded', () => {
  const cfg = { ...minimal(), process: { ...minimal().process, oomScoreAdj: 1 } } as Record<string, unknown>;
  (cfg.linux as Record<string, unknown>).resources = { memory: { limit: 2 ** 64 } };
  const [i] = validateConfig(cfg);
  assert.equal(i?.message, 'must be <= 9223372036854775807');
});

test('anyOf noise collapses into one issue', () => {
  const cfg = { ...minimal(), linux: { namespaces: [{ type: 'mount' }], resources: { rdma: { mlx: {} } } } };
  assert.equal(validateConfig(cfg), [{ pointer: '/linux/resources/rdma/mlx', message: 'must set at least one of: hcaHandles, hcaObjects', seen: {} }]);
});

test('a key error points at the key and shows it', () => {
  const cfg = { ...minimal(), annotations: { '': 'x', ok: 'y' } };
  assert.equal(validateConfig(cfg), [{ pointer: '/annotations/', message: 'key must not be empty', seen: '' }]);
});

test('pointer tokens are escaped (RFC 6901)', () => {
  const cfg = { ...minimal(), annotations: { 'a/b~c': 3 } };
  assert.equal(validateConfig(cfg)[0]?.pointer, '/annotations/a~1b~0c');
});

test('all problems are reported at once', () => {
  const cfg = { ociVersion: 'x', root: {}, mounts: [{ destination: 'rel' }] };
  const pointers = validateConfig(cfg).map((i) => i.pointer).sort();
  assert.equal(pointers, ['/mounts/0/destination', '/ociVersion', '/root/path']);
});

test('non-object documents', () => {
  for (const doc of [null, [], 'x', 3]) {
    const issues = validateConfig(doc);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.pointer, '');
    assert.equal(issues[0]?.message, 'must be an object');
  }
});

test('schemaIssues drops if/propertyNames wrappers and duplicates', () => {
  const issues = schemaIssues([
    { instancePath: '/a', schemaPath: '#/if', keyword: 'if', params: { failingKeyword: 'then' } },
    { instancePath: '/a', schemaPath: '#/required', keyword: 'required', params: { missingProperty: 'b' } },
    { instancePath: '/a', schemaPath: '#/required', keyword: 'required', params: { missingProperty: 'b' } },
  ], { a: {} });
  assert.equal(issues, [{ pointer: '/a/b', message: 'is required' }]);
});

test('every pattern in schemas/ has a human message', () => {
  const dir = join(fixturesDir(), '../../../schemas');
  const patterns = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'pattern' && typeof v === 'string') patterns.add(v);
        else walk(v);
      }
    }
  };
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) walk(JSON.parse(readFileSync(join(dir, f), 'utf8')));
  assert.ok(patterns.size >= 8);
  for (const p of patterns) assert.ok(PATTERN_TEXT[p], `no PATTERN_TEXT for ${p}`);
});

// ---- extensibility and versions ----

test('unknown properties and annotations are accepted (runtime-tools misc_props)', () => {
  const cfg = { ...minimal(), 'com.example.x': { y: 1 }, annotations: { 'org.example.unknown': '' } };
  assert.equal(validateConfig(cfg), []);
});

test('ociVersion must be SemVer 2.0.0', () => {
  for (const v of ['1.0.0', '1.2.1', '1.0.2-dev', '1.1.0+dev', '1.0.0-rc.1+build.5', '0.1.0']) {
    assert.equal(validateConfig({ ...minimal(), ociVersion: v }), [], v);
  }
  for (const v of ['invalid', '1.0', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0+', '']) {
    assert.equal(validateConfig({ ...minimal(), ociVersion: v })[0]?.pointer, '/ociVersion', v);
  }
});

test('memory -1 and huge values are accepted', () => {
  const cfg = { ...minimal(), linux: { namespaces: [{ type: 'mount' }], resources: { memory: { limit: -1, swap: -1 }, pids: { limit: -1 } } } };
  assert.equal(validateConfig(cfg), []);
  const huge = JSON.parse('{"type":"RLIMIT_NOFILE","soft":18446744073709551615,"hard":18446744073709551615}');
  assert.equal(validateConfig({ ...minimal(), process: { ...minimal().process, rlimits: [huge] } }), []);
});

test('terminal false with consoleSize is allowed (ignored)', () => {
  assert.equal(validateConfig({ ...minimal(), process: { ...minimal().process, terminal: false, consoleSize: { height: 1, width: 2 } } }), []);
});

test('semantic checks run only on schema-valid configs', () => {
  // cwd is relative (a check) but ociVersion is bad (schema): only the schema issue is reported.
  const cfg = { ...minimal(), ociVersion: 'bad', process: { ...minimal().process, cwd: 'rel' } };
  assert.equal(validateConfig(cfg).map((i) => i.pointer), ['/ociVersion']);
});

// ---- process.json, state, features ----

test('validateProcess: exec --process file, pointers relative to it', () => {
  assert.equal(validateProcess({ cwd: '/', args: ['ls'], user: { uid: 0, gid: 0 } }), []);
  assert.equal(validateProcess({ cwd: 'tmp', args: ['ls'] }), [{ pointer: '/cwd', message: 'Cwd must be an absolute path', seen: 'tmp' }]);
  assert.equal(validateProcess({ cwd: '/', args: [] })[0]?.message, 'args must not be empty');
  assert.equal(validateProcess({ cwd: '/', args: ['x'], terminal: 1 })[0]?.pointer, '/terminal');
});

test('validateState: runc state output, paused, pid rules', () => {
  const state = { ociVersion: '1.2.1', id: 'c1', pid: 29658, status: 'running', bundle: '/b', rootfs: '/b/rootfs', created: '2026-11-22T21:12:00.123456789Z', owner: '' };
  assert.equal(validateState(state), []);
  assert.equal(validateState({ ...state, status: 'paused' }), []);
  assert.equal(validateState({ ...state, status: 'stopped', pid: 0, annotations: { a: 'b' } }), []);
  assert.equal(validateState({ ...state, status: 'exited' })[0]?.pointer, '/status');
  const { pid: _pid, ...noPid } = state;
  assert.equal(validateState(noPid), [{ pointer: '/pid', message: 'is required' }]);
  assert.equal(validateState({ ...noPid, status: 'stopped' }), []);
  assert.equal(validateState({ ...state, created: 'yesterday' })[0]?.pointer, '/created');
  assert.equal(validateState({ ...state, bundle: 'rel' })[0]?.pointer, '/bundle');
  assert.equal(validateState({ ...state, extra: 1 }), []);
});

test('validateFeatures: runc-shaped features document', () => {
  const features = {
    ociVersionMin: '1.0.0', ociVersionMax: '1.2.1',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['bind', 'rbind', 'ro', 'rro'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts', 'time'],
      capabilities: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
      seccomp: { enabled: true, actions: ['SCMP_ACT_ALLOW'], operators: ['SCMP_CMP_EQ'], archs: ['SCMP_ARCH_X86_64'], knownFlags: ['SECCOMP_FILTER_FLAG_LOG'], supportedFlags: [] },
      apparmor: { enabled: true }, selinux: { enabled: false },
      intelRdt: { enabled: true, schemata: true, monitoring: true },
      memoryPolicy: { modes: ['MPOL_BIND'], flags: ['MPOL_F_STATIC_NODES'] },
      mountExtensions: { idmap: { enabled: true } }, netDevices: { enabled: true },
    },
    potentiallyUnsafeConfigAnnotations: ['bundle', 'org.systemd.property.'],
    annotations: { 'org.opencontainers.runc.version': '1.2.1' },
  };
  assert.equal(validateFeatures(features), []);
  assert.equal(validateFeatures({ ociVersionMin: '1.0.0' }), [{ pointer: '/ociVersionMax', message: 'is required' }]);
  assert.equal(validateFeatures({ ...features, hooks: ['prestop'] })[0]?.pointer, '/hooks/0');
  assert.equal(validateFeatures({ ...features, linux: { namespaces: ['net'] } })[0]?.pointer, '/linux/namespaces/0');
});

// ---- start-up cost: the ajv compiler must never be loaded at run time ----

test('importing and using validate.js does not load the ajv compiler', () => {
  const validateUrl = new URL('./validate.js', import.meta.url).href;
  const code = `
    import { createRequire } from 'node:module';
    const t0 = performance.now();
    const { validateConfig, validateState } = await import(${JSON.stringify(validateUrl)});
    const ms = performance.now() - t0;
    validateConfig({ ociVersion: '1.2.1' }); validateConfig({ ociVersion: 'x', process: 1 }); validateState({});
    const loaded = Object.keys(createRequire(process.cwd() + '/').cache);
    console.log(JSON.stringify({ ms, loaded }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { loaded } = JSON.parse(r.stdout) as { ms: number; loaded: string[] };
  const compiler = loaded.filter((p) => /[/\\]ajv[/\\]dist[/\\](ajv|core|compile|vocabularies|standalone)/.test(p) || /[/\\]ajv[/\\]dist[/\\]ajv\.js$/.test(p));
  assert.equal(compiler, [], 'ajv compiler modules loaded at run time');
  // The generated code is also self-contained today: nothing from ajv at all.
  assert.equal(loaded.filter((p) => /[/\\]node_modules[/\\]ajv[/\\]/.test(p)), []);
});

test('the generated validators were built from the current schemas', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const r = spawnSync(process.execPath, [join(root, 'hack/gen-validators.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test.run();
