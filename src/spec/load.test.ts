import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecInvalid, TsrunError } from '../errors.js';
import { loadConfig, parseConfig } from './load.js';
import { locateJsonError } from './json-error.js';
import { defaultSpec } from './defaults.js';

const dirs: string[] = [];
function bundle(config?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-spec-'));
  dirs.push(d);
  if (config !== undefined) writeFileSync(join(d, 'config.json'), config);
  return d;
}
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

test.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('loads a valid config', () => {
  const spec = defaultSpec();
  assert.equal(loadConfig(bundle(JSON.stringify(spec))), spec);
});

test('missing config.json: runc wording, ERR_TSRUN_SPEC_MISSING', () => {
  const e = thrown(() => loadConfig(bundle()));
  assert.instance(e, TsrunError);
  assert.is((e as TsrunError).code, 'ERR_TSRUN_SPEC_MISSING');
  assert.is((e as TsrunError).message, 'JSON specification file config.json not found');
});

test('config.json that cannot be read (a directory): Go-style errno text', () => {
  const d = bundle();
  mkdirSync(join(d, 'config.json'));
  const e = thrown(() => loadConfig(d)) as TsrunError;
  assert.is(e.code, 'ERR_TSRUN_SPEC_READ');
  assert.is(e.message, 'open config.json: is a directory');
});

test('bad JSON: SpecInvalid at pointer "" naming line and column', () => {
  const e = thrown(() => loadConfig(bundle('{\n  "ociVersion": "1.2.1",\n  "process": }\n'))) as SpecInvalid;
  assert.instance(e, SpecInvalid);
  assert.is(e.code, 'ERR_TSRUN_SPEC_INVALID');
  assert.is(e.issues[0]?.pointer, '');
  assert.is(e.issues[0]?.message, `not valid JSON: unexpected "}", expected a value at line 3, column 14 (offset 40)`);
  assert.match(e.message, /^config\.json: \/: not valid JSON/);
});

test('invalid config: SpecInvalid carrying every issue', () => {
  const e = thrown(() => loadConfig(bundle(JSON.stringify({ ociVersion: '1.2.1', root: { path: 'rootfs' }, process: { cwd: 'x', args: [] } })))) as SpecInvalid;
  assert.instance(e, SpecInvalid);
  assert.equal(e.issues.map((i) => i.pointer), ['/process/cwd', '/process/args']);
  assert.is(e.message, 'config.json: /process/cwd: Cwd must be an absolute path, got "x" (and 1 more)');
});

test('missing process: runc wording', () => {
  const e = thrown(() => loadConfig(bundle(JSON.stringify({ ociVersion: '1.2.1', root: { path: 'rootfs' } })))) as SpecInvalid;
  assert.is(e.message, 'config.json: /process: process property must not be empty');
});

test('parseConfig keeps unknown properties', () => {
  assert.equal(parseConfig('{"a":{"b":[1,null]}}'), { a: { b: [1, null] } });
});

test('locateJsonError finds the first syntax error', () => {
  const at = (s: string) => {
    const e = locateJsonError(s);
    return e && `${e.line}:${e.column} ${e.problem}`;
  };
  assert.is(at('{"a":1}'), undefined);
  assert.is(at(' [1, 2.5e3, -0, "x\\u00e9", true, false, null, {}] '), undefined);
  assert.is(at(''), '1:1 unexpected end of input');
  assert.is(at('{"a":1,}'), `1:8 unexpected "}", expected a property name in double quotes`);
  assert.is(at('{"a" 1}'), `1:6 unexpected "1", expected ':'`);
  assert.is(at('{"a":1'), '1:7 unexpected end of input');
  assert.is(at('{"a":1}}'), `1:8 unexpected "}", expected end of input`);
  assert.is(at('{"a":tru}'), `1:6 unexpected "t", expected a value`);
  assert.is(at('{"a":"b\nc"}'), '1:8 control character in string (escape it, e.g. \\n)');
  assert.is(at('[01]'), `1:3 unexpected "1", expected ',' or ']'`);
  assert.is(at('{"a":"\\x"}'), "1:7 bad escape '\\x' in string");
  assert.is(at('\ufeff{}'), `1:1 unexpected "\ufeff", expected a value`);
});

test('every JSON.parse failure is located', () => {
  for (const s of ['{', '[', '"', '{"a":}', '[1,]', 'nul', '-', '1.', '{"a":1 "b":2}', '{} x']) {
    let failed = false;
    try { JSON.parse(s); } catch { failed = true; }
    assert.ok(failed, s);
    assert.ok(locateJsonError(s), `not located: ${s}`);
  }
});

test.run();
