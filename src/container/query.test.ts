import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { listContainers } from './query.js';

const root = mkdtempSync(join(tmpdir(), 'tsrun-list-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('list: a directory without state.json (being created, or deleted meanwhile) is skipped silently; an unreadable one with a warning', () => {
  mkdirSync(join(root, 'half-made'));
  mkdirSync(join(root, 'corrupt'));
  writeFileSync(join(root, 'corrupt', 'state.json'), 'garbage');
  const warnings: string[] = [];
  const log = { warn: (m: string) => void warnings.push(m) } as unknown as Logger;
  assert.equal(listContainers({ root, rootExplicit: true, log }), []);
  assert.equal(warnings, [`skipping corrupt: container state ${join(root, 'corrupt', 'state.json')} is not valid JSON`]);
});

test.run();
