import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePidFile } from './pidfile.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-pidfile-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('decimal digits, no newline, nothing else left in the directory', () => {
  writePidFile(join(dir, 'init.pid'), 4242);
  assert.is(readFileSync(join(dir, 'init.pid'), 'utf8'), '4242');
  writePidFile(join(dir, 'init.pid'), 17); // replaced atomically
  assert.is(readFileSync(join(dir, 'init.pid'), 'utf8'), '17');
  assert.equal(readdirSync(dir), ['init.pid']);
});

test('a directory that does not exist: Go\'s words, as runc prints them', () => {
  assert.throws(() => writePidFile(join(dir, 'missing', 'x.pid'), 1),
    (e: Error) => e.message === `open ${join(dir, 'missing', '.x.pid')}: no such file or directory`);
});

test('a target that cannot be replaced (a directory): named, and the temp file removed', () => {
  mkdirSync(join(dir, 'busy.pid'));
  assert.throws(() => writePidFile(join(dir, 'busy.pid'), 1), (e: Error) => e.message === `rename ${join(dir, 'busy.pid')}: is a directory`);
  assert.not.ok(readdirSync(dir).includes('.busy.pid'));
});

test.run();
