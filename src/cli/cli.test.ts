/**
 * The CLI as callers see it: argv in, stdout/stderr/--log and exit status out. Spawns bin/tsrun; needs no root
 * (nothing here creates a container).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKG } from '../testing/harness.js';
import { commands } from './commands/index.js';
import { validateConfig, validateFeatures } from '../spec/validate.js';

const BIN = join(PKG, 'bin', 'tsrun');
const tmp = mkdtempSync(join(tmpdir(), 'tsrun-cli-'));
const root = join(tmp, 'state');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const rt = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('--version: one line with "version", then commit: and spec: (dockerd parses them)', () => {
  const r = rt(['--version']);
  assert.is(r.status, 0);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^tsrun version \d+\.\d+\.\d+$/);
  assert.match(lines[1]!, /^commit: \S+$/);
  assert.match(lines[2]!, /^spec: 1\.\d+\.\d+/);
  assert.is(lines.filter((l) => l.includes('version')).length, 1);
  assert.is(rt(['-v']).stdout, r.stdout);
});

test('state of an unknown id: non-zero, runc wording, exactly one JSON error line in --log', () => {
  const log = join(tmp, 'log.json');
  const r = rt(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nosuch']);
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('container does not exist'));
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.is(lines.length, 1);
  const obj = JSON.parse(lines[0]!);
  assert.is(obj.level, 'error');
  assert.is(obj.msg, 'container does not exist');
  assert.ok(!Number.isNaN(Date.parse(obj.time)), 'RFC 3339 time');
  const t = rt(['--root', root, 'state', 'nosuch']);
  assert.match(t.stderr, /^time="[^"]+" level=error msg="container does not exist"\n$/);
});

test('bad flags, bad ids, bad log formats, wrong arity: clear errors, non-zero', () => {
  assert.ok(rt(['--root', root, 'state', 'a/b']).stderr.includes('invalid container ID format'));
  assert.ok(rt(['--log-format', 'xml', 'state', 'x']).stderr.includes('invalid log-format: xml'));
  assert.ok(rt(['--root', root, 'delete', '--nope', 'x']).stderr.includes('flag provided but not defined: -nope'));
  const s = rt(['--root', root, 'start']);
  assert.is(s.status, 1);
  assert.ok(s.stderr.includes('start\\" requires exactly 1 argument(s)'), s.stderr);
  assert.is(rt(['--root', root, 'delete', '--force', 'nosuch']).status, 0, 'delete --force of a missing container succeeds');
  assert.is(rt(['checkpoint', '--help']).status, 1, 'unimplemented commands are not registered (podman probes with --help)');
});

test('spec writes a config that validates, and refuses to overwrite it', () => {
  const b = join(tmp, 'specb');
  mkdirSync(b);
  assert.is(rt(['spec', '--bundle', b]).status, 0);
  const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  assert.equal(validateConfig(cfg), []);
  assert.is(cfg.process.capabilities.inheritable, undefined, 'no inheritable caps (CVE-2022-29162)');
  assert.ok(rt(['spec', '--bundle', b]).stderr.includes('File config.json exists. Remove it first.'));
  const rl = join(tmp, 'specr');
  mkdirSync(rl);
  assert.is(rt(['spec', '--rootless', '-b', rl]).status, 0);
  assert.ok(JSON.parse(readFileSync(join(rl, 'config.json'), 'utf8')).linux.namespaces.some((n: { type: string }) => n.type === 'user'));
});

test('features prints valid features JSON, indented by 4 spaces', () => {
  const r = rt(['features']);
  assert.is(r.status, 0);
  assert.ok(r.stdout.startsWith('{\n    "'));
  assert.equal(validateFeatures(JSON.parse(r.stdout)), []);
});

test('create with a bad config: exit 1, names the field, leaves no state dir', () => {
  const b = join(tmp, 'bad');
  mkdirSync(b);
  assert.is(rt(['spec', '--bundle', b]).status, 0);
  const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  cfg.process.cwd = 'relative/dir';
  writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
  const r = rt(['--root', root, 'create', '--bundle', b, 'badcfg']);
  assert.is(r.status, 1);
  assert.ok(r.stderr.includes('/process/cwd'), r.stderr);
  assert.not.ok(existsSync(join(root, 'badcfg')));
  writeFileSync(join(b, 'config.json'), '{ "ociVersion": "1.2.0", ');
  const j = rt(['--root', root, 'create', '--bundle', b, 'badjson']);
  assert.is(j.status, 1);
  assert.ok(j.stderr.includes('config.json'), j.stderr);
  assert.equal(existsSync(root) ? readdirSync(root) : [], []);
});

test('the caller environment cannot change behaviour: NODE_OPTIONS and friends are neutralised', () => {
  const env = { ...process.env, NODE_OPTIONS: '--require /nonexistent/preload.js', NODE_EXTRA_CA_CERTS: '/nonexistent.pem', PATH: '' };
  const r = rt(['--version'], env);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
});

test('every registered command has a description, a usage and renders --help', () => {
  for (const c of commands) {
    assert.ok(c.describe.length > 10, c.name);
    const h = rt([c.name, '--help']);
    assert.is(h.status, 0, c.name);
    assert.ok(h.stdout.includes(`tsrun ${c.name}`), c.name);
  }
});

test.run();
