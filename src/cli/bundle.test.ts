/**
 * The bundle hack/build.mjs writes (dist/tsrun.cjs, dist/bundle/*.cjs): ASCII only. One non-ASCII character (a
 * comment esbuild keeps) makes V8 hold a whole command pack as a two-byte string — slower to read and decode,
 * twice the memory (docs/performance.md). Skipped when there is no bundle (a tsc-only build).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..');  // dist/src/cli → dist

test('every bundled file is ASCII', () => {
  const dir = join(dist, 'bundle');
  if (!existsSync(dir)) return;
  const files = [join(dist, 'tsrun.cjs'), ...readdirSync(dir).filter((f) => f.endsWith('.cjs')).map((f) => join(dir, f))];
  assert.ok(files.length > 2, 'the bundle has its chunks');
  for (const f of files) {
    const b = readFileSync(f);
    const i = b.findIndex((x) => x > 0x7f);
    assert.is(i, -1, `${f}: non-ASCII byte at offset ${i}: ${b.subarray(Math.max(0, i - 40), i + 10).toString('utf8')}`);
  }
});

test.run();
