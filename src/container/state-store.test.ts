import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claim, ensureRoot, load, save, remove, listIds, nowRfc3339Nano, type StoredState } from './state-store.js';
import { validateId } from './id.js';
import { withLock } from './lock.js';
import { deriveStatus } from './status.js';
import { TsrunError } from '../errors.js';

const root = mkdtempSync(join(tmpdir(), 'tsrun-store-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const sample = (id: string): StoredState => ({
  schemaVersion: 1, id, ociVersion: '1.2.1', pid: 0, startTime: 0, bundle: '/b', rootfs: '/b/rootfs', created: nowRfc3339Nano(),
  owner: '', recorded: 'created', cgroup: { paths: {}, created: [] }, hooks: {}, sharedPidNs: false, namespaces: [], terminal: false,
});

test('ids are validated like runc', () => {
  for (const ok of ['a', 'A-b_c.d+e', '0', 'x'.repeat(255)]) assert.is(validateId(ok), ok);
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'é', '../x', 'x'.repeat(256)]) {
    assert.throws(() => validateId(bad), (e: unknown) => e instanceof TsrunError && e.message === 'invalid container ID format');
  }
});

test('state is written atomically and read back; no temp files remain', () => {
  ensureRoot(root);
  claim(root, 'c1');
  save(root, sample('c1'));
  assert.is(load(root, 'c1').id, 'c1');
  assert.equal(readdirSync(join(root, 'c1')), ['state.json']);
  assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(load(root, 'c1').created), 'RFC 3339 with nanoseconds');
});

test('a second claim of an id fails with runc wording; a missing id does not exist', () => {
  assert.throws(() => claim(root, 'c1'), /container with given ID already exists/);
  assert.throws(() => load(root, 'nope'), /container does not exist/);
  assert.equal(listIds(root), ['c1']);
  remove(root, 'c1');
  assert.equal(listIds(root), []);
});

test('20 concurrent creations of one id: exactly one wins', async () => {
  const attempt = () => withLock(join(root, 'race'), async () => { claim(root, 'race'); save(root, sample('race')); return 'won'; })
    .catch((e: Error) => e.message);
  const results = await Promise.all(Array.from({ length: 20 }, attempt));
  assert.is(results.filter((r) => r === 'won').length, 1);
  assert.is(results.filter((r) => r === 'container with given ID already exists').length, 19);
});

test('the lock serializes: holders never overlap', async () => {
  let inside = 0, maxInside = 0;
  await Promise.all(Array.from({ length: 10 }, () => withLock(join(root, 'serial'), async () => {
    inside++; maxInside = Math.max(maxInside, inside);
    await new Promise((r) => setTimeout(r, 5));
    inside--;
  })));
  assert.is(maxInside, 1);
});

test('status is derived: a dead pid is stopped, a dead creator means stopped', () => {
  const st = { ...sample('s'), pid: 2 ** 22 + 7, startTime: 1 };
  assert.is(deriveStatus(root, st), 'stopped');
  assert.is(deriveStatus(root, { ...st, recorded: 'creating', creator: { pid: process.pid, startTime: -1 } }), 'stopped');
});

test.run();
