/**
 * Docker end-to-end (opt-in: TSRUN_E2E=1, root, docker.io installed): runs hack/e2e-docker.sh, which starts a
 * private dockerd with `--add-runtime tsrun=<OCI_RUNTIME or bin/tsrun>` and checks docker run / exit codes /
 * 127 and 126 / -t / -i / logs / exec / stop / start / rm -f; every TAP line of the script becomes one test here.
 * Without TSRUN_E2E=1 this file only registers one skipped test (it takes ~15 s and needs a Docker install).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PKG, RUNTIME, isRoot } from './harness.js';

if (process.env.TSRUN_E2E !== '1' || !isRoot) {
  test.skip('docker end-to-end (opt-in: TSRUN_E2E=1 as root)', () => {});
} else {
  const r = spawnSync('sh', [join(PKG, 'hack/e2e-docker.sh')], {
    encoding: 'utf8', timeout: 600_000, env: { ...process.env, TSRUN: RUNTIME }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = String(r.stdout ?? '');
  const lines = out.split('\n');
  const skipAll = /^1\.\.0 # SKIP (.*)$/m.exec(out);
  if (skipAll) {
    test.skip(`docker end-to-end: ${skipAll[1]}`, () => {});
  } else {
    lines.forEach((l, i) => {
      const m = /^(not ok|ok) (\d+) - (.*)$/.exec(l);
      if (!m) return;
      const diag: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('  # '); j++) diag.push(lines[j]!.slice(4));
      test(`docker: ${m[3]}`, () => { assert.ok(m[1] === 'ok', diag.join('\n') || 'not ok'); });
    });
    test('docker: the e2e script ran to the end', () => {
      const bail = /^Bail out!.*$/m.exec(out);
      assert.not.ok(bail, `${bail?.[0]}\n${lines.filter((l) => l.startsWith('#')).join('\n')}\n${r.stderr}`);
      const plan = /^1\.\.(\d+)$/m.exec(out);
      assert.ok(plan, `no plan line; exit ${r.status} ${r.signal ?? ''}\n${out.slice(-2000)}\n${r.stderr}`);
      assert.is((out.match(/^(not )?ok \d+ - /gm) ?? []).length, Number(plan![1]));
    });
  }
}

test.run();
